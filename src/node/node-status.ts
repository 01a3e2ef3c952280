/**
 * One node's Raft state as operators read it: what `raftkv admin query`
 * prints per member, what the HTTP API and the dashboard show. Plain JSON
 * data, the same shape over the wire and in the browser.
 */
import type { NodeId, Role } from '../raft/index.js';

/** A bucket this node's group is moving in or out (shard groups only). */
export interface BucketInTransit {
  readonly bucket: number;
  /** The shard state machine's name for the state, e.g. "pulling from group 2". */
  readonly state: string;
}

export interface NodeStatus {
  readonly id: NodeId;
  /** The shard group's id; 0 for a member of the meta group, null for a lone `raftkv node` group. */
  readonly gid: number | null;
  readonly role: Role;
  readonly term: number;
  /** The leader this node knows of, or null during an election. */
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  /** The highest index its state machine applied; after a restart it may exceed the commit index this node knows yet. */
  readonly appliedIndex: number;
  /** Index of the last log entry; the log holds entries after `snapshotIndex` up to this. */
  readonly lastIndex: number;
  /** Index and term of the last snapshot (0 when none). */
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** Bytes of the log files on disk. */
  readonly logBytes: number;
  /** The config version this node's group has applied (shard groups; null otherwise). */
  readonly configVersion: number | null;
  readonly bucketsInTransit: readonly BucketInTransit[];
  readonly uptimeSeconds: number;
}
