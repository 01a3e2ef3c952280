/**
 * One member of a shard group, as clients and other shard groups see it: a
 * RaftNode replicating shard commands and the ShardStateMachine applying
 * them, behind the GroupService interface.
 *
 * Service 'kv' (clients): the payload is a KV command in kv/command-codec
 * bytes, as KvReplica takes it. Writes are wrapped as the shard command
 * { type: 'kv' } and proposed; gets read the machine after a ReadIndex
 * barrier (or at once when stale). Replies are in reply-codec bytes, so a
 * key whose bucket is not served here answers wrongGroup.
 *
 * Service 'shard' (other shard groups, shard-rpc.ts): pull answers the next
 * installBucket part of a bucket this group hands off, only on the leader
 * and after a barrier, so the part reflects everything committed (in
 * particular the config that froze the bucket); confirm proposes the
 * deleteBucket of a bucket the new owner installed; installed tells a
 * previous owner whether this group has a bucket yet.
 */
import { NodeError, notLeader, serviceFailure } from '../node/errors.js';
import type { RaftNode } from '../node/raft-node.js';
import { decodeCommand } from '../kv/command-codec.js';
import type { KvCommand } from '../kv/commands.js';
import { commandLimitError, failed, malformedCommand } from '../kv/commands.js';
import { KvDecodeError } from '../kv/errors.js';
import type { GroupService, ServiceRequest, ServiceResult } from '../transport/service-protocol.js';
import { notServed } from '../transport/service-router.js';
import type { BucketExport } from './bucket-transfer.js';
import { installParts } from './bucket-transfer.js';
import { encodeShardCommand } from './command-codec.js';
import type { ShardReply } from './commands.js';
import { describeState, invalidCommand, notReady, stale, wrongVersion } from './commands.js';
import { bucketsInTransit } from './bucket-state.js';
import { ShardDecodeError } from './errors.js';
import { encodeShardReply, isShardError } from './reply-codec.js';
import type { ConfirmRequest, InstalledRequest, PullRequest, ShardRpcReply, ShardRpcRequest } from './shard-rpc.js';
import { decodeShardRpcRequest, encodeShardRpcReply } from './shard-rpc.js';
import type { ShardStateMachine } from './state-machine.js';

const SERVED = ['kv', 'shard'] as const;

export class ShardReplica implements GroupService {
  constructor(
    readonly node: RaftNode,
    readonly machine: ShardStateMachine,
  ) {}

  async handle(request: ServiceRequest): Promise<ServiceResult> {
    try {
      switch (request.service) {
        case 'kv':
          return await this.handleKv(request);
        case 'shard':
          return await this.handleShard(request);
        case 'meta':
        case 'status':
        case 'members':
          // Status and members are answered by the endpoint in front of every node (api/group-endpoint.ts).
          return notServed(request.service, SERVED);
      }
    } catch (error) {
      return serviceFailure(error);
    }
  }

  private async handleKv(request: ServiceRequest): Promise<ServiceResult> {
    let command: KvCommand;
    try {
      command = decodeCommand(request.payload);
    } catch (error) {
      if (!(error instanceof KvDecodeError)) throw error;
      return answer(failed(malformedCommand(error.problem)));
    }
    // Refuse what the state machine would refuse before it costs a log entry (or a read barrier).
    const limit = commandLimitError(command);
    if (limit !== null) return answer(failed(limit));
    if (command.type === 'get') {
      if (!request.stale) await this.node.readBarrier();
      this.assertNotRestoring();
      return answer(this.machine.get(command.key, Date.now()));
    }
    if (command.type === 'count') {
      if (!request.stale) await this.node.readBarrier();
      this.assertNotRestoring();
      return answer(await this.machine.countLiveKeys(Date.now()));
    }
    return answer((await this.node.propose(encodeShardCommand({ type: 'kv', command }))) as ShardReply);
  }

  private async handleShard(request: ServiceRequest): Promise<ServiceResult> {
    let rpc: ShardRpcRequest;
    try {
      rpc = decodeShardRpcRequest(request.payload);
    } catch (error) {
      if (!(error instanceof ShardDecodeError)) throw error;
      return rpcAnswer({ type: 'refused', error: invalidCommand(error.message) });
    }
    switch (rpc.type) {
      case 'pull':
        return rpcAnswer(await this.pull(rpc));
      case 'confirm':
        return rpcAnswer(await this.confirm(rpc));
      case 'installed':
        return rpcAnswer(await this.installed(rpc));
    }
  }

  /** The next part of the transfer the puller asked for, from this group's committed state. */
  private async pull(request: PullRequest): Promise<ShardRpcReply> {
    // After every committed entry is applied, in particular the config that froze the bucket.
    await this.leaderBarrier();
    const result = this.machine.exportBucket(request.bucket, request.configVersion);
    if (!result.ok) {
      return { type: 'refused', error: result.error };
    }
    const exported: BucketExport = { ...result.export, dedup: wantedDedup(result.export.dedup, request) };
    const parts = installParts(exported, {
      partBytesMax: request.partBytesMax,
      firstPairIndex: request.firstPairIndex,
    });
    try {
      const first = await parts.next();
      // installParts always yields at least the last part.
      if (first.done === true) throw new Error('shard replica: installParts yielded no part');
      return { type: 'part', part: first.value };
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('installParts:')) {
        // The puller counts more pairs than the bucket has: not a transfer of this bucket at this version.
        return { type: 'refused', error: stale(request.bucket, request.configVersion, error.message) };
      }
      throw error;
    } finally {
      // Releases the engine's view of the bucket, also when only the first part was taken.
      await parts.return(undefined);
    }
  }

  /** The new owner has the bucket: this group's copy goes, through the log. */
  private async confirm(request: ConfirmRequest): Promise<ShardRpcReply> {
    const command = encodeShardCommand({
      type: 'deleteBucket',
      bucket: request.bucket,
      configVersion: request.configVersion,
    });
    const reply = (await this.node.propose(command)) as ShardReply;
    if (reply.ok) return { type: 'done' };
    if (isShardError(reply)) return { type: 'refused', error: reply.error };
    return { type: 'refused', error: invalidCommand(reply.error.message) };
  }

  /**
   * Whether this group has installed `bucket` for the change to
   * `configVersion`: it has if it serves the bucket at that version, or took
   * a later config (a group finishes a change before it takes the next).
   */
  private async installed(request: InstalledRequest): Promise<ShardRpcReply> {
    await this.leaderBarrier();
    const { bucket, configVersion } = request;
    const config = this.machine.currentConfig;
    if (config.version < configVersion) {
      const advice = 'ask again once it has applied it';
      return {
        type: 'refused',
        error: wrongVersion(config.version, configVersion, `the question on bucket ${bucket}`, advice),
      };
    }
    if (config.version > configVersion) return { type: 'done' };
    const states = this.machine.bucketStates();
    const state = states.get(bucket)?.type;
    if (state === 'serving') return { type: 'done' };
    if (state === 'pulling') return { type: 'refused', error: notReady(config.version, bucketsInTransit(states)) };
    return { type: 'refused', error: stale(bucket, configVersion, `the bucket is ${describeState(state)}`) };
  }

  /**
   * Leader only: a follower's barrier would be forwarded to the leader and
   * succeed, but the asking group then talks to the one member that
   * proposes and exports, as it does for its other requests.
   */
  private async leaderBarrier(): Promise<void> {
    if (this.node.core.role !== 'leader') throw notLeader(this.node.core.leader);
    await this.node.readBarrier();
    this.assertNotRestoring();
  }

  private assertNotRestoring(): void {
    if (this.machine.restoring) {
      throw new NodeError('overloaded', 'this replica is loading a snapshot; retry shortly');
    }
  }
}

/**
 * The dedup entries the puller still needs, sorted by client id: the table's
 * own order (least recently seen first) changes as other buckets are written,
 * while client ids give a cursor that survives between pulls.
 */
function wantedDedup(dedup: BucketExport['dedup'], request: PullRequest): BucketExport['dedup'] {
  const wanted = request.dedup;
  if (wanted.mode === 'none') return [];
  const sorted = [...dedup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return wanted.mode === 'all' ? sorted : sorted.filter(([clientId]) => clientId > wanted.clientId);
}

function answer(reply: ShardReply): ServiceResult {
  return { ok: true, reply: encodeShardReply(reply) };
}

function rpcAnswer(reply: ShardRpcReply): ServiceResult {
  return { ok: true, reply: encodeShardRpcReply(reply) };
}
