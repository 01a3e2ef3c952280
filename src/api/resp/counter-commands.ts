/**
 * INCR, INCRBY, DECR, DECRBY: one incrBy command each in the state machine,
 * which reads, adds and writes within one apply, so that concurrent clients
 * never lose an increment. The value is a 64-bit signed integer in decimal,
 * as in Redis; its expiry is kept.
 */
import type { RespReply } from './encoder.js';
import { error, integer } from './encoder.js';
import { failureReply, notAnInteger } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';
import { INT64_MIN, parseInt64 } from '../../kv/integer-value.js';

async function incrementBy(key: Buffer, delta: bigint, { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.incrBy(key, delta);
  return outcome.ok ? integer(outcome.value) : failureReply(outcome);
}

function incr(args: readonly Buffer[], context: CommandContext): Promise<RespReply> {
  return incrementBy(args[1]!, 1n, context);
}

function decr(args: readonly Buffer[], context: CommandContext): Promise<RespReply> {
  return incrementBy(args[1]!, -1n, context);
}

function incrby(args: readonly Buffer[], context: CommandContext): RespReply | Promise<RespReply> {
  const delta = parseInt64(args[2]!);
  return delta === null ? notAnInteger() : incrementBy(args[1]!, delta, context);
}

function decrby(args: readonly Buffer[], context: CommandContext): RespReply | Promise<RespReply> {
  const delta = parseInt64(args[2]!);
  if (delta === null) return notAnInteger();
  // Its negation does not fit in 64 bits; Redis's words for it.
  if (delta === INT64_MIN) return error('ERR decrement would overflow');
  return incrementBy(args[1]!, -delta, context);
}

export const COUNTER_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['incr', { argumentsMin: 1, argumentsMax: 1, handle: incr }],
  ['decr', { argumentsMin: 1, argumentsMax: 1, handle: decr }],
  ['incrby', { argumentsMin: 2, argumentsMax: 2, handle: incrby }],
  ['decrby', { argumentsMin: 2, argumentsMax: 2, handle: decrby }],
]);
