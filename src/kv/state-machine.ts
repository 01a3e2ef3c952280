/**
 * The KV state machine: applies committed commands in log order to a
 * KvEngine, exactly once per (client id, sequence), and moves its whole state
 * in and out as a streamed snapshot.
 *
 * Each apply is one atomic engine batch holding the data writes, the client's
 * dedup entry, the dedup entries that expire at this index, and the applied
 * position. So the engine is always at some exact log index with the dedup
 * table that goes with it, and a restart resumes there without replaying
 * history: nothing in memory is needed that the engine does not hold.
 *
 * Applies are not fsynced by default (syncEachApply). That is safe because
 * the Raft log, not the engine, is what makes a write durable before it is
 * acknowledged: an engine that loses its last unsynced batches to a power
 * cut comes back at an earlier applied index, with the matching dedup table,
 * and the node replays the log from there; if the log was compacted past
 * that index, the node restores from the snapshot that allowed compacting it.
 * Measured on this machine, syncing each apply costs ~4x (level-engine.ts).
 */
import type { ApplyEntry, ReplicatedStateMachine } from '../node/ports.js';
import type { LogIndex, Term } from '../raft/types.js';
import { StoreFailedError } from '../storage/errors.js';
import { decodeCommand } from './command-codec.js';
import type { KvCommand, KvReply } from './commands.js';
import { failed, malformedCommand } from './commands.js';
import type { DedupLimits } from './dedup-table.js';
import { applyOnce, DEDUP_CLIENTS_MAX_DEFAULT, DedupTable, droppedClientWrites } from './dedup-table.js';
import type { EngineWrite, KvEngine } from './engine.js';
import { mapKeyOf } from './engine.js';
import { KvDecodeError, KvSnapshotCorruptionError } from './errors.js';
import { countLive, countReply } from './count-keys.js';
import { executeCommand } from './execute-command.js';
import type { ValueReader } from './execute-command.js';
import type { AppliedPosition, DedupEntry } from './keyspace.js';
import {
  AFTER_RESTORE_MARKER_RANGE,
  APPLIED_POSITION_KEY,
  clientIdOf,
  DATA_RANGE,
  dataKey,
  decodeAppliedPosition,
  decodeDedupEntry,
  DEDUP_RANGE,
  dedupKey,
  encodeAppliedPosition,
  encodeDedupEntry,
  RESTORE_MARKER_KEY,
} from './keyspace.js';
import type { SnapshotRecord } from './snapshot-format.js';
import { readSnapshotRecords } from './snapshot-reader.js';
import { SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT, snapshotChunks } from './snapshot-writer.js';

/**
 * Log entries a client may stay silent before its dedup entry is dropped.
 * A retry must arrive within this many entries of the client's previous
 * request to be recognised: 1M entries is ~100 s at 10k writes/s. The
 * table's size is bounded by dedupClientsMax (dedup-table.ts), not by this.
 */
export const DEDUP_IDLE_ENTRIES_MAX_DEFAULT = 1_000_000;
/** Bytes of pairs per engine batch while restoring: bounded memory, few batches. */
export const RESTORE_BATCH_BYTES_MAX = 1024 * 1024;
/** The term recorded when the caller of apply or skip does not say (Raft's terms of entries start at 1). */
export const TERM_UNKNOWN: Term = 0;

export interface KvStateMachineOptions {
  /** Must be the same on every replica of a group, or their dedup tables diverge. */
  readonly dedupIdleEntriesMax?: number;
  /** Clients the dedup table holds at most (DEDUP_CLIENTS_MAX_DEFAULT); the same on every replica. */
  readonly dedupClientsMax?: number;
  /** fsync every apply's batch; not needed for safety (see the file comment), off by default. */
  readonly syncEachApply?: boolean;
  /** Size of the chunks snapshot() yields; SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT when not given. */
  readonly snapshotChunkBytesMax?: number;
}

export class KvStateMachine implements ReplicatedStateMachine {
  private position: AppliedPosition;
  private dedup: DedupTable;
  /** Set while an apply, skip or restore awaits the engine: they must not overlap. */
  private busyWith: string | null = null;
  /** An engine write that failed: what is on disk is unknown until a restart reads it back. */
  private failure: StoreFailedError | null = null;
  private readonly options: Required<KvStateMachineOptions>;

  private constructor(
    private readonly engine: KvEngine,
    position: AppliedPosition,
    dedup: DedupTable,
    options: Required<KvStateMachineOptions>,
  ) {
    this.position = position;
    this.dedup = dedup;
    this.options = options;
  }

  /**
   * Resumes from what `engine` holds. An engine left by an interrupted restore
   * holds a partial state that matches no log index: it is emptied, and the
   * machine starts at index 0, so that the node restores its snapshot again.
   * The machine does not own the engine: close the engine when done.
   */
  static async open(engine: KvEngine, options: KvStateMachineOptions = {}): Promise<KvStateMachine> {
    const resolved: Required<KvStateMachineOptions> = {
      dedupIdleEntriesMax: options.dedupIdleEntriesMax ?? DEDUP_IDLE_ENTRIES_MAX_DEFAULT,
      dedupClientsMax: options.dedupClientsMax ?? DEDUP_CLIENTS_MAX_DEFAULT,
      syncEachApply: options.syncEachApply ?? false,
      snapshotChunkBytesMax: options.snapshotChunkBytesMax ?? SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT,
    };
    if (engine.get(RESTORE_MARKER_KEY) !== null) await engine.clear();
    const stored = engine.get(APPLIED_POSITION_KEY);
    const position = stored === null ? { index: 0, term: TERM_UNKNOWN } : decodeAppliedPosition(stored);
    const entries: [string, DedupEntry][] = [];
    for await (const { key, value } of engine.entries(DEDUP_RANGE)) {
      entries.push([clientIdOf(key), decodeDedupEntry(value)]);
    }
    return new KvStateMachine(engine, position, new DedupTable(dedupLimitsOf(resolved), entries), resolved);
  }

  get appliedIndex(): LogIndex {
    return this.position.index;
  }

  /** Term of the entry at appliedIndex, as apply or skip were told it; TERM_UNKNOWN when they were not. */
  get appliedTerm(): Term {
    return this.position.term;
  }

  /** True while a snapshot is being loaded: reads would see half of it, so they must wait. */
  get restoring(): boolean {
    return this.busyWith === 'restore';
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
   * Reads straight from the engine, as of the last applied entry. Whether that
   * is linearizable is the caller's business (ReadIndex, a lease, or a stale
   * read by choice). `nowMs` is the serving node's wall clock: a read is
   * answered by one node, now, so its clock decides what has expired.
   */
  get(key: Uint8Array, nowMs: number = Date.now()): KvReply {
    this.assertUsable();
    // During an apply the engine holds the state before or after it, both fine; during a restore, half of one.
    if (this.busyWith === 'restore') this.assertIdle('get');
    return executeCommand({ type: 'get', key }, (userKey) => this.engine.get(dataKey(userKey)), nowMs).reply;
  }

  /**
   * How many keys hold a value that has not expired by `nowMs` (the serving
   * node's clock), as of this call: it walks every key, so it costs time in
   * proportion to the data (Redis DBSIZE keeps a counter; expired keys that
   * stay on disk make one impossible here). Applies may go on meanwhile.
   */
  async countLiveKeys(nowMs: number): Promise<KvReply> {
    this.assertUsable();
    if (this.busyWith === 'restore') this.assertIdle('countLiveKeys');
    return countReply(await countLive(this.engine.entries(DATA_RANGE), nowMs));
  }

  /**
   * Applies the committed command at `index`, which must follow appliedIndex.
   * Never throws for bad command bytes (every replica would throw at the same
   * entry, forever): they get a malformedCommand reply and change nothing.
   */
  async apply(index: LogIndex, command: Uint8Array, term: Term = TERM_UNKNOWN): Promise<KvReply> {
    const [reply] = await this.applyBatch([{ index, term, command }]);
    return reply as KvReply;
  }

  /** Records that the entry at `index` held no command (a noop or a membership change). */
  async skip(index: LogIndex, term: Term = TERM_UNKNOWN): Promise<void> {
    await this.applyBatch([{ index, term, command: null }]);
  }

  /**
   * Applies consecutive entries as one atomic engine batch: the engine moves
   * from the index before the first to the last, with nothing in between on
   * disk. One batch per entry would cost one engine write each, which caps
   * a group at the engine's batch rate (~17k/s, level-engine.ts); a batch per
   * Ready costs one write for however many entries committed together.
   * Later commands of the batch read what earlier ones wrote.
   */
  async applyBatch(
    entries: readonly ApplyEntry[],
    decided?: (replies: readonly (KvReply | undefined)[]) => void,
  ): Promise<(KvReply | undefined)[]> {
    const first = entries[0];
    const last = entries.at(-1);
    if (first === undefined || last === undefined) return [];
    this.assertNext(first.index);
    // Checked before anything changes: the dedup table moves on with every command applied.
    entries.forEach((entry, offset) => {
      if (entry.index !== first.index + offset) {
        throw new Error(
          `kv state machine: a batch must hold consecutive entries; ${entry.index} is at offset ${offset}`,
        );
      }
    });
    const writes: EngineWrite[] = [];
    const read = stagedReader(this.engine, writes);
    const replies: (KvReply | undefined)[] = [];
    for (const entry of entries) {
      // Expiry runs at every index, commands or not, so that it depends on the log alone.
      this.expireIdleClients(entry.index, writes);
      replies.push(entry.command === null ? undefined : this.applyCommand(entry.index, entry.command, writes, read));
    }
    // The replies are final now; the node may answer with them while the engine writes (ports.ts).
    decided?.(replies);
    await this.commit(last.index, last.term, writes, entries.length === 1 ? 'apply' : 'apply batch');
    return replies;
  }

  /** Pushes dedup-table deletes for the clients that expire at `index`; the in-memory table drops them now. */
  private expireIdleClients(index: LogIndex, writes: EngineWrite[]): void {
    writes.push(...droppedClientWrites(this.dedup, this.dedup.expire(index), dedupKey));
  }

  /** The reply to the command at `index`; pushes its engine writes onto `writes`. */
  private applyCommand(index: LogIndex, bytes: Uint8Array, writes: EngineWrite[], read: ValueReader): KvReply {
    let command: KvCommand;
    try {
      command = decodeCommand(bytes);
    } catch (error) {
      if (error instanceof KvDecodeError) return failed(malformedCommand(error.problem));
      throw error;
    }
    if (command.type === 'get') return executeCommand(command, read).reply;
    // Only a faulty proposer logs a count; every replica answers it the same way.
    if (command.type === 'count') return failed(malformedCommand('a count is a read, never a log entry'));

    const { reply, entry } = applyOnce(this.dedup, command, index, () => {
      const execution = executeCommand(command, read);
      writes.push(...execution.writes);
      return execution.reply;
    });
    if (entry === null) return reply;
    const evicted = this.dedup.record(command.clientId, entry);
    writes.push(...droppedClientWrites(this.dedup, evicted, dedupKey));
    writes.push({ type: 'put', key: dedupKey(command.clientId), value: encodeDedupEntry(entry) });
    return reply;
  }

  private async commit(index: LogIndex, term: Term, writes: EngineWrite[], what: string): Promise<void> {
    const position = { index, term };
    writes.push({ type: 'put', key: APPLIED_POSITION_KEY, value: encodeAppliedPosition(position) });
    this.busyWith = what;
    try {
      await this.engine.write(writes, { sync: this.options.syncEachApply });
    } catch (error) {
      // The in-memory dedup table has moved on and the engine may or may not have: stop here.
      this.failure = new StoreFailedError(`the kv engine write of ${what} at log index ${index}`, error);
      throw this.failure;
    } finally {
      this.busyWith = null;
    }
    this.position = position;
  }

  /**
   * The state as of appliedIndex, as chunks of at most snapshotChunkBytesMax.
   * Applies may continue while the chunks are read: the engine's iterator
   * holds the view of this moment.
   */
  snapshot(): AsyncIterableIterator<Uint8Array> {
    this.assertUsable();
    this.assertIdle('snapshot');
    return snapshotChunks(this.engine, this.options.snapshotChunkBytesMax);
  }

  /** The port's restore: replaces the state with a snapshot that must end at log index `index`. */
  async restore(chunks: AsyncIterable<Uint8Array>, index: LogIndex): Promise<void> {
    await this.restoreFromSnapshot(chunks, index);
  }

  /**
   * Replaces the whole state with the snapshot in `chunks` and resumes at its
   * header's applied position, which is returned. A stream that is damaged
   * from its first record (or names another index than `expectedIndex`)
   * leaves the state as it was; damage further in leaves the machine empty at
   * index 0, since the old state is gone by then, and throws
   * KvSnapshotCorruptionError. A crash midway is handled by open().
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
      if (first.done === true || first.value.type !== 'header') throw new Error('snapshot reader: no header first');
      const position = { index: first.value.appliedIndex, term: first.value.appliedTerm };
      if (expectedIndex !== undefined && position.index !== expectedIndex) {
        await records.return(undefined);
        throw new KvSnapshotCorruptionError(
          0,
          `the snapshot ends at log index ${position.index}, but the node installs it as index ${expectedIndex}`,
        );
      }
      try {
        this.dedup = await this.load(records, position);
        this.position = position;
      } catch (error) {
        await this.empty();
        throw error;
      }
      return position;
    } finally {
      this.busyWith = null;
    }
  }

  /** Clears the engine and writes the records into it, with the restore marker up while it is incomplete. */
  private async load(records: AsyncIterable<SnapshotRecord>, position: AppliedPosition): Promise<DedupTable> {
    await this.engine.write([{ type: 'put', key: RESTORE_MARKER_KEY, value: new Uint8Array(0) }], { sync: true });
    await this.engine.clear(AFTER_RESTORE_MARKER_RANGE);
    const dedupEntries: [string, DedupEntry][] = [];
    let batch: EngineWrite[] = [];
    let batchBytes = 0;
    for await (const record of records) {
      if (record.type === 'dedup') {
        dedupEntries.push([record.clientId, record.entry]);
        batch.push({ type: 'put', key: dedupKey(record.clientId), value: encodeDedupEntry(record.entry) });
      } else if (record.type === 'pair') {
        batch.push({ type: 'put', key: dataKey(record.key), value: record.value });
        batchBytes += record.key.byteLength + record.value.byteLength;
      }
      if (batchBytes >= RESTORE_BATCH_BYTES_MAX) {
        await this.engine.write(batch, { sync: false });
        batch = [];
        batchBytes = 0;
      }
    }
    // The last batch lowers the marker; synced, it also makes every earlier batch durable.
    batch.push({ type: 'put', key: APPLIED_POSITION_KEY, value: encodeAppliedPosition(position) });
    batch.push({ type: 'delete', key: RESTORE_MARKER_KEY });
    await this.engine.write(batch, { sync: true });
    return new DedupTable(dedupLimitsOf(this.options), dedupEntries);
  }

  /** After a failed restore: an empty state at index 0 is at least a consistent one. */
  private async empty(): Promise<void> {
    this.position = { index: 0, term: TERM_UNKNOWN };
    this.dedup = new DedupTable(dedupLimitsOf(this.options));
    // If this fails too, the restore marker is still there and the next open() empties the engine.
    await this.engine.clear().catch(() => undefined);
  }

  private assertNext(index: LogIndex): void {
    this.assertUsable();
    this.assertIdle(`apply of index ${index}`);
    if (index !== this.position.index + 1) {
      throw new Error(`kv state machine: asked to apply index ${index} after ${this.position.index}; out of order`);
    }
  }

  private assertIdle(what: string): void {
    if (this.busyWith !== null) {
      throw new Error(`kv state machine: ${what} called while ${this.busyWith} is still running; await each call`);
    }
  }

  private assertUsable(): void {
    if (this.failure !== null) throw this.failure;
  }
}

/**
 * Reads for the commands of one batch: what earlier commands of the batch
 * wrote (still in `writes`), else the engine. The writes are indexed only when
 * a command reads (append, incr), since a batch of plain puts never does.
 * Made by a function, not a named closure in applyBatch, which tsx would name
 * (a property define) for every batch.
 */
function stagedReader(engine: KvEngine, writes: readonly EngineWrite[]): ValueReader {
  const staged = new Map<string, Uint8Array | null>();
  let stagedWrites = 0;
  return (userKey) => {
    for (; stagedWrites < writes.length; stagedWrites++) {
      const write = writes[stagedWrites]!;
      staged.set(mapKeyOf(write.key), write.type === 'put' ? write.value : null);
    }
    const key = dataKey(userKey);
    const pending = staged.get(mapKeyOf(key));
    return pending === undefined ? engine.get(key) : pending;
  };
}

function dedupLimitsOf(options: Required<KvStateMachineOptions>): DedupLimits {
  return { idleEntriesMax: options.dedupIdleEntriesMax, clientsMax: options.dedupClientsMax };
}
