/**
 * Why a request to a RaftNode did not complete. A client can tell from the
 * code whether it may retry elsewhere (notLeader), must retry with the same
 * request id because the outcome is unknown (outcomeUnknown), or should back
 * off (overloaded, timeout).
 */
import type { NodeId } from '../raft/index.js';
import type { ServiceErrorCode, ServiceResult } from '../transport/service-protocol.js';

export type NodeErrorCode = 'notLeader' | 'outcomeUnknown' | 'overloaded' | 'timeout' | 'stopped';

export class NodeError extends Error {
  constructor(
    readonly code: NodeErrorCode,
    message: string,
    /** For notLeader: the member that leads, when known. */
    readonly leader: NodeId | null = null,
  ) {
    super(message);
    this.name = 'NodeError';
  }
}

export function notLeader(leader: NodeId | null): NodeError {
  const where = leader === null ? 'no leader is known yet; retry shortly' : `retry on node ${leader}`;
  return new NodeError('notLeader', `this node is not the leader: ${where}`, leader);
}

export function outcomeUnknown(why: string): NodeError {
  return new NodeError(
    'outcomeUnknown',
    `${why}: the request may or may not have been applied; retry it with the same request id`,
  );
}

/**
 * A node's refusal as the answer a client acts on: what a group's service
 * returns when its RaftNode would not serve. Anything else is a bug and is rethrown.
 */
export function serviceFailure(error: unknown): ServiceResult {
  if (!(error instanceof NodeError)) throw error;
  const code: ServiceErrorCode = error.code;
  return { ok: false, error: { code, message: error.message, leader: error.leader } };
}
