/**
 * The few DER (ASN.1 Distinguished Encoding Rules) encoders an X.509
 * certificate needs, each returning one complete TLV (tag, length, value).
 * DER allows exactly one encoding of each value: lengths in the fewest bytes,
 * integers without redundant leading bytes; TLS libraries refuse others.
 */

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Tag, length, value: the length in one byte below 128, else 0x80 + its byte count, then its bytes. */
export function tlv(tag: number, value: Uint8Array): Buffer {
  const length = value.byteLength;
  let lengthBytes: number[];
  if (length < 0x80) {
    lengthBytes = [length];
  } else {
    const digits: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
    lengthBytes = [0x80 | digits.length, ...digits];
  }
  return Buffer.concat([Buffer.from([tag, ...lengthBytes]), value]);
}

export function sequence(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(items));
}

export function set(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.set, Buffer.concat(items));
}

export function booleanTrue(): Buffer {
  return tlv(TAG.boolean, Buffer.from([0xff]));
}

/** A non-negative integer given as big-endian bytes (a serial number) or a small number. */
export function integer(value: Uint8Array | number): Buffer {
  let bytes = typeof value === 'number' ? smallIntegerBytes(value) : Buffer.from(value);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && bytes[start + 1]! < 0x80) start++;
  bytes = bytes.subarray(start);
  // The high bit set would make it negative in two's complement: a zero byte in front keeps it positive.
  if (bytes[0]! >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.integer, bytes);
}

function smallIntegerBytes(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`DER integer: ${value} is not a whole number >= 0`);
  const digits: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
  return Buffer.from(digits.length === 0 ? [0] : digits);
}

/** A BIT STRING whose bits are whole bytes (a signature, a key). */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), bytes]));
}

/** A BIT STRING of flags, bit 0 being the most significant bit of the first byte (keyUsage). */
export function flagBits(bitsSet: readonly number[]): Buffer {
  const highest = Math.max(...bitsSet);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bitsSet) bytes[Math.floor(bit / 8)]! |= 0x80 >> (bit % 8);
  // DER drops trailing zero bits: the first byte says how many bits of the last byte are unused.
  const unusedBits = 7 - (highest % 8);
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.octetString, bytes);
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
}

/** "2.5.29.17" -> its encoding: the first two arcs in one byte, then base 128 with a continuation bit. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)) {
    throw new RangeError(`DER: "${dotted}" is not an object identifier`);
  }
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const digits = [arc % 128];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) digits.unshift(0x80 | (rest % 128));
    bytes.push(...digits);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

/** X.509 times: UTCTime (two-digit year) up to 2049, GeneralizedTime from 2050, as RFC 5280 requires. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-11-27T09:41:27.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20261127094127
  return date.getUTCFullYear() < 2050
    ? tlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(TAG.generalizedTime, Buffer.from(`${digits}Z`, 'ascii'));
}

/** [n] around a whole encoding (EXPLICIT tagging: the inner TLV is kept). */
export function explicit(tagNumber: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, inner);
}

/** [n] replacing a primitive value's own tag (IMPLICIT tagging), as GeneralName's dNSName and iPAddress are. */
export function implicitPrimitive(tagNumber: number, value: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, value);
}
