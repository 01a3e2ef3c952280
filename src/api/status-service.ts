/**
 * The 'status' service every node answers, in front of whatever else it
 * serves: operators and the admin command ask each member for its Raft state
 * (role, term, indexes) without knowing what kind of node it is.
 */
import type { NodeStatus } from '../node/node-status.js';
import { encodeNodeStatus } from '../node/status-codec.js';
import type { GroupService } from '../transport/index.js';

export function withStatusService(service: GroupService, status: () => NodeStatus): GroupService {
  return {
    handle: (request) =>
      request.service === 'status'
        ? Promise.resolve({ ok: true, reply: encodeNodeStatus(status()) })
        : service.handle(request),
  };
}
