/**
 * Reads a KV snapshot stream back into records, checking as it goes: every
 * record's checksum, the header first, the end record last with the counts of
 * what came between, and nothing after it. Chunks may be of any size and cut
 * records anywhere; memory stays at about one record plus one chunk.
 * Any damage is a KvSnapshotCorruptionError with the offset in the stream.
 */
import { RecordFramer } from '../storage/record-stream.js';
import { KvDecodeError, KvSnapshotCorruptionError } from './errors.js';
import type { SnapshotRecord } from './snapshot-format.js';
import { decodeSnapshotRecord, SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX } from './snapshot-format.js';

/** The records of a snapshot stream, header first and end last, each checked. */
export async function* readSnapshotRecords(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<SnapshotRecord> {
  const framer = new RecordFramer(
    SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX,
    (offsetBytes, problem) => new KvSnapshotCorruptionError(offsetBytes, problem),
  );
  const order = new RecordOrder();
  for await (const chunk of chunks) {
    for (const { payload, offsetBytes } of framer.push(chunk)) yield order.check(payload, offsetBytes);
  }
  framer.finish();
  order.finish(framer.streamBytes);
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
