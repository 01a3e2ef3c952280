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
import type { GroupService, ServiceResult } from '../transport/index.js';

export function withMembersService(service: GroupService, node: RaftNode): GroupService {
  return {
    handle: (request) =>
      request.service === 'members' ? changeMembers(node, request.payload) : service.handle(request),
  };
}

async function changeMembers(node: RaftNode, payload: Uint8Array): Promise<ServiceResult> {
  try {
    const change = decodeMembersRequest(payload);
    return { ok: true, reply: encodeMembersReply(await node.changeMembership(change)) };
  } catch (error) {
    if (error instanceof MembersDecodeError) {
      return { ok: true, reply: encodeMembersReply({ ok: false, reason: 'invalid', message: error.message }) };
    }
    if (error instanceof NodeError) return serviceFailure(error);
    throw error;
  }
}
