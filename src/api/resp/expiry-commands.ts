/**
 * TTL and PTTL: the time a key has left, by the clock of the node that
 * serves the connection (expiry times are absolute wall-clock times, so two
 * nodes whose clocks differ answer differently). -2 when the key does not
 * exist, -1 when it never expires, as in Redis.
 */
import type { RespReply } from './encoder.js';
import { integer } from './encoder.js';
import { failureReply } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';

const KEY_ABSENT = -2;
const NO_EXPIRY = -1;
const MS_PER_SECOND = 1000;

async function timeLeft(key: Buffer, { session }: CommandContext, inMs: boolean): Promise<RespReply> {
  const outcome = await session.getWithExpiry(key);
  if (!outcome.ok) return failureReply(outcome);
  if (outcome.value.value === null) return integer(KEY_ABSENT);
  const remainingMs = outcome.value.remainingMs;
  if (remainingMs === null) return integer(NO_EXPIRY);
  // Redis rounds TTL to the nearest second.
  return integer(inMs ? remainingMs : Math.floor((remainingMs + MS_PER_SECOND / 2) / MS_PER_SECOND));
}

export const EXPIRY_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['ttl', { argumentsMin: 1, argumentsMax: 1, handle: (args, context) => timeLeft(args[1]!, context, false) }],
  ['pttl', { argumentsMin: 1, argumentsMax: 1, handle: (args, context) => timeLeft(args[1]!, context, true) }],
]);
