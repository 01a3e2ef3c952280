/**
 * Values as 64-bit signed integers, the way Redis reads them for INCR and
 * friends: decimal, an optional minus sign, no plus sign, no spaces, no
 * leading zeros, within [-2^63, 2^63 - 1]. Anything else is not an integer.
 * BigInt, because a JavaScript number loses integers past 2^53.
 */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** "-9223372036854775808" is the longest valid text. */
const INTEGER_TEXT_BYTES_MAX = 20;
const INTEGER_PATTERN = /^(0|-?[1-9][0-9]*)$/;

/** The integer `bytes` spell, or null when they spell none in range. */
export function parseInt64(bytes: Uint8Array): bigint | null {
  if (bytes.byteLength === 0 || bytes.byteLength > INTEGER_TEXT_BYTES_MAX) return null;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!INTEGER_PATTERN.test(text)) return null;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? null : value;
}

export function isInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

export function int64Bytes(value: bigint): Uint8Array {
  return Buffer.from(value.toString(), 'latin1');
}
