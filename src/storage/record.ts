/**
 * The framing of every record raftkv writes to disk, in log segments and in
 * small state files alike:
 *
 *   [u32 BE payload length][u32 BE CRC-32 of the payload][payload]
 *
 * The length comes first so that a reader can skip from record to record; the
 * checksum tells a complete record from a torn or damaged one. A length of
 * zero is never written, so a run of zeros (what a filesystem may leave after
 * a crash past the last write) never reads as a record.
 *
 * Also here: the fixed-width integer fields that payloads are made of.
 */
import { crc32 } from 'node:zlib';

export const RECORD_HEADER_BYTES = 8;
/** The largest payload a u32 length can describe. */
export const RECORD_PAYLOAD_BYTES_MAX = 0xffff_ffff;

export function encodeRecord(payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.byteLength);
  record.set(payload, RECORD_HEADER_BYTES);
  return sealRecord(record);
}

/**
 * Fills in the header of `record`, whose payload the caller already wrote
 * after RECORD_HEADER_BYTES: encoders build a record in one buffer this way.
 */
export function sealRecord(record: Buffer): Buffer {
  const payloadBytes = record.byteLength - RECORD_HEADER_BYTES;
  if (payloadBytes <= 0 || payloadBytes > RECORD_PAYLOAD_BYTES_MAX) {
    throw new Error(`record: a payload of ${payloadBytes} bytes does not fit a record`);
  }
  record.writeUInt32BE(payloadBytes, 0);
  record.writeUInt32BE(crc32(record.subarray(RECORD_HEADER_BYTES)), 4);
  return record;
}

export type RecordRead =
  | { readonly ok: true; readonly payload: Buffer; readonly endOffsetBytes: number }
  | { readonly ok: false; readonly problem: string };

/** Reads the record that starts at `offsetBytes` of `bytes`, or says why there is no whole, intact one. */
export function readRecordAt(bytes: Buffer, offsetBytes: number): RecordRead {
  const availableBytes = bytes.byteLength - offsetBytes;
  if (availableBytes < RECORD_HEADER_BYTES) {
    return {
      ok: false,
      problem: `a record header needs ${RECORD_HEADER_BYTES} bytes but only ${availableBytes} remain`,
    };
  }
  const payloadBytes = bytes.readUInt32BE(offsetBytes);
  if (payloadBytes === 0) return { ok: false, problem: 'the record length is zero' };
  const endOffsetBytes = offsetBytes + RECORD_HEADER_BYTES + payloadBytes;
  if (endOffsetBytes > bytes.byteLength) {
    return {
      ok: false,
      problem: `the record length ${payloadBytes} runs past the end of the file (${bytes.byteLength} bytes)`,
    };
  }
  const payload = bytes.subarray(offsetBytes + RECORD_HEADER_BYTES, endOffsetBytes);
  const storedCrc = bytes.readUInt32BE(offsetBytes + 4);
  const actualCrc = crc32(payload);
  if (storedCrc !== actualCrc) {
    return { ok: false, problem: `checksum mismatch (stored ${hex32(storedCrc)}, computed ${hex32(actualCrc)})` };
  }
  return { ok: true, payload, endOffsetBytes };
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

const TWO_TO_32 = 2 ** 32;

/** Writes a non-negative safe integer as 8 bytes, big-endian. */
export function writeUint64(target: Buffer, offsetBytes: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`record: ${value} is not a u64 field value`);
  target.writeUInt32BE(Math.floor(value / TWO_TO_32), offsetBytes);
  target.writeUInt32BE(value % TWO_TO_32, offsetBytes + 4);
}

/** Reads what writeUint64 wrote; null when the value is beyond what a JavaScript number holds exactly. */
export function readUint64(source: Buffer, offsetBytes: number): number | null {
  const value = source.readUInt32BE(offsetBytes) * TWO_TO_32 + source.readUInt32BE(offsetBytes + 4);
  return Number.isSafeInteger(value) ? value : null;
}
