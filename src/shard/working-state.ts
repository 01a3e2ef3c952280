/**
 * The shard machine's state as the commands of one batch change it, before
 * the batch is written: every change is staged as an engine write, and every
 * read sees the changes staged before it, so that later commands of a batch
 * see what earlier ones did, and the whole batch still lands in one write.
 *
 * The config and the bucket states are replaced, never changed in place, so
 * the machine keeps showing the last written ones until it takes these after
 * the write. The dedup table is changed in place, as KvStateMachine does: if
 * the write then fails, the machine stops for good (StoreFailedError).
 */
import type { EngineWrite, KvEngine } from '../kv/engine.js';
import { mapKeyOf } from '../kv/engine.js';
import type { DedupTable } from '../kv/dedup-table.js';
import { DEDUP_FLOOR_CLIENT_ID, droppedClientWrites } from '../kv/dedup-table.js';
import type { DedupEntry } from '../kv/keyspace.js';
import { encodeDedupEntry } from '../kv/keyspace.js';
import type { LogIndex } from '../raft/types.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import type { BucketState, BucketStates } from './bucket-state.js';
import {
  bucketStateKey,
  clearPendingKey,
  CONFIG_KEY,
  dataKey,
  dedupKey,
  encodeBucketState,
  encodeStoredConfig,
} from './keyspace.js';

export class WorkingState {
  readonly writes: EngineWrite[] = [];
  /** Data values staged by this batch, by engine key (null: deleted). */
  private readonly staged = new Map<string, Uint8Array | null>();

  constructor(
    private readonly engine: KvEngine,
    readonly gid: GroupId,
    private currentConfig: ShardConfig,
    private currentStates: BucketStates,
    readonly dedup: DedupTable,
  ) {}

  get config(): ShardConfig {
    return this.currentConfig;
  }

  get states(): BucketStates {
    return this.currentStates;
  }

  readValue(bucket: BucketId, userKey: Uint8Array): Uint8Array | null {
    const key = dataKey(bucket, userKey);
    const pending = this.staged.get(mapKeyOf(key));
    return pending === undefined ? this.engine.get(key) : pending;
  }

  putValue(bucket: BucketId, userKey: Uint8Array, value: Uint8Array): void {
    const key = dataKey(bucket, userKey);
    this.staged.set(mapKeyOf(key), value);
    this.writes.push({ type: 'put', key, value });
  }

  deleteValue(bucket: BucketId, userKey: Uint8Array): void {
    const key = dataKey(bucket, userKey);
    this.staged.set(mapKeyOf(key), null);
    this.writes.push({ type: 'delete', key });
  }

  setConfig(config: ShardConfig): void {
    this.currentConfig = config;
    this.writes.push({ type: 'put', key: CONFIG_KEY, value: encodeStoredConfig(config) });
  }

  /** Replaces the whole state table, writing only the buckets whose state changed. */
  setStates(states: BucketStates): void {
    for (const bucket of this.currentStates.keys()) {
      if (!states.has(bucket)) this.writes.push({ type: 'delete', key: bucketStateKey(bucket) });
    }
    for (const [bucket, state] of states) {
      if (this.currentStates.get(bucket) !== state) {
        this.writes.push({ type: 'put', key: bucketStateKey(bucket), value: encodeBucketState(state) });
      }
    }
    this.currentStates = states;
  }

  /** Sets (or, with null, forgets) one bucket's state. */
  setState(bucket: BucketId, state: BucketState | null): void {
    const states = new Map(this.currentStates);
    if (state === null) states.delete(bucket);
    else states.set(bucket, state);
    this.setStates(states);
  }

  /** Records that `bucket`'s data range is to be cleared, so that a crash before the clear finishes it on open. */
  markClearPending(bucket: BucketId): void {
    this.writes.push({ type: 'put', key: clearPendingKey(bucket), value: new Uint8Array(0) });
  }

  /** Records the client's entry, and drops the clients it evicts (the table holds dedupClientsMax at most). */
  recordClient(clientId: string, entry: DedupEntry): void {
    const evicted = this.dedup.record(clientId, entry);
    this.writes.push(...droppedClientWrites(this.dedup, evicted, dedupKey));
    this.writes.push({ type: 'put', key: dedupKey(clientId), value: encodeDedupEntry(entry) });
  }

  /** Drops the clients idle for too long as of `index`: at every index, so that it depends on the log alone. */
  expireClients(index: LogIndex): void {
    this.writes.push(...droppedClientWrites(this.dedup, this.dedup.expire(index), dedupKey));
  }

  raiseDedupFloor(stampMs: number): void {
    if (stampMs <= this.dedup.stampMsFloor) return;
    this.dedup.raiseFloor(stampMs);
    const value = encodeDedupEntry(this.dedup.floorEntry());
    this.writes.push({ type: 'put', key: dedupKey(DEDUP_FLOOR_CLIENT_ID), value });
  }
}
