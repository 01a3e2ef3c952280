/**
 * The shard machine's state as the engine holds it, read and written whole:
 * read back when a member opens its store, written from a snapshot's records
 * when it restores one, and emptied after a restore that failed midway.
 *
 * A restore replaces everything, so it raises the restore marker (synced)
 * before it clears anything, and lowers it in its last, synced batch: an
 * engine found with the marker up holds half of some state, matching no log
 * index, and is emptied on open, so that the node restores its snapshot again.
 */
import type { DedupLimits } from '../kv/dedup-table.js';
import { DedupTable } from '../kv/dedup-table.js';
import type { EngineWrite, KvEngine } from '../kv/engine.js';
import type { AppliedPosition, DedupEntry } from '../kv/keyspace.js';
import { decodeAppliedPosition, decodeDedupEntry, encodeAppliedPosition, encodeDedupEntry } from '../kv/keyspace.js';
import { TERM_UNKNOWN } from '../kv/state-machine.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import { emptyConfig } from '../meta/config.js';
import type { BucketState, BucketStates } from './bucket-state.js';
import { stateTableProblem } from './bucket-state.js';
import {
  AFTER_RESTORE_MARKER_RANGE,
  APPLIED_POSITION_KEY,
  BUCKET_STATE_RANGE,
  bucketDataRange,
  bucketOfKey,
  bucketStateKey,
  CLEAR_PENDING_RANGE,
  clearPendingKey,
  clientIdOf,
  CONFIG_KEY,
  dataKey,
  decodeBucketState,
  decodeLayout,
  decodeStoredConfig,
  DEDUP_RANGE,
  dedupKey,
  encodeBucketState,
  encodeLayout,
  encodeStoredConfig,
  LAYOUT_KEY,
  RESTORE_MARKER_KEY,
} from './keyspace.js';
import type { SnapshotRecord } from './snapshot-format.js';

/** Bytes of records per engine batch while restoring: bounded memory, few batches. */
export const RESTORE_BATCH_BYTES_MAX = 1024 * 1024;

/** What the machine holds besides the data. */
export interface StoredState {
  readonly position: AppliedPosition;
  readonly config: ShardConfig;
  readonly states: BucketStates;
  readonly dedup: DedupTable;
}

/** Index 0, config version 0, no buckets, no clients: a fresh store, or one emptied. */
export function emptyState(dedupLimits: DedupLimits): StoredState {
  return {
    position: { index: 0, term: TERM_UNKNOWN },
    config: emptyConfig(null),
    states: new Map(),
    dedup: new DedupTable(dedupLimits),
  };
}

/**
 * What `engine` holds for group `gid`, after emptying a store left by an
 * interrupted restore and finishing a bucket clear cut short by a crash. A
 * store of another group, or not written by a shard group, is refused.
 */
export async function readStoredState(engine: KvEngine, gid: GroupId, dedupLimits: DedupLimits): Promise<StoredState> {
  if (engine.get(RESTORE_MARKER_KEY) !== null) await engine.clear();
  await claimLayout(engine, gid);
  const storedPosition = engine.get(APPLIED_POSITION_KEY);
  const storedConfig = engine.get(CONFIG_KEY);
  const states = new Map<BucketId, BucketState>();
  for await (const { key, value } of engine.entries(BUCKET_STATE_RANGE)) {
    states.set(bucketOfKey(key), decodeBucketState(value));
  }
  const dedupEntries: [string, DedupEntry][] = [];
  for await (const { key, value } of engine.entries(DEDUP_RANGE)) {
    dedupEntries.push([clientIdOf(key), decodeDedupEntry(value)]);
  }
  const stored: StoredState = {
    position: storedPosition === null ? { index: 0, term: TERM_UNKNOWN } : decodeAppliedPosition(storedPosition),
    config: storedConfig === null ? emptyConfig(null) : decodeStoredConfig(storedConfig),
    states,
    dedup: new DedupTable(dedupLimits, dedupEntries),
  };
  const problem = stateTableProblem(stored.states, stored.config, gid);
  if (problem !== null) throw new Error(`shard state machine: the stored state is inconsistent: ${problem}`);
  await finishPendingClears(engine, stored.states);
  return stored;
}

/** Replaces everything `engine` holds with the snapshot's records, which end at `position`. */
export async function writeSnapshotState(
  engine: KvEngine,
  records: AsyncIterable<SnapshotRecord>,
  position: AppliedPosition,
  gid: GroupId,
  dedupLimits: DedupLimits,
): Promise<StoredState> {
  await engine.write([{ type: 'put', key: RESTORE_MARKER_KEY, value: new Uint8Array(0) }], { sync: true });
  await engine.clear(AFTER_RESTORE_MARKER_RANGE);
  let config = emptyConfig(null);
  const states = new Map<BucketId, BucketState>();
  const dedupEntries: [string, DedupEntry][] = [];
  let batch: EngineWrite[] = [];
  let batchBytes = 0;
  const put = (key: Uint8Array, value: Uint8Array): void => {
    batch.push({ type: 'put', key, value });
    batchBytes += key.byteLength + value.byteLength;
  };
  for await (const record of records) {
    switch (record.type) {
      case 'config':
        config = record.config;
        // Version 0 is what a missing key means, as in a fresh store.
        if (config.version > 0) put(CONFIG_KEY, encodeStoredConfig(config));
        break;
      case 'bucketState':
        states.set(record.bucket, record.state);
        put(bucketStateKey(record.bucket), encodeBucketState(record.state));
        break;
      case 'dedup':
        dedupEntries.push([record.clientId, record.entry]);
        put(dedupKey(record.clientId), encodeDedupEntry(record.entry));
        break;
      case 'pair':
        put(dataKey(record.bucket, record.key), record.value);
        break;
      case 'header':
      case 'end':
        break;
    }
    if (batchBytes >= RESTORE_BATCH_BYTES_MAX) {
      await engine.write(batch, { sync: false });
      batch = [];
      batchBytes = 0;
    }
  }
  // The last batch lowers the marker; synced, it also makes every earlier batch durable.
  put(APPLIED_POSITION_KEY, encodeAppliedPosition(position));
  put(LAYOUT_KEY, encodeLayout(gid));
  batch.push({ type: 'delete', key: RESTORE_MARKER_KEY });
  await engine.write(batch, { sync: true });
  return { position, config, states, dedup: new DedupTable(dedupLimits, dedupEntries) };
}

/** Empties a store whose restore failed midway, so that it holds what emptyState() describes. */
export async function emptyStore(engine: KvEngine, gid: GroupId): Promise<void> {
  // The marker stays up until the store is empty and claimed again, so a crash in between empties it on open.
  await engine.clear(AFTER_RESTORE_MARKER_RANGE);
  await engine.write(
    [
      { type: 'put', key: LAYOUT_KEY, value: encodeLayout(gid) },
      { type: 'delete', key: RESTORE_MARKER_KEY },
    ],
    { sync: true },
  );
}

/** Checks that `engine` is this group's shard store, making it so when the engine is empty. */
async function claimLayout(engine: KvEngine, gid: GroupId): Promise<void> {
  const stored = engine.get(LAYOUT_KEY);
  if (stored === null) {
    const entries = engine.entries();
    const firstEntry = await entries.next();
    await entries.return?.();
    if (firstEntry.done !== true) {
      throw new Error(
        'shard state machine: the store holds data but no shard layout key, so it was not written by a shard ' +
          'group (a plain kv group writes alike); give this member its own data directory',
      );
    }
    await engine.write([{ type: 'put', key: LAYOUT_KEY, value: encodeLayout(gid) }], { sync: true });
    return;
  }
  const layout = decodeLayout(stored);
  if (layout.gid !== gid) {
    throw new Error(
      `shard state machine: the store belongs to a member of group ${layout.gid}, not of group ${gid}; ` +
        'check the group id this member was started with, or give it its own data directory',
    );
  }
}

/** Finishes the bucket clears a crash interrupted (state-machine.ts says why they can be). */
async function finishPendingClears(engine: KvEngine, states: BucketStates): Promise<void> {
  const buckets: BucketId[] = [];
  for await (const { key } of engine.entries(CLEAR_PENDING_RANGE)) buckets.push(bucketOfKey(key));
  for (const bucket of buckets) {
    if (states.has(bucket)) throw new Error(`shard state machine: bucket ${bucket} is held and deleted at once`);
    await engine.clear(bucketDataRange(bucket));
    await engine.write([{ type: 'delete', key: clearPendingKey(bucket) }], { sync: false });
  }
}
