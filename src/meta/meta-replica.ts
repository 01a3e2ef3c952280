/**
 * One member of the meta group, as admins and shard groups see it: a
 * RaftNode replicating config commands and the MetaStateMachine applying
 * them, behind the GroupService interface as the 'meta' service.
 *
 * join, leave and move are proposed as the bytes that came in and answered
 * with the reply the machine gave when it applied them. query is a read:
 * linearizable through ReadIndex (so a shard group polling for the next
 * config never sees an older one after a newer), or stale on request.
 */
import { serviceFailure } from '../node/errors.js';
import type { RaftNode } from '../node/raft-node.js';
import type { GroupService, ServiceRequest, ServiceResult } from '../transport/service-protocol.js';
import { notServed } from '../transport/service-router.js';
import { decodeMetaCommand, encodeMetaReply } from './command-codec.js';
import type { MetaCommand, MetaReply } from './commands.js';
import { failed, malformedCommand } from './commands.js';
import { MetaDecodeError } from './errors.js';
import type { MetaStateMachine } from './state-machine.js';

export class MetaReplica implements GroupService {
  constructor(
    readonly node: RaftNode,
    readonly machine: MetaStateMachine,
  ) {}

  async handle(request: ServiceRequest): Promise<ServiceResult> {
    if (request.service !== 'meta') return notServed(request.service, ['meta']);
    let command: MetaCommand;
    try {
      command = decodeMetaCommand(request.payload);
    } catch (error) {
      if (!(error instanceof MetaDecodeError)) throw error;
      return answer(failed(malformedCommand(error.problem)));
    }
    try {
      if (command.type === 'query') {
        if (!request.stale) await this.node.readBarrier();
        return answer(this.machine.query(command.version));
      }
      return answer((await this.node.propose(request.payload)) as MetaReply);
    } catch (error) {
      return serviceFailure(error);
    }
  }
}

function answer(reply: MetaReply): ServiceResult {
  return { ok: true, reply: encodeMetaReply(reply) };
}
