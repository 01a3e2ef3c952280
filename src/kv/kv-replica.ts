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
 *
 * Clients in this very process (the RESP and HTTP servers' sessions) call
 * `serve` with the command they built and its encoding: the same rules,
 * without decoding a payload they just encoded or encoding a reply they
 * would decode again.
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

export type ServiceFailure = Extract<ServiceResult, { readonly ok: false }>;

/** What `serve` answers: the state machine's reply, or why this member did not serve (the same as `handle`'s). */
export type KvServed = { readonly ok: true; readonly reply: KvReply } | ServiceFailure;

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
    const served = await this.serve(command, request.payload, request.stale);
    return served.ok ? answer(served.reply) : served;
  }

  /**
   * Serves `command`, whose encoding is `payload` (a write is proposed as
   * those bytes, so they must be its encoding). Never rejects. The key and
   * value bytes are only read before the returned promise settles.
   */
  async serve(command: KvCommand, payload: Uint8Array, stale: boolean): Promise<KvServed> {
    // Refuse what the state machine would refuse before it costs a log entry (or a read barrier).
    const limit = commandLimitError(command);
    if (limit !== null) return { ok: true, reply: failed(limit) };
    try {
      if (command.type === 'get') {
        if (!stale) await this.node.readBarrier();
        if (this.machine.restoring) {
          throw new NodeError('overloaded', 'this replica is loading a snapshot; retry the read shortly');
        }
        return { ok: true, reply: this.machine.get(command.key, Date.now()) };
      }
      if (command.type === 'count') {
        if (!stale) await this.node.readBarrier();
        if (this.machine.restoring) {
          throw new NodeError('overloaded', 'this replica is loading a snapshot; retry the count shortly');
        }
        return { ok: true, reply: await this.machine.countLiveKeys(Date.now()) };
      }
      return { ok: true, reply: (await this.node.propose(payload)) as KvReply };
    } catch (error) {
      return refusal(error);
    }
  }
}

function answer(reply: KvReply): ServiceResult {
  return { ok: true, reply: encodeReply(reply) };
}

function refusal(error: unknown): ServiceFailure {
  const result = serviceFailure(error);
  if (result.ok) throw new Error('serviceFailure answered a success');
  return result;
}
