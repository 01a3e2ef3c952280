/**
 * A node's NodeStatus read off its running Raft core at this moment, plus
 * what only the process around it knows (its group, the bytes of its log
 * files, the shard state machine's config and moving buckets).
 */
import type { RaftNode } from './raft-node.js';
import type { BucketInTransit, NodeStatus } from './node-status.js';

/** What the server process adds to the core's own state. */
export interface StatusExtras {
  /** 0 for the meta group, the shard group's id, null for a lone `raftkv node` group. */
  readonly gid: number | null;
  readonly logBytes: number;
  readonly configVersion: number | null;
  readonly bucketsInTransit: readonly BucketInTransit[];
  /** When the process started serving, in performance.now() milliseconds. */
  readonly startedAtMs: number;
}

export function nodeStatus(node: RaftNode, extras: StatusExtras): NodeStatus {
  const core = node.core;
  return {
    id: core.id,
    gid: extras.gid,
    role: core.role,
    term: core.term,
    leaderId: core.leader,
    commitIndex: core.commitIndex,
    appliedIndex: node.appliedIndex,
    lastIndex: core.lastIndex,
    snapshotIndex: core.snapshot.index,
    snapshotTerm: core.snapshot.term,
    logBytes: extras.logBytes,
    configVersion: extras.configVersion,
    bucketsInTransit: extras.bucketsInTransit,
    uptimeSeconds: Math.max(0, Math.floor((performance.now() - extras.startedAtMs) / 1000)),
  };
}
