/**
 * Why the core refused a request. These are values, not exceptions: each one
 * is a situation a caller handles (redirect, back off, retry later).
 * Exceptions thrown by the core are programmer errors and invariant violations.
 */
import type { LogIndex, NodeId, Term } from './types.js';

export type RaftError =
  /** Only the leader takes proposals and reads; `leader` is the best guess of who it is. */
  | { readonly code: 'notLeader'; readonly leader: NodeId | null }
  /** Leadership is moving to `target`; retry against it shortly. */
  | { readonly code: 'transferInProgress'; readonly target: NodeId }
  /** Too many bytes are proposed but not committed: the cluster is slower than its clients. */
  | { readonly code: 'tooManyUncommitted'; readonly uncommittedBytes: number }
  /** One membership change at a time; the previous one is not committed yet. */
  | { readonly code: 'configChangePending' }
  | { readonly code: 'invalidConfigChange'; readonly reason: string }
  | { readonly code: 'learnerNotCaughtUp'; readonly node: NodeId; readonly match: LogIndex; readonly last: LogIndex }
  /** Too many linearizable reads are waiting for a quorum; back off. */
  | { readonly code: 'tooManyPendingReads' }
  | { readonly code: 'duplicateReadContext'; readonly context: string };

export type ProposeResult =
  | { readonly ok: true; readonly index: LogIndex; readonly term: Term }
  | { readonly ok: false; readonly error: RaftError };

export type RequestResult = { readonly ok: true } | { readonly ok: false; readonly error: RaftError };

export function describeRaftError(error: RaftError): string {
  switch (error.code) {
    case 'notLeader':
      return error.leader === null
        ? 'not the leader, and no leader is known yet'
        : `not the leader; node ${error.leader} is`;
    case 'transferInProgress':
      return `leadership is moving to node ${error.target}; retry there`;
    case 'tooManyUncommitted':
      return `too many uncommitted proposals (${error.uncommittedBytes} bytes); back off and retry`;
    case 'configChangePending':
      return 'another membership change is still being committed; retry when it is done';
    case 'invalidConfigChange':
      return `invalid membership change: ${error.reason}`;
    case 'learnerNotCaughtUp':
      return `learner ${error.node} is at ${error.match}, leader at ${error.last}: wait for it to catch up`;
    case 'tooManyPendingReads':
      return 'too many linearizable reads are waiting; back off and retry';
    case 'duplicateReadContext':
      return `a read with context ${error.context} is already pending`;
  }
}
