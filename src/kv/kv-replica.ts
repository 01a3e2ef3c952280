/**
 * One member of a KV replica group, as its clients see it: a RaftNode that
 * replicates commands and a KvStateMachine that applies them, behind the
 * GroupService interface as the 'kv' service.
 *
 * A request's payload is a command in command-codec bytes, and an answer's
 * reply is a reply in the same codec. Writes are proposed as the very bytes
 * that came in (the log holds what the client sent) and answered with the
 * reply the state machine gave when it applied them (the first reply, for a
 * retried request). Reads are linearizable through ReadIndex: the leader
 * confirms it still leads and waits until it has applied everything committed
 * before the read arrived, then reads its own state; no log entry is written.
 * A stale read skips the confirmation and reads whatever this replica has applied.
 */
import { NodeError, serviceFailure } from '../node/errors.js';
import type { RaftNode } from '../node/raft-node.js';
import type { GroupService, ServiceRequest, ServiceResult } from '../transport/service-protocol.js';
import { notServed } from '../transport/service-router.js';
import { decodeCommand, encodeReply } from './command-codec.js';
import type { KvCommand, KvReply } from './commands.js';
import { commandLimitError, failed, malformedCommand } from './commands.js';
import { KvDecodeError } from './errors.js';
import type { KvStateMachine } from './state-machine.js';

export class KvReplica implements GroupService {
  constructor(
    readonly node: RaftNode,
    readonly machine: KvStateMachine,
  ) {}

  async handle(request: ServiceRequest): Promise<ServiceResult> {
    if (request.service !== 'kv') return notServed(request.service, ['kv']);
    let command: KvCommand;
    try {
      command = decodeCommand(request.payload);
    } catch (error) {
      if (!(error instanceof KvDecodeError)) throw error;
      // What the state machine answers to such a command; nothing enters the log.
      return answer(failed(malformedCommand(error.problem)));
    }
    // Refuse what the state machine would refuse before it costs a log entry (or a read barrier).
    const limit = commandLimitError(command);
    if (limit !== null) return answer(failed(limit));
    try {
      if (command.type === 'get') {
        if (!request.stale) await this.node.readBarrier();
        if (this.machine.restoring) {
          throw new NodeError('overloaded', 'this replica is loading a snapshot; retry the read shortly');
        }
        return answer(this.machine.get(command.key, Date.now()));
      }
      if (command.type === 'count') {
        if (!request.stale) await this.node.readBarrier();
        if (this.machine.restoring) {
          throw new NodeError('overloaded', 'this replica is loading a snapshot; retry the count shortly');
        }
        return answer(await this.machine.countLiveKeys(Date.now()));
      }
      return answer((await this.node.propose(request.payload)) as KvReply);
    } catch (error) {
      return serviceFailure(error);
    }
  }
}

function answer(reply: KvReply): ServiceResult {
  return { ok: true, reply: encodeReply(reply) };
}
