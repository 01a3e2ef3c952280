/**
 * The RESP commands that reach the store: GET, SET, DEL, APPEND, EXISTS.
 * Each turns into session calls and its outcome into the reply Redis gives.
 *
 * Multi-key commands (DEL, EXISTS) call the session once per key, one after
 * another: a session takes one call at a time, and keys may live in
 * different groups, so they are not atomic across keys as in Redis. A DEL
 * that fails half-way answers the error, and the keys before it stay
 * deleted.
 */
import type { RespReply } from './encoder.js';
import { bulk, error, integer, OK } from './encoder.js';
import { failureReply } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';

async function get(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.get(args[1]!);
  return outcome.ok ? bulk(outcome.value) : failureReply(outcome);
}

async function set(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  // Refuse NX/XX/EX/PX/KEEPTTL/GET rather than ignore them: ignoring NX or EX would silently do something else.
  if (args.length > 3) return error('ERR SET options are not supported yet');
  const outcome = await session.put(args[1]!, args[2]!);
  return outcome.ok ? OK : failureReply(outcome);
}

async function append(args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.append(args[1]!, args[2]!);
  return outcome.ok ? integer(outcome.value) : failureReply(outcome);
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

export const KV_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['get', { argumentsMin: 1, argumentsMax: 1, handle: get }],
  ['set', { argumentsMin: 2, argumentsMax: Infinity, handle: set }],
  ['append', { argumentsMin: 2, argumentsMax: 2, handle: append }],
  ['del', { argumentsMin: 1, argumentsMax: Infinity, handle: del }],
  ['exists', { argumentsMin: 1, argumentsMax: Infinity, handle: exists }],
]);
