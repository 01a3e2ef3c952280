/**
 * The bytes of a shard group's reply to a client, format version 1:
 *
 *   [u8 1][a KV reply, as src/kv/command-codec.ts writes it]   what the KV layer answered
 *   [u8 2][a shard error as JSON, UTF-8]                        wrongGroup, wrongVersion, ...
 *
 * KV replies keep their binary form (they are the hot path and the dedup
 * table's own bytes); shard errors are rare, and JSON keeps their several
 * shapes readable. Decoding is strict: a client must never act on a reply it
 * half understood.
 */
import { decodeReply, encodeReply } from '../kv/command-codec.js';
import type { KvReply } from '../kv/commands.js';
import { KvDecodeError } from '../kv/errors.js';
import type { ShardError, ShardReply } from './commands.js';
import { ShardDecodeError } from './errors.js';

const TAG_KV = 1;
const TAG_SHARD_ERROR = 2;
const SHARD_ERROR_CODES: ReadonlySet<string> = new Set([
  'wrongGroup',
  'wrongVersion',
  'notReady',
  'stale',
  'invalidCommand',
] satisfies ShardError['code'][]);

export function isShardError(reply: ShardReply): reply is { ok: false; error: ShardError } {
  return !reply.ok && SHARD_ERROR_CODES.has(reply.error.code);
}

export function encodeShardReply(reply: ShardReply): Buffer {
  if (isShardError(reply)) {
    return Buffer.concat([Uint8Array.of(TAG_SHARD_ERROR), Buffer.from(JSON.stringify(reply.error), 'utf8')]);
  }
  return Buffer.concat([Uint8Array.of(TAG_KV), encodeReply(reply as KvReply)]);
}

export function decodeShardReply(bytes: Uint8Array): ShardReply {
  const tag = bytes[0];
  const body = bytes.subarray(1);
  if (tag === TAG_KV) {
    try {
      return decodeReply(body);
    } catch (error) {
      // One error type for a reply that does not decode, whichever half of the format broke.
      if (error instanceof KvDecodeError) throw new ShardDecodeError('reply', error.problem);
      throw error;
    }
  }
  if (tag !== TAG_SHARD_ERROR) throw new ShardDecodeError('reply', `tag ${String(tag)} is unknown`);
  let error: unknown;
  try {
    error = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new ShardDecodeError('reply', 'a shard error is not JSON');
  }
  if (!isShardErrorShape(error)) throw new ShardDecodeError('reply', 'a shard error has no known code and message');
  return { ok: false, error };
}

function isShardErrorShape(value: unknown): value is ShardError {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as { code?: unknown; message?: unknown };
  return typeof code === 'string' && SHARD_ERROR_CODES.has(code) && typeof message === 'string';
}
