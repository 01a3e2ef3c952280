/**
 * The shard group's state machine: what every replica of a shard group
 * applies from its log. It holds the data of the buckets the group holds,
 * each as one contiguous engine range (keyspace.ts), the current config, the
 * state of each bucket (bucket-state.ts) and the dedup table, and applies
 * client KV commands exactly once per (client id, sequence), as
 * KvStateMachine does, to the buckets it serves, alongside the group's own
 * decisions: a new config, a part of a bucket pulled from its previous
 * owner, the deletion of a bucket handed off (commands.ts).
 *
 * Durability is KvStateMachine's: each batch of entries is one atomic engine
 * write that carries the applied position, so the engine is always at some
 * exact log index with everything that goes with it, and a restart resumes
 * there. Writes are not fsynced by default; the Raft log is what makes an
 * entry durable, and an engine that loses its last unsynced batches comes
 * back at an earlier index, from which the node replays the log.
 *
 * The one exception is deleteBucket, whose data range may be too large for
 * one batch (a bucket has no size limit, and a batch is held in memory). Its
 * entry ends the batch's write: that write forgets the bucket's state and
 * records a clear-pending key for it, with the applied position at the
 * deleteBucket entry. Only then is the range cleared (engine.clear, which
 * LevelDB does in bounded batches of its own) and the pending key deleted;
 * the batch's later entries follow in another write. Crash-consistency:
 *   - a crash before that write leaves the engine at the previous position,
 *     with the bucket handingOff and its data whole: replay applies it again;
 *   - a crash after it, during the clear, leaves the engine at the
 *     deleteBucket's position with the bucket forgotten: the state is exact
 *     but for leftover pairs of a bucket no one reads (gets and exports check
 *     the state first, snapshots skip data of buckets without a state), and
 *     open() finishes the clear before anything else runs;
 *   - later entries of the batch write after the clear, so a bucket that
 *     comes back to the group (a later config, then installBucket) is never
 *     cleared over what was installed.
 */
import type { ApplyEntry, ReplicatedStateMachine } from '../node/ports.js';
import type { LogIndex, Term } from '../raft/types.js';
import { StoreFailedError } from '../storage/errors.js';
import { failed, malformedCommand } from '../kv/commands.js';
import type { DedupLimits, DedupTable } from '../kv/dedup-table.js';
import { DEDUP_CLIENTS_MAX_DEFAULT, DEDUP_FLOOR_CLIENT_ID } from '../kv/dedup-table.js';
import type { EngineEntry, KvEngine } from '../kv/engine.js';
import { countLive, countReply } from '../kv/count-keys.js';
import { executeCommand } from '../kv/execute-command.js';
import type { AppliedPosition, DedupEntry } from '../kv/keyspace.js';
import { encodeAppliedPosition } from '../kv/keyspace.js';
import { DEDUP_IDLE_ENTRIES_MAX_DEFAULT, TERM_UNKNOWN } from '../kv/state-machine.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import { isGroupId } from '../meta/config.js';
import type { BucketMove, BucketState, BucketStates } from './bucket-state.js';
import { bucketMoves } from './bucket-state.js';
import type { BucketExport } from './bucket-transfer.js';
import { decodeShardCommand } from './command-codec.js';
import type { BucketPair, ShardCommand, ShardFailed, ShardReply } from './commands.js';
import { describeState, shardFailed, stale, wrongVersion } from './commands.js';
import { ShardDecodeError, ShardSnapshotCorruptionError } from './errors.js';
import type { Outcome } from './execute-command.js';
import { executeShardCommand, servingBucket } from './execute-command.js';
import { APPLIED_POSITION_KEY, bucketDataRange, clearPendingKey, dataKey, userKeyOf } from './keyspace.js';
import { readSnapshotRecords } from './snapshot-reader.js';
import { SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT, snapshotChunks } from './snapshot-writer.js';
import type { StoredState } from './stored-state.js';
import { emptyState, emptyStore, readStoredState, writeSnapshotState } from './stored-state.js';
import { WorkingState } from './working-state.js';

export interface ShardStateMachineOptions {
  /** The replica group this machine is a member of: the configs say which buckets it owns by this id. */
  readonly gid: GroupId;
  /** Must be the same on every replica of a group, or their dedup tables diverge. */
  readonly dedupIdleEntriesMax?: number;
  /** Clients the dedup table holds at most (DEDUP_CLIENTS_MAX_DEFAULT); the same on every replica. */
  readonly dedupClientsMax?: number;
  /** fsync every apply's batch; not needed for safety (see the file comment), off by default. */
  readonly syncEachApply?: boolean;
  /** Size of the chunks snapshot() yields; SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT when not given. */
  readonly snapshotChunkBytesMax?: number;
  /** Told of each bucket that arrived or left, as applied (metrics); none by default. */
  readonly onBucketMoved?: (move: BucketMove) => void;
}

type ResolvedOptions = Required<Omit<ShardStateMachineOptions, 'onBucketMoved'>> &
  Pick<ShardStateMachineOptions, 'onBucketMoved'>;

export type BucketExportResult = { readonly ok: true; readonly export: BucketExport } | ShardFailed;

export class ShardStateMachine implements ReplicatedStateMachine {
  private position: AppliedPosition;
  private config: ShardConfig;
  /** Replaced, never changed in place: a map handed out stays as it was. */
  private states: BucketStates;
  private dedup: DedupTable;
  /** Set while an apply, clear or restore awaits the engine: they must not overlap. */
  private busyWith: string | null = null;
  /** An engine write that failed: what is on disk is unknown until a restart reads it back. */
  private failure: StoreFailedError | null = null;
  private readonly options: ResolvedOptions;

  private constructor(
    private readonly engine: KvEngine,
    options: ResolvedOptions,
    stored: StoredState,
  ) {
    this.options = options;
    this.position = stored.position;
    this.config = stored.config;
    this.states = stored.states;
    this.dedup = stored.dedup;
  }

  /**
   * Resumes from what `engine` holds: an empty engine starts at index 0 with
   * config version 0. An engine left by an interrupted restore is emptied
   * (the node then restores its snapshot again); a bucket clear cut short by
   * a crash is finished. A store written for another group, or by something
   * other than a shard group, is refused. The machine does not own the
   * engine: close the engine when done.
   */
  static async open(engine: KvEngine, options: ShardStateMachineOptions): Promise<ShardStateMachine> {
    const resolved: ResolvedOptions = {
      gid: options.gid,
      dedupIdleEntriesMax: options.dedupIdleEntriesMax ?? DEDUP_IDLE_ENTRIES_MAX_DEFAULT,
      dedupClientsMax: options.dedupClientsMax ?? DEDUP_CLIENTS_MAX_DEFAULT,
      syncEachApply: options.syncEachApply ?? false,
      snapshotChunkBytesMax: options.snapshotChunkBytesMax ?? SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT,
      onBucketMoved: options.onBucketMoved,
    };
    if (!isGroupId(resolved.gid)) throw new Error(`shard state machine: ${resolved.gid} is not a group id`);
    const loaded = await readStoredState(engine, resolved.gid, dedupLimitsOf(resolved));
    return new ShardStateMachine(engine, resolved, loaded);
  }

  get gid(): GroupId {
    return this.options.gid;
  }

  get appliedIndex(): LogIndex {
    return this.position.index;
  }

  /** Term of the entry at appliedIndex, as apply or skip were told it; TERM_UNKNOWN when they were not. */
  get appliedTerm(): Term {
    return this.position.term;
  }

  /** The config of the last applied config command (version 0, without buckets, before any). */
  get currentConfig(): ShardConfig {
    return this.config;
  }

  /** True while a snapshot is being loaded: reads would see half of it, so they must wait. */
  get restoring(): boolean {
    return this.busyWith === 'restore';
  }

  /** The state of every bucket the group holds, as of the last applied entry; absent buckets are not ours. */
  bucketStates(): Map<BucketId, BucketState> {
    return new Map(this.states);
  }

  /** What the machine remembers of `clientId`, if anything. */
  dedupEntry(clientId: string): DedupEntry | undefined {
    return this.dedup.get(clientId);
  }

  /** The whole dedup table, least recently seen client first. */
  dedupEntries(): [string, DedupEntry][] {
    return [...this.dedup.entries()];
  }

  /**
   * Reads straight from the engine, as of the last applied entry: linearizable
   * after a ReadIndex barrier (the caller's business). A key whose bucket is
   * not served here gets wrongGroup, as a write would.
   */
  get(key: Uint8Array, nowMs: number = Date.now()): ShardReply {
    this.assertUsable();
    // During an apply the engine holds the state before or after it, both fine; during a restore, half of one.
    if (this.busyWith === 'restore') this.assertIdle('get');
    const bucket = servingBucket(key, this.config, this.states, this.gid);
    if (typeof bucket !== 'number') return shardFailed(bucket);
    const read = (userKey: Uint8Array): Uint8Array | null => this.engine.get(dataKey(bucket, userKey));
    // The serving node's clock decides what has expired for a read (see kv/execute-command.ts).
    return executeCommand({ type: 'get', key }, read, nowMs).reply;
  }

  /**
   * How many live keys (not expired by `nowMs`, the serving node's clock) the
   * buckets served here hold, as of this call; see KvStateMachine.countLiveKeys.
   * A bucket being pulled or handed off is not served, so it is not counted.
   */
  async countLiveKeys(nowMs: number): Promise<ShardReply> {
    this.assertUsable();
    if (this.busyWith === 'restore') this.assertIdle('countLiveKeys');
    let count = 0;
    const serving = [...this.states].filter(([, state]) => state.type === 'serving').map(([bucket]) => bucket);
    for (const bucket of serving) count += await countLive(this.engine.entries(bucketDataRange(bucket)), nowMs);
    return countReply(count);
  }

  /**
   * The data of `bucket` and the dedup table, as of this call, for the new
   * owner to install: only for a bucket handed off at `configVersion`, the
   * current version, because only then is it frozen (nothing writes to it),
   * so that what the new owner installs is the bucket's whole final history.
   * A serving bucket could still change after the export, and is refused.
   * Refusals: wrongVersion while this group has not applied that version yet
   * (retry later); stale otherwise (the bucket was never handed off here at
   * that version, or its deletion was applied already).
   */
  exportBucket(bucket: BucketId, configVersion: number): BucketExportResult {
    this.assertUsable();
    if (this.busyWith === 'restore') this.assertIdle('exportBucket');
    const current = this.config.version;
    if (configVersion > current) {
      const advice = `retry once it has applied version ${configVersion}`;
      return shardFailed(wrongVersion(current, configVersion, `the export of bucket ${bucket}`, advice));
    }
    if (configVersion < current) {
      return shardFailed(stale(bucket, configVersion, `this group is at config version ${current} already`));
    }
    const state = this.states.get(bucket)?.type;
    if (state !== 'handingOff') {
      return shardFailed(stale(bucket, configVersion, `the bucket is ${describeState(state)}, not being handed off`));
    }
    // Both views are taken now, in one synchronous step, so they are of the same moment.
    const pairs = pairsOf(this.engine.entries(bucketDataRange(bucket)));
    const dedup = [[DEDUP_FLOOR_CLIENT_ID, this.dedup.floorEntry()] as const, ...this.dedup.entries()].map(
      ([clientId, { lastSequence, lastReply, stampMsMax }]) =>
        [clientId, { lastSequence, lastReply, stampMsMax }] as const,
    );
    return { ok: true, export: { bucket, configVersion, dedup, pairs } };
  }

  /**
   * Applies the committed command at `index`, which must follow appliedIndex.
   * Never throws for bad command bytes (every replica would throw at the same
   * entry, forever): they get a malformedCommand reply and change nothing.
   */
  async apply(index: LogIndex, command: Uint8Array, term: Term = TERM_UNKNOWN): Promise<ShardReply> {
    const [reply] = await this.applyBatch([{ index, term, command }]);
    return reply!;
  }

  /** Records that the entry at `index` held no command (a noop or a membership change). */
  async skip(index: LogIndex, term: Term = TERM_UNKNOWN): Promise<void> {
    await this.applyBatch([{ index, term, command: null }]);
  }

  /**
   * Applies consecutive entries as one atomic engine write (two or more when
   * they include a deleteBucket: see the file comment). Later commands of the
   * batch see what earlier ones did.
   *
   * A batch of key commands only is answered through `decided` before its
   * write, as the KV machine answers (ports.ts says why that is safe). A batch
   * holding a config or bucket-transfer command is answered after its writes:
   * the shard driver acts on those replies and reads this machine's config
   * and bucket states, which move only once the writes are done.
   */
  async applyBatch(
    entries: readonly ApplyEntry[],
    decided?: (replies: readonly (ShardReply | undefined)[]) => void,
  ): Promise<(ShardReply | undefined)[]> {
    const first = entries[0];
    const last = entries.at(-1);
    if (first === undefined || last === undefined) return [];
    this.assertNext(first.index);
    // Checked before anything changes: the dedup table moves on with every command applied.
    entries.forEach((entry, offset) => {
      if (entry.index !== first.index + offset) {
        throw new Error(
          `shard state machine: a batch must hold consecutive entries; ${entry.index} is at offset ${offset}`,
        );
      }
    });
    const replies: (ShardReply | undefined)[] = [];
    let working = this.startWorking();
    let writtenThroughIndex = first.index - 1;
    let keyCommandsOnly = true;
    for (const entry of entries) {
      working.expireClients(entry.index);
      if (entry.command === null) {
        replies.push(undefined);
        continue;
      }
      const outcome = this.applyCommand(working, entry.index, entry.command);
      if (!outcome.keyCommand) keyCommandsOnly = false;
      replies.push(outcome.reply);
      if (outcome.clearBucket !== undefined) {
        await this.commit(working, entry, 'apply of deleteBucket');
        writtenThroughIndex = entry.index;
        await this.clearBucketData(outcome.clearBucket);
        working = this.startWorking();
      }
    }
    if (keyCommandsOnly) decided?.(replies);
    if (writtenThroughIndex !== last.index) {
      await this.commit(working, last, entries.length === 1 ? 'apply' : 'apply batch');
    }
    return replies;
  }

  private startWorking(): WorkingState {
    return new WorkingState(this.engine, this.gid, this.config, this.states, this.dedup);
  }

  /**
   * The command's outcome, and whether it was a key command or malformed:
   * either way it changed no config and no bucket state.
   */
  private applyCommand(
    working: WorkingState,
    index: LogIndex,
    bytes: Uint8Array,
  ): Outcome & { readonly keyCommand: boolean } {
    let command: ShardCommand;
    try {
      command = decodeShardCommand(bytes);
    } catch (error) {
      if (error instanceof ShardDecodeError)
        return { reply: failed(malformedCommand(error.problem)), keyCommand: true };
      throw error;
    }
    return { ...executeShardCommand(working, index, command), keyCommand: command.type === 'kv' };
  }

  /** Writes what `working` staged with the applied position at `entry`, then takes its config and states. */
  private async commit(working: WorkingState, entry: ApplyEntry, what: string): Promise<void> {
    const position = { index: entry.index, term: entry.term };
    working.writes.push({ type: 'put', key: APPLIED_POSITION_KEY, value: encodeAppliedPosition(position) });
    await this.engineStep(`the write of ${what} at log index ${entry.index}`, () =>
      this.engine.write(working.writes, { sync: this.options.syncEachApply }),
    );
    this.position = position;
    this.config = working.config;
    // States are replaced, never changed in place: the same map means no bucket moved.
    if (this.options.onBucketMoved !== undefined && working.states !== this.states) {
      this.tellMoves(this.options.onBucketMoved, this.states, working.states);
    }
    this.states = working.states;
  }

  /** A throwing observer is ignored: the write is done, and a metrics bug must not stop the machine. */
  private tellMoves(onBucketMoved: (move: BucketMove) => void, before: BucketStates, after: BucketStates): void {
    try {
      for (const move of bucketMoves(before, after)) onBucketMoved(move);
    } catch {
      // See above.
    }
  }

  private async clearBucketData(bucket: BucketId): Promise<void> {
    await this.engineStep(`the clear of deleted bucket ${bucket}`, async () => {
      await this.engine.clear(bucketDataRange(bucket));
      // Not synced: if it is lost, open() clears the (empty) range again.
      await this.engine.write([{ type: 'delete', key: clearPendingKey(bucket) }], { sync: false });
    });
  }

  /** Runs an engine operation; a failure stops the machine, since the in-memory state may be ahead of the disk. */
  private async engineStep(what: string, step: () => Promise<void>): Promise<void> {
    this.busyWith = what;
    try {
      await step();
    } catch (error) {
      this.failure = new StoreFailedError(`the shard engine: ${what}`, error);
      throw this.failure;
    } finally {
      this.busyWith = null;
    }
  }

  /**
   * The state as of appliedIndex, as chunks of at most snapshotChunkBytesMax.
   * Applies may continue while the chunks are read: the engine's iterator
   * holds the view of this moment.
   */
  snapshot(): AsyncIterableIterator<Uint8Array> {
    this.assertUsable();
    this.assertIdle('snapshot');
    return snapshotChunks(this.engine, this.gid, this.options.snapshotChunkBytesMax);
  }

  /** The port's restore: replaces the state with a snapshot that must end at log index `index`. */
  async restore(chunks: AsyncIterable<Uint8Array>, index: LogIndex): Promise<void> {
    await this.restoreFromSnapshot(chunks, index);
  }

  /**
   * Replaces the whole state with the snapshot in `chunks` and resumes at its
   * header's applied position, which is returned. A stream that is damaged
   * from its first record, names another index than `expectedIndex` or is of
   * another group leaves the state as it was; damage further in leaves the
   * machine empty at index 0, since the old state is gone by then, and throws
   * ShardSnapshotCorruptionError. A crash midway is handled by open().
   */
  async restoreFromSnapshot(
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    expectedIndex?: LogIndex,
  ): Promise<AppliedPosition> {
    this.assertUsable();
    this.assertIdle('restore');
    this.busyWith = 'restore';
    try {
      const records = readSnapshotRecords(chunks);
      const first = await records.next();
      // readSnapshotRecords yields the header first or throws.
      if (first.done === true || first.value.type !== 'header')
        throw new Error('shard snapshot reader: no header first');
      const header = first.value;
      const position = { index: header.appliedIndex, term: header.appliedTerm };
      const problem =
        expectedIndex !== undefined && position.index !== expectedIndex
          ? `the snapshot ends at log index ${position.index}, but the node installs it as index ${expectedIndex}`
          : header.gid !== this.gid
            ? `the snapshot is of group ${header.gid}, and this member is in group ${this.gid}`
            : null;
      if (problem !== null) {
        await records.return(undefined);
        throw new ShardSnapshotCorruptionError(0, problem);
      }
      try {
        this.take(await writeSnapshotState(this.engine, records, position, this.gid, dedupLimitsOf(this.options)));
      } catch (error) {
        await this.empty();
        throw error;
      }
      return position;
    } finally {
      this.busyWith = null;
    }
  }

  /** After a failed restore: an empty state at index 0 is at least a consistent one. */
  private async empty(): Promise<void> {
    this.take(emptyState(dedupLimitsOf(this.options)));
    try {
      await emptyStore(this.engine, this.gid);
    } catch (error) {
      this.failure = new StoreFailedError('the shard engine: emptying the store after a failed restore', error);
    }
  }

  private take(state: StoredState): void {
    this.position = state.position;
    this.config = state.config;
    this.states = state.states;
    this.dedup = state.dedup;
  }

  private assertNext(index: LogIndex): void {
    this.assertUsable();
    this.assertIdle(`apply of index ${index}`);
    if (index !== this.position.index + 1) {
      throw new Error(`shard state machine: asked to apply index ${index} after ${this.position.index}; out of order`);
    }
  }

  private assertIdle(what: string): void {
    if (this.busyWith !== null) {
      throw new Error(`shard state machine: ${what} called while ${this.busyWith} is still running; await each call`);
    }
  }

  private assertUsable(): void {
    if (this.failure !== null) throw this.failure;
  }
}

/** The user's pairs of a bucket's engine entries; return() releases the engine's view even before the first next(). */
function pairsOf(entries: AsyncIterableIterator<EngineEntry>): AsyncIterableIterator<BucketPair> {
  const pairs: AsyncIterableIterator<BucketPair> = {
    async next() {
      const step = await entries.next();
      if (step.done === true) return { done: true, value: undefined };
      return { done: false, value: [userKeyOf(step.value.key), step.value.value] };
    },
    async return() {
      await entries.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return pairs;
    },
  };
  return pairs;
}

function dedupLimitsOf(options: ResolvedOptions): DedupLimits {
  return { idleEntriesMax: options.dedupIdleEntriesMax, clientsMax: options.dedupClientsMax };
}
