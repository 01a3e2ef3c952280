/**
 * The 'members' service every group member answers, beside 'status': one
 * single-server membership change (add a learner, promote it, remove a
 * member), made by the group's leader and answered once it is applied there.
 * Followers answer notLeader with the leader's id, like every other service,
 * so an admin client finds the leader the usual way.
 */
import { NodeError, serviceFailure } from '../node/index.js';
import type { RaftNode } from '../node/raft-node.js';
import { decodeMembersRequest, encodeMembersReply, MembersDecodeError } from '../node/members-codec.js';
import type { NodeId } from '../raft/index.js';
import { isMember } from '../raft/index.js';
import type { GroupService, ServiceResult } from '../transport/index.js';

export function withMembersService(
  service: GroupService,
  node: RaftNode,
  addresses: ReadonlyMap<NodeId, string>,
): GroupService {
  return {
    handle: (request) =>
      request.service === 'members' ? changeMembers(node, addresses, request.payload) : service.handle(request),
  };
}

async function changeMembers(
  node: RaftNode,
  addresses: ReadonlyMap<NodeId, string>,
  payload: Uint8Array,
): Promise<ServiceResult> {
  try {
    const change = decodeMembersRequest(payload);
    // Adding a member again is done already, unless it was added with another address: the log
    // keeps the first one, so say how to change it rather than answer done and keep the wrong one.
    const known = addresses.get(change.node);
    if (change.type === 'addLearner' && isMember(node.core.membership, change.node) && known !== change.address) {
      const message =
        `member ${change.node} was added with address ${known ?? '(unknown)'}, not ${change.address}: ` +
        'take it out with raftkv admin remove-member, then add it again';
      return { ok: true, reply: encodeMembersReply({ ok: false, reason: 'invalid', message }) };
    }
    return { ok: true, reply: encodeMembersReply(await node.changeMembership(change)) };
  } catch (error) {
    if (error instanceof MembersDecodeError) {
      return { ok: true, reply: encodeMembersReply({ ok: false, reason: 'invalid', message: error.message }) };
    }
    if (error instanceof NodeError) return serviceFailure(error);
    throw error;
  }
}
