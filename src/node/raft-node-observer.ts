/**
 * What a RaftNode tells whoever watches it (metrics) as it happens. The node
 * derives each event from what it sees of its core after every input and
 * every Ready, so the core stays pure and knows nothing of metrics. The
 * methods run inside the Ready loop: they must be cheap, and the node calls
 * them through guardObserver, so that a throwing observer cannot stop it.
 */
import type { NodeId, Term } from '../raft/index.js';

/** Where a node stands after a Ready, for gauges. */
export interface RaftNodeState {
  readonly term: Term;
  readonly commitIndex: number;
  /** What the state machine has applied (it may be ahead of the core's view just after a restart). */
  readonly appliedIndex: number;
  readonly isLeader: boolean;
}

export type SnapshotKind = 'taken' | 'installed';

export interface RaftNodeObserver {
  /** The core took a proposal into its log: this node leads. */
  proposalAccepted(): void;
  /** `count` more committed entries were handed out for applying (by a Ready, or as soon as a commit was learnt). */
  entriesCommitted(count: number): void;
  /** This node started an election for `term`: it became a candidate (or, alone in its group, leader at once). */
  electionStarted(term: Term): void;
  /** The leader this node knows of is now `leader`, another than the last one it knew (or the first). */
  leaderChanged(leader: NodeId, term: Term): void;
  /** A snapshot written from this node's own state machine, or one received from the leader and installed. */
  snapshot(kind: SnapshotKind): void;
  /** After every Ready, and whenever term, role or leader changed. */
  stateSeen(state: RaftNodeState): void;
}

/** `observer` with every method made unable to throw: a metrics bug must never stop a node. */
export function guardObserver(observer: RaftNodeObserver): RaftNodeObserver {
  return {
    proposalAccepted: () => ignoreThrow(() => observer.proposalAccepted()),
    entriesCommitted: (count) => ignoreThrow(() => observer.entriesCommitted(count)),
    electionStarted: (term) => ignoreThrow(() => observer.electionStarted(term)),
    leaderChanged: (leader, term) => ignoreThrow(() => observer.leaderChanged(leader, term)),
    snapshot: (kind) => ignoreThrow(() => observer.snapshot(kind)),
    stateSeen: (state) => ignoreThrow(() => observer.stateSeen(state)),
  };
}

function ignoreThrow(call: () => void): void {
  try {
    call();
  } catch {
    // Dropped on purpose (see guardObserver): the event is lost, the node goes on.
  }
}
