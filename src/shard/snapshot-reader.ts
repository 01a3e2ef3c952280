/**
 * Reads a shard snapshot stream back into records, checking as it goes:
 * every record's checksum; the order (header, config, bucket states, dedup
 * entries, pairs, end); the end record's counts; and that the records
 * describe a state a group can be in: states only for buckets of the config,
 * agreeing with it on which are the group's, and pairs only in buckets the
 * group holds, each in the bucket its key hashes to. A stream this reader
 * accepts to the end is a valid state.
 *
 * Chunks may be of any size and cut records anywhere; memory stays at about
 * one record plus one chunk (and the set of client ids, which the machine
 * holds in memory anyway). Any damage is a ShardSnapshotCorruptionError with
 * the offset in the stream.
 */
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import { RecordFramer } from '../storage/record-stream.js';
import { bucketOf } from './bucket.js';
import type { BucketState } from './bucket-state.js';
import { stateTableProblem } from './bucket-state.js';
import { ShardDecodeError, ShardSnapshotCorruptionError } from './errors.js';
import type { SnapshotRecord, SnapshotRecordType } from './snapshot-format.js';
import { decodeSnapshotRecord, SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX } from './snapshot-format.js';

/** The records of a snapshot stream, header first and end last, each checked. */
export async function* readSnapshotRecords(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<SnapshotRecord> {
  const framer = new RecordFramer(
    SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX,
    (offsetBytes, problem) => new ShardSnapshotCorruptionError(offsetBytes, problem),
  );
  const checker = new RecordChecker();
  for await (const chunk of chunks) {
    for (const { payload, offsetBytes } of framer.push(chunk)) yield checker.check(payload, offsetBytes);
  }
  framer.finish();
  checker.finish(framer.streamBytes);
}

/** The order records must come in: each type may follow only those before it in this list. */
const SECTION_ORDER: readonly SnapshotRecordType[] = ['header', 'config', 'bucketState', 'dedup', 'pair', 'end'];

/** Decodes payloads and holds them to the order, the counts and the rules of a valid state. */
class RecordChecker {
  private section = -1;
  private gid: GroupId = 0;
  private appliedIndex = 0;
  private config: ShardConfig | null = null;
  private readonly states = new Map<BucketId, BucketState>();
  private lastStateBucket = -1;
  private readonly clientIds = new Set<string>();
  private pairCount = 0;

  check(payload: Buffer, offsetBytes: number): SnapshotRecord {
    let record: SnapshotRecord;
    try {
      record = decodeSnapshotRecord(payload);
    } catch (error) {
      if (error instanceof ShardDecodeError) throw new ShardSnapshotCorruptionError(offsetBytes, error.message);
      throw error;
    }
    const problem = this.problemWith(record);
    if (problem !== null) throw new ShardSnapshotCorruptionError(offsetBytes, problem);
    return record;
  }

  finish(streamBytes: number): void {
    if (this.section !== SECTION_ORDER.indexOf('end')) {
      throw new ShardSnapshotCorruptionError(streamBytes, 'the stream ends before its end record: it was cut short');
    }
  }

  private problemWith(record: SnapshotRecord): string | null {
    const section = SECTION_ORDER.indexOf(record.type);
    const repeatable = record.type === 'bucketState' || record.type === 'dedup' || record.type === 'pair';
    if (section < this.section || (section === this.section && !repeatable)) {
      return `a ${record.type} record after a ${SECTION_ORDER[this.section]} record`;
    }
    // Header and config are each required, so nothing may skip them.
    if (this.section < SECTION_ORDER.indexOf('config') && section > this.section + 1) {
      return `the stream has a ${record.type} record where the ${SECTION_ORDER[this.section + 1]} record belongs`;
    }
    this.section = section;
    switch (record.type) {
      case 'header':
        this.gid = record.gid;
        this.appliedIndex = record.appliedIndex;
        return null;
      case 'config':
        this.config = record.config;
        return null;
      case 'bucketState':
        return this.stateProblem(record.bucket, record.state);
      case 'dedup':
        if (this.clientIds.has(record.clientId)) return `client ${record.clientId} has two dedup records`;
        this.clientIds.add(record.clientId);
        if (record.entry.lastSeenIndex > this.appliedIndex) {
          return `client ${record.clientId} was last seen at index ${record.entry.lastSeenIndex}, after the snapshot`;
        }
        return null;
      case 'pair':
        return this.pairProblem(record.bucket, record.key);
      case 'end':
        return this.endProblem(record);
    }
  }

  private stateProblem(bucket: BucketId, state: BucketState): string | null {
    const config = this.config!;
    if (bucket >= config.buckets.length) return `a state for bucket ${bucket}, beyond config ${config.version}`;
    if (bucket <= this.lastStateBucket) return `bucket ${bucket}'s state follows bucket ${this.lastStateBucket}'s`;
    this.lastStateBucket = bucket;
    this.states.set(bucket, state);
    return null;
  }

  private pairProblem(bucket: BucketId, key: Uint8Array): string | null {
    const config = this.config!;
    if (!this.states.has(bucket)) return `a pair of bucket ${bucket}, which the group does not hold`;
    const keyBucket = bucketOf(key, config.buckets.length);
    if (keyBucket !== bucket) return `a pair filed under bucket ${bucket} whose key is in bucket ${keyBucket}`;
    this.pairCount++;
    return null;
  }

  private endProblem(record: Extract<SnapshotRecord, { type: 'end' }>): string | null {
    const tableProblem = stateTableProblem(this.states, this.config!, this.gid);
    if (tableProblem !== null) return tableProblem;
    if (
      record.stateCount !== this.states.size ||
      record.dedupCount !== this.clientIds.size ||
      record.pairCount !== this.pairCount
    ) {
      return (
        `the end record counts ${record.stateCount} states, ${record.dedupCount} dedup and ${record.pairCount} ` +
        `pairs; the stream held ${this.states.size}, ${this.clientIds.size} and ${this.pairCount}`
      );
    }
    return null;
  }
}
