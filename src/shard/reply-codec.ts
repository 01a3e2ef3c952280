/**
 * The bytes of a shard group's reply to a client, format version 1:
 *
 *   [u8 1][a KV reply, as src/kv/command-codec.ts writes it]   what the KV layer answered
 *   [u8 2][a shard error as JSON, UTF-8]                        wrongGroup, wrongVersion, ...
 *
 * KV replies keep their binary form (they are the hot path and the dedup
 * table's own bytes); shard errors are rare, and JSON keeps their several
 * shapes readable. Decoding is strict (exact fields, exact types, strict
 * UTF-8): a client must never act on a reply it half understood.
 */
import { decodeReply, encodeReply } from '../kv/command-codec.js';
import type { KvReply } from '../kv/commands.js';
import { KvDecodeError } from '../kv/errors.js';
import { BUCKET_COUNT_MAX } from '../meta/config.js';
import { MetaDecodeError } from '../meta/errors.js';
import { field, fields, integer, list, oneOf, parseJsonBytes, text } from '../meta/json-shape.js';
import type { ShardError, ShardErrorCode, ShardReply } from './commands.js';
import { ShardDecodeError } from './errors.js';

const TAG_KV = 1;
const TAG_SHARD_ERROR = 2;
/** Longest text of a shard error (message, problem): ours are far shorter. */
const SHARD_ERROR_TEXT_CHARS_MAX = 4096;
/** Largest shard error: its texts, and a notReady's list of every bucket. */
const SHARD_ERROR_BYTES_MAX = 64 * 1024;

export function isShardError(reply: ShardReply): reply is { ok: false; error: ShardError } {
  return !reply.ok && Object.hasOwn(SHARD_ERROR_FIELDS, reply.error.code);
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
  try {
    return { ok: false, error: parseShardError(parseJsonBytes(body, 'shard error', SHARD_ERROR_BYTES_MAX)) };
  } catch (error) {
    if (error instanceof MetaDecodeError) throw new ShardDecodeError('reply', error.problem);
    throw error;
  }
}

type FieldKind = 'count' | 'countOrNull' | 'counts' | 'text';

/**
 * The fields of each shard error besides code and message. The mapped type
 * holds this table to ShardError: every code is here, with exactly its fields.
 */
const SHARD_ERROR_FIELDS: {
  readonly [C in ShardErrorCode]: {
    readonly [K in Exclude<keyof Extract<ShardError, { code: C }>, 'code' | 'message'>]-?: FieldKind;
  };
} = {
  wrongGroup: { bucket: 'countOrNull', gid: 'count', configVersion: 'count' },
  wrongVersion: { configVersion: 'count', requestedVersion: 'count' },
  notReady: { configVersion: 'count', bucketsInTransit: 'counts' },
  stale: { bucket: 'count', configVersion: 'count' },
  invalidCommand: { problem: 'text' },
};
const SHARD_ERROR_CODES = Object.keys(SHARD_ERROR_FIELDS) as ShardErrorCode[];

/**
 * Exactly the fields of its code, each of its kind: a client acts on them
 * (a wrongGroup's configVersion says how new a config to fetch), so one that
 * is missing or mistyped is a reply it must not half understand.
 */
function parseShardError(value: unknown): ShardError {
  const path = 'shard error';
  const code = oneOf(field(value, path, 'code'), `${path}.code`, SHARD_ERROR_CODES);
  const kinds: Record<string, FieldKind> = SHARD_ERROR_FIELDS[code];
  const record = fields(value, path, ['code', ...Object.keys(kinds), 'message']);
  const error: Record<string, unknown> = { code };
  for (const [key, kind] of Object.entries(kinds)) {
    const fieldPath = `${path}.${key}`;
    const fieldValue = record[key];
    switch (kind) {
      case 'count':
        error[key] = integer(fieldValue, fieldPath, 0);
        break;
      case 'countOrNull':
        error[key] = fieldValue === null ? null : integer(fieldValue, fieldPath, 0);
        break;
      case 'counts':
        error[key] = list(fieldValue, fieldPath, BUCKET_COUNT_MAX).map((item, k) =>
          integer(item, `${fieldPath}[${k}]`, 0),
        );
        break;
      case 'text':
        error[key] = text(fieldValue, fieldPath, SHARD_ERROR_TEXT_CHARS_MAX);
        break;
    }
  }
  error['message'] = text(record['message'], `${path}.message`, SHARD_ERROR_TEXT_CHARS_MAX);
  return error as unknown as ShardError;
}
