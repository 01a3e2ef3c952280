/**
 * Knobs of one Raft member. Every limit has a name and a default, so that no
 * queue, batch or window in the core can grow without bound.
 */
import type { Entry, HardState, Membership, NodeId, SnapshotMeta } from './types.js';

export type ReadMode =
  /** Confirm leadership with a round of heartbeats before every read batch (safe without clocks). */
  | 'readIndex'
  /** Trust the leader lease that check-quorum maintains; needs bounded clock drift. */
  | 'lease';

export interface RaftOptions {
  readonly id: NodeId;
  /** Source of randomness in [0, 1) for election timeouts; seeded in tests. */
  readonly random: () => number;
  /** A follower campaigns after a random timeout in [electionTicks, 2 * electionTicks). */
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly readMode?: ReadMode;
  /** Upper bound on the bytes of entries in one AppendEntries message. */
  readonly messageBytesMax?: number;
  /** Append messages in flight per follower, by count and by bytes. */
  readonly inflightMessagesMax?: number;
  readonly inflightBytesMax?: number;
  /** The leader refuses proposals while this many bytes are appended but not committed. */
  readonly uncommittedBytesMax?: number;
  /** Bytes of snapshot data per InstallSnapshot chunk. */
  readonly snapshotChunkBytes?: number;
  /** Bytes of committed entries handed out per Ready. */
  readonly applyBytesMax?: number;
  /** A learner is caught up, and may be promoted, when it lags the leader by at most this many entries. */
  readonly learnerCatchUpEntries?: number;
  /**
   * Entries kept in the log behind each new snapshot, so that a follower a
   * little behind catches up from the log rather than by a whole snapshot.
   */
  readonly snapshotCatchUpEntries?: number;
}

export type ResolvedOptions = Required<RaftOptions>;

export function resolveOptions(options: RaftOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    readMode: 'readIndex',
    messageBytesMax: 1 << 20,
    inflightMessagesMax: 64,
    inflightBytesMax: 16 << 20,
    uncommittedBytesMax: 64 << 20,
    snapshotChunkBytes: 1 << 20,
    applyBytesMax: 16 << 20,
    learnerCatchUpEntries: 16,
    snapshotCatchUpEntries: 5000,
    ...options,
  };
  if (resolved.heartbeatTicks < 1 || resolved.electionTicks <= resolved.heartbeatTicks) {
    throw new Error('raft options: need 1 <= heartbeatTicks < electionTicks');
  }
  if (resolved.readMode === 'lease' && !resolved.checkQuorum) {
    throw new Error('raft options: readMode "lease" is only safe with checkQuorum on');
  }
  if (resolved.inflightMessagesMax < 1 || resolved.snapshotChunkBytes < 1 || resolved.messageBytesMax < 1) {
    throw new Error('raft options: inflightMessagesMax, snapshotChunkBytes and messageBytesMax must be positive');
  }
  return resolved;
}

/** What a member had on disk when it (re)starts. A fresh member passes empty state and the bootstrap membership. */
export interface RestoredState {
  readonly hardState: HardState;
  /** The latest snapshot the application holds, if any. */
  readonly snapshot: SnapshotMeta | null;
  /** Durable entries after the snapshot, in order, without gaps. */
  readonly entries: readonly Entry[];
  /** Membership used when there is no snapshot; config entries in the log are replayed on top. */
  readonly bootstrap: Membership;
}
