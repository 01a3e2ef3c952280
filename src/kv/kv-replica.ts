/**
 * One member of a KV replica group, as its clients see it: a RaftNode that
 * replicates commands and a KvStateMachine that applies them, behind the
 * KvService interface.
 *
 * Writes are proposed and answered with the reply the state machine gave
 * when it applied them (the first reply, for a retried request). Reads are
 * linearizable through ReadIndex: the leader confirms it still leads and
 * waits until it has applied everything committed before the read arrived,
 * then reads its own state; no log entry is written. A stale read skips the
 * confirmation and reads whatever this replica has applied.
 */
import type { NodeErrorCode } from '../node/errors.js';
import { NodeError } from '../node/errors.js';
import type { RaftNode } from '../node/raft-node.js';
import { encodeCommand } from './command-codec.js';
import type { KvReply } from './commands.js';
import { commandLimitError, failed } from './commands.js';
import type { KvRequest, KvService, ServiceResult } from './service.js';
import type { KvStateMachine } from './state-machine.js';

export class KvReplica implements KvService {
  constructor(
    readonly node: RaftNode,
    readonly machine: KvStateMachine,
  ) {}

  async handle(request: KvRequest): Promise<ServiceResult> {
    const command = request.command;
    // Refuse what the state machine would refuse before it costs a log entry.
    const limit = commandLimitError(command);
    if (limit !== null) return { ok: true, reply: failed(limit) };
    try {
      if (command.type === 'get') {
        if (request.stale !== true) await this.node.readBarrier();
        if (this.machine.restoring) {
          throw new NodeError('overloaded', 'this replica is loading a snapshot; retry the read shortly');
        }
        return { ok: true, reply: this.machine.get(command.key) };
      }
      const reply = (await this.node.propose(encodeCommand(command))) as KvReply;
      return { ok: true, reply };
    } catch (error) {
      return serviceFailure(error);
    }
  }
}

/** A node's refusal as a result the client can act on; anything else is a bug and is rethrown. */
export function serviceFailure(error: unknown): ServiceResult {
  if (!(error instanceof NodeError)) throw error;
  const code: NodeErrorCode = error.code;
  return { ok: false, error: { code, message: error.message, leader: error.leader } };
}
