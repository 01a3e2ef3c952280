/**
 * What a RaftNode needs from the world, as interfaces: the disk stores of
 * src/storage implement them for real, in-memory ones for simulation, and the
 * node cannot tell the difference.
 */
import type { ConfigChange, HardState, LogIndex, Membership, Message, SnapshotMeta, Term } from '../raft/index.js';
import type { StoredSnapshot } from '../storage/index.js';

/** One committed entry as the state machine sees it. */
export interface ApplyEntry {
  readonly index: LogIndex;
  readonly term: Term;
  /** Null for an entry that holds no command of the application. */
  readonly command: Uint8Array | null;
}

/** The replicated application: a KV store, a config table, a test counter. */
export interface ReplicatedStateMachine {
  /** Index of the last entry applied, as the machine itself recorded it (durably, for a disk machine). */
  readonly appliedIndex: LogIndex;
  /**
   * Applies consecutive committed entries, the first at appliedIndex + 1, in
   * one step; answers one reply per entry for whoever proposed it (undefined
   * for an entry without a command: a noop or a membership change). A disk
   * machine makes the whole batch one atomic write.
   *
   * A machine may also hand the replies to `decided` as soon as they are
   * known, before its write is done: the writers are then answered without
   * waiting for the write, which is safe because the entries are committed in
   * the Raft log already (a crash replays them) and reads still wait for the
   * returned promise (appliedIndex moves only when the write is done).
   */
  applyBatch(entries: readonly ApplyEntry[], decided?: (replies: readonly unknown[]) => void): Promise<unknown[]>;
  /**
   * The state as of appliedIndex at the moment of the call, as a stream of
   * chunks. The node goes on applying while it reads them, so the view must
   * be taken now (an engine snapshot, a copy), not at the first read.
   */
  snapshot(): AsyncIterable<Uint8Array>;
  /** Replaces the whole state with a snapshot's, which ends at log index `index`. */
  restore(chunks: AsyncIterable<Uint8Array>, index: LogIndex): Promise<void>;
}

/** Snapshot files: implemented by storage's SnapshotStore and MemorySnapshotStore. */
export interface SnapshotFiles {
  readonly latest: StoredSnapshot | null;
  write(
    position: { index: LogIndex; term: Term; membership: Membership },
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<StoredSnapshot>;
  readChunk(index: LogIndex, offset: number, sizeBytesMax: number): Promise<Uint8Array>;
  chunks(index: LogIndex, chunkBytes: number): AsyncIterable<Uint8Array>;
  receiveChunk(meta: SnapshotMeta, offset: number, data: Uint8Array): Promise<void>;
  installReceived(meta: SnapshotMeta): Promise<StoredSnapshot>;
  prune(keep: readonly LogIndex[]): Promise<void>;
}

export interface HardStateFile {
  load(): Promise<HardState>;
  save(state: HardState): Promise<void>;
}

/** Sends to the other members of the group; delivery is best effort (Raft tolerates loss). */
export interface PeerSender {
  send(message: Message): void;
  /**
   * Writes what send() queued now, for a sender that otherwise batches the
   * messages of an event-loop turn and writes them at its end.
   */
  flush?(): void;
}

/**
 * Told of the membership changes that pass through this node's log, so that
 * whoever keeps the peer addresses can follow them: an added learner's
 * address is worth knowing as soon as its entry is appended (the leader
 * sends to the learner right after the commit), while a removal is final
 * only once applied (an appended one may still be overwritten). The index
 * orders them: a member removed and added again may see the removal applied
 * after the new addition was appended.
 */
export interface MembershipListener {
  /** Also called at start for the config entries of the log as loaded (an address may not have been saved). */
  appended(change: ConfigChange, index: LogIndex): void;
  applied(change: ConfigChange, index: LogIndex): void;
}

/** A source of ticks: real timers in a process, the scheduler in a simulation. */
export interface Ticker {
  /** Calls `onTick` every `tickMs` until the returned function is called. */
  every(tickMs: number, onTick: () => void): () => void;
  /** Calls `action` once after `delayMs`; the returned function cancels it. */
  after(delayMs: number, action: () => void): () => void;
}

/** Real time, for processes. */
export const realTicker: Ticker = {
  every(tickMs, onTick) {
    const timer = setInterval(onTick, tickMs);
    return () => clearInterval(timer);
  },
  after(delayMs, action) {
    const timer = setTimeout(action, delayMs);
    return () => clearTimeout(timer);
  },
};
