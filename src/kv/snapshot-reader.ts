/**
 * Reads a KV snapshot stream back into records, checking as it goes: every
 * record's checksum, the header first, the end record last with the counts of
 * what came between, and nothing after it. Chunks may be of any size and cut
 * records anywhere; memory stays at about one record plus one chunk.
 * Any damage is a KvSnapshotCorruptionError with the offset in the stream.
 */
import { RECORD_HEADER_BYTES, readRecordAt } from '../storage/record.js';
import { KvDecodeError, KvSnapshotCorruptionError } from './errors.js';
import type { SnapshotRecord } from './snapshot-format.js';
import { decodeSnapshotRecord, SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX } from './snapshot-format.js';

/** The records of a snapshot stream, header first and end last, each checked. */
export async function* readSnapshotRecords(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<SnapshotRecord> {
  const framer = new RecordFramer();
  const order = new RecordOrder();
  for await (const chunk of chunks) {
    for (const { payload, offsetBytes } of framer.push(chunk)) yield order.check(payload, offsetBytes);
  }
  framer.finish();
  order.finish(framer.streamBytes);
}

interface FramedPayload {
  readonly payload: Buffer;
  /** Where the record starts in the whole stream. */
  readonly offsetBytes: number;
}

/** Cuts a stream of chunks into checksummed record payloads. */
class RecordFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes pending before another record can be complete; concatenating earlier would copy in vain. */
  private neededBytes = RECORD_HEADER_BYTES;
  /** Stream offset of the first pending byte. */
  private pendingOffsetBytes = 0;

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
      const remainingBytes = buffer.byteLength - offsetBytes;
      const neededBytes = this.recordBytesAt(buffer, offsetBytes);
      if (remainingBytes < neededBytes) {
        this.neededBytes = neededBytes;
        break;
      }
      const read = readRecordAt(buffer, offsetBytes);
      if (!read.ok) throw new KvSnapshotCorruptionError(this.pendingOffsetBytes + offsetBytes, read.problem);
      yield { payload: read.payload, offsetBytes: this.pendingOffsetBytes + offsetBytes };
      offsetBytes = read.endOffsetBytes;
    }
    this.pending = offsetBytes === buffer.byteLength ? [] : [buffer.subarray(offsetBytes)];
    this.pendingBytes = buffer.byteLength - offsetBytes;
    this.pendingOffsetBytes += offsetBytes;
  }

  /** The stream has ended: it must not end inside a record. */
  finish(): void {
    if (this.pendingBytes > 0) {
      throw new KvSnapshotCorruptionError(
        this.pendingOffsetBytes,
        `the stream ends inside a record (${this.pendingBytes} bytes of it are there)`,
      );
    }
  }

  /** How many bytes from `offsetBytes` the record there takes, as far as can be told yet. */
  private recordBytesAt(buffer: Buffer, offsetBytes: number): number {
    if (buffer.byteLength - offsetBytes < RECORD_HEADER_BYTES) return RECORD_HEADER_BYTES;
    const payloadBytes = buffer.readUInt32BE(offsetBytes);
    // Checked before waiting for the payload: a damaged length must not make the reader buffer gigabytes.
    if (payloadBytes === 0 || payloadBytes > SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX) {
      throw new KvSnapshotCorruptionError(
        this.pendingOffsetBytes + offsetBytes,
        `a record length of ${payloadBytes} bytes is outside 1..${SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX}`,
      );
    }
    return RECORD_HEADER_BYTES + payloadBytes;
  }
}

/** Decodes payloads and holds them to the header-first, end-last order and the end record's counts. */
class RecordOrder {
  private headerSeen = false;
  private endSeen = false;
  private dedupCount = 0;
  private pairCount = 0;

  check(payload: Buffer, offsetBytes: number): SnapshotRecord {
    const fail = (problem: string): never => {
      throw new KvSnapshotCorruptionError(offsetBytes, problem);
    };
    let record: SnapshotRecord;
    try {
      record = decodeSnapshotRecord(payload);
    } catch (error) {
      if (error instanceof KvDecodeError) return fail(error.message);
      throw error;
    }
    if (this.endSeen) fail('a record follows the end record');
    if (!this.headerSeen && record.type !== 'header')
      fail(`the stream starts with a ${record.type} record, not the header`);
    switch (record.type) {
      case 'header':
        if (this.headerSeen) fail('a second header record');
        this.headerSeen = true;
        break;
      case 'dedup':
        this.dedupCount++;
        break;
      case 'pair':
        this.pairCount++;
        break;
      case 'end':
        if (record.dedupCount !== this.dedupCount || record.pairCount !== this.pairCount) {
          fail(
            `the end record counts ${record.dedupCount} dedup and ${record.pairCount} pair records, ` +
              `the stream held ${this.dedupCount} and ${this.pairCount}`,
          );
        }
        this.endSeen = true;
        break;
    }
    return record;
  }

  finish(streamBytes: number): void {
    if (!this.endSeen) {
      throw new KvSnapshotCorruptionError(streamBytes, 'the stream ends before its end record: it was cut short');
    }
  }
}
