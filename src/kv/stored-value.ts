/**
 * How a value and its expiry time sit in the engine, under the value's data key:
 *
 *   value without expiry, first byte not 0xFE or 0xFF:  the value, as is
 *   value without expiry, first byte 0xFE or 0xFF:       [0xFE][value]
 *   value with expiry:                                   [0xFF][u64 BE expiresAtMs][value]
 *
 * Text values (UTF-8 never holds 0xFE or 0xFF) and every value written before
 * expiry existed stay byte for byte what they were, so snapshots and bucket
 * transfers carry stored values unchanged and old ones still read right;
 * only binary values starting with those two bytes pay one byte of escape.
 * (A binary value starting with 0xFE or 0xFF stored by a raftkv older than
 * this format would be misread; no such release was made.)
 *
 * An expired value stays on disk until a write to its key replaces or
 * deletes it: expiry is decided when a value is read or written, never by a
 * background sweep, which would need a log entry of its own to stay
 * deterministic across replicas.
 */
import { VALUE_BYTES_MAX } from './commands.js';

const ESCAPED = 0xfe;
const WITH_EXPIRY = 0xff;
const EXPIRY_HEADER_BYTES = 1 + 8;
/** The largest stored value: a value at the limit, with its expiry. */
export const STORED_VALUE_BYTES_MAX = VALUE_BYTES_MAX + EXPIRY_HEADER_BYTES;

export interface StoredValue {
  readonly value: Uint8Array;
  /** Wall-clock milliseconds since the epoch after which the value is gone; null when it never expires. */
  readonly expiresAtMs: number | null;
}

export function encodeStoredValue({ value, expiresAtMs }: StoredValue): Uint8Array {
  if (expiresAtMs !== null) {
    const stored = Buffer.alloc(EXPIRY_HEADER_BYTES + value.byteLength);
    stored[0] = WITH_EXPIRY;
    stored.writeUIntBE(Math.floor(expiresAtMs / 2 ** 32), 1, 4);
    stored.writeUInt32BE(expiresAtMs % 2 ** 32, 5);
    stored.set(value, EXPIRY_HEADER_BYTES);
    return stored;
  }
  if (value.byteLength === 0 || (value[0] !== ESCAPED && value[0] !== WITH_EXPIRY)) return value;
  const stored = new Uint8Array(1 + value.byteLength);
  stored[0] = ESCAPED;
  stored.set(value, 1);
  return stored;
}

/** What the engine holds under a data key; only this file writes those bytes, so bad ones are a bug. */
export function decodeStoredValue(stored: Uint8Array): StoredValue {
  if (stored.byteLength === 0) return { value: stored, expiresAtMs: null };
  if (stored[0] === ESCAPED) return { value: stored.subarray(1), expiresAtMs: null };
  if (stored[0] !== WITH_EXPIRY) return { value: stored, expiresAtMs: null };
  if (stored.byteLength < EXPIRY_HEADER_BYTES) {
    throw new Error(`stored value: ${stored.byteLength} bytes cannot hold the expiry header`);
  }
  const view = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const expiresAtMs = view.readUInt32BE(1) * 2 ** 32 + view.readUInt32BE(5);
  return { value: stored.subarray(EXPIRY_HEADER_BYTES), expiresAtMs };
}

/** Redis's rule: a value is gone once the clock is past its expiry time. */
export function isExpired(stored: StoredValue, nowMs: number): boolean {
  return stored.expiresAtMs !== null && nowMs > stored.expiresAtMs;
}
