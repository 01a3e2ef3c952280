/**
 * Membership arithmetic: who votes, how many make a quorum, and what a
 * single-server change does. Changing one voter at a time keeps every old and
 * new majority overlapping, so no joint consensus is needed (dissertation §4.1).
 */
import type { ConfigChange, LogIndex, Membership, NodeId } from './types.js';

export const EMPTY_MEMBERSHIP: Membership = { voters: [], learners: [] };

export function isVoter(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id);
}

export function isMember(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.learners.includes(id);
}

export function allMembers(membership: Membership): NodeId[] {
  return [...membership.voters, ...membership.learners];
}

export function quorumSize(membership: Membership): number {
  return Math.floor(membership.voters.length / 2) + 1;
}

/**
 * The highest index that a quorum of voters has, given each voter's match.
 * With no voters at all nothing can be committed.
 */
export function quorumMatch(membership: Membership, matchOf: (id: NodeId) => LogIndex): LogIndex {
  if (membership.voters.length === 0) return 0;
  const matches = membership.voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorumSize(membership) - 1]!;
}

/** Why `change` cannot be applied to `membership`, or null when it can. */
export function invalidChangeReason(membership: Membership, change: ConfigChange): string | null {
  switch (change.type) {
    case 'addLearner':
      return isMember(membership, change.node) ? `node ${change.node} is already a member` : null;
    case 'promoteLearner':
      return membership.learners.includes(change.node) ? null : `node ${change.node} is not a learner`;
    case 'removeNode':
      if (!isMember(membership, change.node)) return `node ${change.node} is not a member`;
      if (isVoter(membership, change.node) && membership.voters.length === 1) {
        return `node ${change.node} is the last voter`;
      }
      return null;
    case 'bootstrap':
      return 'the bootstrap membership is written by the first leader only';
  }
}

export function applyChange(membership: Membership, change: ConfigChange): Membership {
  switch (change.type) {
    case 'addLearner':
      return { voters: membership.voters, learners: [...membership.learners, change.node] };
    case 'promoteLearner':
      return {
        voters: [...membership.voters, change.node],
        learners: membership.learners.filter((id) => id !== change.node),
      };
    case 'removeNode':
      return {
        voters: membership.voters.filter((id) => id !== change.node),
        learners: membership.learners.filter((id) => id !== change.node),
      };
    case 'bootstrap':
      return change.membership;
  }
}
