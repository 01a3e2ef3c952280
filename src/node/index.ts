/** The node layer's public surface. */
export { RaftNode } from './raft-node.js';
export type { RaftNodeOptions, RaftNodeParts } from './raft-node.js';
export type {
  ApplyEntry,
  HardStateFile,
  MembershipListener,
  PeerSender,
  ReplicatedStateMachine,
  SnapshotFiles,
  Ticker,
} from './ports.js';
export { realTicker } from './ports.js';
export { NodeError, serviceFailure } from './errors.js';
export type { NodeErrorCode } from './errors.js';
export type { RaftNodeObserver, RaftNodeState, SnapshotKind } from './raft-node-observer.js';
