/**
 * The vocabulary of the consensus core: identities, log entries, membership,
 * hard state and snapshot metadata. Plain data only, so that every value can
 * be persisted, sent over a wire or compared in a test without special cases.
 */

/** A member of a Raft group. Unique within the group and never reused. */
export type NodeId = number;
/** The largest node id: ids travel as u32 on the wire and in the log (a group numbers its members, it does not hash them). */
export const NODE_ID_MAX = 0xffff_ffff;
/** A Raft term: a logical clock that only moves forward. */
export type Term = number;
/** A position in the replicated log; the first real entry has index 1. */
export type LogIndex = number;

/** One step of a single-server membership change (dissertation §4.1). */
export type ConfigChange =
  /**
   * Start replicating to a node that does not vote yet. `address` is where it
   * listens for peers (host:port), carried in the log so that every member
   * learns how to reach it; the core never reads it (like etcd's ConfChange
   * context). Absent in simulations, where the network knows every node.
   */
  | { readonly type: 'addLearner'; readonly node: NodeId; readonly address?: string }
  /** Make a caught-up learner a voter. */
  | { readonly type: 'promoteLearner'; readonly node: NodeId }
  /** Remove a voter or a learner, the leader included. */
  | { readonly type: 'removeNode'; readonly node: NodeId }
  /**
   * The founding membership, written by a new cluster's first leader as entry 1,
   * so that a node added later learns the founders from the log itself.
   * Never proposed by users.
   */
  | { readonly type: 'bootstrap'; readonly membership: Membership };

/** Who votes and who only listens. A node is in at most one of the two lists. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

interface EntryHeader {
  readonly term: Term;
  readonly index: LogIndex;
}

/** An opaque command of the application, replicated and applied in log order. */
export interface CommandEntry extends EntryHeader {
  readonly kind: 'command';
  readonly data: Uint8Array;
}

/** A membership change; it takes effect on a node once that node knows it is committed. */
export interface ConfigEntry extends EntryHeader {
  readonly kind: 'config';
  readonly change: ConfigChange;
}

/** The empty entry a new leader appends so that it can commit entries of its own term. */
export interface NoopEntry extends EntryHeader {
  readonly kind: 'noop';
}

export type Entry = CommandEntry | ConfigEntry | NoopEntry;

/** What must be durable before any message that depends on it is sent. */
export interface HardState {
  readonly term: Term;
  readonly votedFor: NodeId | null;
  readonly commit: LogIndex;
}

/**
 * Describes a snapshot of the application's state machine. The bytes never
 * pass through the core whole: the application keeps them and moves them in
 * chunks (see Ready.snapshotChunksToSend and Ready.snapshotChunksReceived).
 */
export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: LogIndex;
  /** Term of the entry at `index`. */
  readonly term: Term;
  /** Membership as of `index`. */
  readonly membership: Membership;
  /** Size of the snapshot's bytes, so that a receiver knows when it has all of them. */
  readonly sizeBytes: number;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state that observers (logs, dashboards, the simulation timeline) want to see change. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: Term;
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly context: string;
  readonly index: LogIndex;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, votedFor: null, commit: 0 };

/** Approximate bytes an entry occupies in memory and on the wire, for flow control. */
export function entrySizeBytes(entry: Entry): number {
  const headerBytes = 24;
  switch (entry.kind) {
    case 'command':
      return headerBytes + entry.data.byteLength;
    case 'config':
      return headerBytes + 8;
    case 'noop':
      return headerBytes;
  }
}
