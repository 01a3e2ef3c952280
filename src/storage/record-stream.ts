/**
 * Streams of checksummed records (record.ts) cut into chunks of any size, as
 * snapshots of the state machines travel: packing records into fixed-size
 * chunks, and framing chunks back into record payloads. Memory stays at about
 * one record plus one chunk whatever the stream's size.
 */
import { RECORD_HEADER_BYTES, readRecordAt } from './record.js';

/** Copies encoded records into chunks of exactly chunkBytesMax bytes (the last one shorter). */
export async function* packRecords(
  records: AsyncIterable<Uint8Array>,
  chunkBytesMax: number,
): AsyncIterableIterator<Uint8Array> {
  let chunk = new Uint8Array(chunkBytesMax);
  let filledBytes = 0;
  for await (const bytes of records) {
    let copiedBytes = 0;
    while (copiedBytes < bytes.byteLength) {
      const takeBytes = Math.min(chunkBytesMax - filledBytes, bytes.byteLength - copiedBytes);
      chunk.set(bytes.subarray(copiedBytes, copiedBytes + takeBytes), filledBytes);
      filledBytes += takeBytes;
      copiedBytes += takeBytes;
      if (filledBytes === chunkBytesMax) {
        yield chunk;
        chunk = new Uint8Array(chunkBytesMax);
        filledBytes = 0;
      }
    }
  }
  if (filledBytes > 0) yield chunk.subarray(0, filledBytes);
}

export interface FramedPayload {
  readonly payload: Buffer;
  /** Where the record starts in the whole stream. */
  readonly offsetBytes: number;
}

/** Cuts a stream of chunks into checksummed record payloads; damage throws the caller's error type. */
export class RecordFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes pending before another record can be complete; concatenating earlier would copy in vain. */
  private neededBytes = RECORD_HEADER_BYTES;
  /** Stream offset of the first pending byte. */
  private pendingOffsetBytes = 0;

  constructor(
    /** A larger record length is damage: checked before waiting for the payload, so it cannot make the reader buffer gigabytes. */
    private readonly payloadBytesMax: number,
    private readonly corruption: (offsetBytes: number, problem: string) => Error,
  ) {}

  get streamBytes(): number {
    return this.pendingOffsetBytes + this.pendingBytes;
  }

  *push(chunk: Uint8Array): Generator<FramedPayload> {
    this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes < this.neededBytes) return;
    const buffer = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    let offsetBytes = 0;
    for (;;) {
      const neededBytes = this.recordBytesAt(buffer, offsetBytes);
      if (buffer.byteLength - offsetBytes < neededBytes) {
        this.neededBytes = neededBytes;
        break;
      }
      const read = readRecordAt(buffer, offsetBytes);
      if (!read.ok) throw this.corruption(this.pendingOffsetBytes + offsetBytes, read.problem);
      yield { payload: read.payload, offsetBytes: this.pendingOffsetBytes + offsetBytes };
      offsetBytes = read.endOffsetBytes;
    }
    // Copied, so that a chunk the caller reuses cannot change what is pending.
    this.pending = offsetBytes === buffer.byteLength ? [] : [Buffer.from(buffer.subarray(offsetBytes))];
    this.pendingBytes = buffer.byteLength - offsetBytes;
    this.pendingOffsetBytes += offsetBytes;
  }

  /** The stream has ended: it must not end inside a record. */
  finish(): void {
    if (this.pendingBytes > 0) {
      throw this.corruption(
        this.pendingOffsetBytes,
        `the stream ends inside a record (${this.pendingBytes} bytes of it are there)`,
      );
    }
  }

  /** How many bytes from `offsetBytes` the record there takes, as far as can be told yet. */
  private recordBytesAt(buffer: Buffer, offsetBytes: number): number {
    if (buffer.byteLength - offsetBytes < RECORD_HEADER_BYTES) return RECORD_HEADER_BYTES;
    const payloadBytes = buffer.readUInt32BE(offsetBytes);
    if (payloadBytes === 0 || payloadBytes > this.payloadBytesMax) {
      throw this.corruption(
        this.pendingOffsetBytes + offsetBytes,
        `a record length of ${payloadBytes} bytes is outside 1..${this.payloadBytesMax}`,
      );
    }
    return RECORD_HEADER_BYTES + payloadBytes;
  }
}
