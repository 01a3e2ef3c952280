/**
 * The RESP string commands that reach the store: GET, SET, GETSET, GETDEL,
 * DEL, EXISTS, APPEND, STRLEN, MGET, MSET. Each turns into session calls and
 * its outcome into the reply Redis gives.
 *
 * SET's conditions and GET option, GETSET and GETDEL are one command each in
 * the state machine, so they are atomic as in Redis. Multi-key commands
 * (DEL, EXISTS, MGET, MSET) call the session once per key, one after
 * another: a session takes one call at a time, and keys may live in
 * different groups, so they are not atomic across keys as in Redis. A DEL or
 * MSET that fails half-way answers the error, and the keys before it stay
 * deleted or set; an MGET may see a write between two of its keys.
 */
import type { RespReply } from './encoder.js';
import { array, bulk, integer, NULL_BULK, OK } from './encoder.js';
import { failureReply, wrongArity } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';
import { parseSetOptions } from './set-options.js';

async function get(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.get(args[1]!);
  return outcome.ok ? bulk(outcome.value) : failureReply(outcome);
}

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL] */
async function set(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  if (args.length === 3) {
    // No options (redis-benchmark's SET, most caches' writes): a plain put, nothing to parse.
    const outcome = await session.put(args[1]!, args[2]!);
    return outcome.ok ? OK : failureReply(outcome);
  }
  const options = parseSetOptions(args.slice(3));
  if ('kind' in options) return options;
  // A plain SET takes the plain put: the most common write stays the smallest log entry.
  if (options.condition === 'always' && !options.returnPrevious && options.ttl.type === 'none') {
    const outcome = await session.put(args[1]!, args[2]!);
    return outcome.ok ? OK : failureReply(outcome);
  }
  const outcome = await session.set(args[1]!, args[2]!, options);
  if (!outcome.ok) return failureReply(outcome);
  // With GET the previous value is the answer, written or not (Redis 7); without, OK or nil.
  if (options.returnPrevious) return bulk(outcome.value.previous);
  return outcome.value.written ? OK : NULL_BULK;
}

/** GETSET key value: SET key value GET, so the expiry is cleared as in Redis. */
async function getset(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.set(args[1]!, args[2]!, {
    condition: 'always',
    ttl: { type: 'none' },
    returnPrevious: true,
  });
  return outcome.ok ? bulk(outcome.value.previous) : failureReply(outcome);
}

async function getdel(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.getDelete(args[1]!);
  return outcome.ok ? bulk(outcome.value) : failureReply(outcome);
}

async function append(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.append(args[1]!, args[2]!);
  return outcome.ok ? integer(outcome.value) : failureReply(outcome);
}

async function strlen(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.get(args[1]!);
  return outcome.ok ? integer(outcome.value?.byteLength ?? 0) : failureReply(outcome);
}

async function del(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  let existedCount = 0;
  for (const key of args.slice(1)) {
    const outcome = await session.delete(key);
    if (!outcome.ok) return failureReply(outcome);
    if (outcome.value) existedCount++;
  }
  return integer(existedCount);
}

/** Counts a key named twice twice, as Redis does. */
async function exists(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  let existingCount = 0;
  for (const key of args.slice(1)) {
    const outcome = await session.get(key);
    if (!outcome.ok) return failureReply(outcome);
    if (outcome.value !== null) existingCount++;
  }
  return integer(existingCount);
}

async function mget(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const values: RespReply[] = [];
  for (const key of args.slice(1)) {
    const outcome = await session.get(key);
    if (!outcome.ok) return failureReply(outcome);
    values.push(bulk(outcome.value));
  }
  return array(values);
}

/** MSET key value [key value ...]: each pair one plain put, in order. */
async function mset(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  if ((args.length - 1) % 2 !== 0) return wrongArity('mset');
  for (let index = 1; index < args.length; index += 2) {
    const outcome = await session.put(args[index]!, args[index + 1]!);
    if (!outcome.ok) return failureReply(outcome);
  }
  return OK;
}

export const KV_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['get', { argumentsMin: 1, argumentsMax: 1, handle: get }],
  ['set', { argumentsMin: 2, argumentsMax: Infinity, handle: set }],
  ['getset', { argumentsMin: 2, argumentsMax: 2, handle: getset }],
  ['getdel', { argumentsMin: 1, argumentsMax: 1, handle: getdel }],
  ['append', { argumentsMin: 2, argumentsMax: 2, handle: append }],
  ['strlen', { argumentsMin: 1, argumentsMax: 1, handle: strlen }],
  ['del', { argumentsMin: 1, argumentsMax: Infinity, handle: del }],
  ['exists', { argumentsMin: 1, argumentsMax: Infinity, handle: exists }],
  ['mget', { argumentsMin: 1, argumentsMax: Infinity, handle: mget }],
  ['mset', { argumentsMin: 2, argumentsMax: Infinity, handle: mset }],
]);
