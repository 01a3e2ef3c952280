/**
 * What moves a shard group from one config to the next: it runs beside each
 * member's RaftNode and acts only while that member leads. Every decision it
 * makes is a proposal, and what it must do next is derived from the
 * machine's state alone, so a new leader (or a restarted member) carries on
 * where the last one stopped (sharding.md).
 *
 * Every pollMs, one pass (never two at once):
 *   1. a ReadIndex barrier, so the machine holds everything committed;
 *   2. confirm: for each bucket pulled at the current version and served
 *      now, tell its previous owner once, so that it deletes its copy soon;
 *   3. hand off: for each handingOff bucket, ask its new owner whether it
 *      has installed it, and if so propose deleteBucket. This is the durable
 *      half of step 2: a confirm lost with a leader, or never sent because
 *      the new owner moved on, still ends in a deletion, and the new owner
 *      never waits on its previous owners (which may have left for good);
 *   4. pull: for each pulling bucket, ask its previous owner for the next
 *      part and propose it as installBucket, until the last part;
 *   5. next config: once nothing is pulling or handing off, ask the meta
 *      group for version current + 1 and propose it.
 *
 * Which group to ask comes from the config a step is about; where that
 * group's members are comes from the newest config seen, since a group's
 * member list can change (a members command, after a node was replaced)
 * while this group still works on an older version: the list of version
 * v - 1 may name a node that is gone and miss the one that leads now. When a
 * request to a group goes unanswered, the next pass reads the latest config
 * for newer lists.
 */
import type { ClientClock, GroupChannel } from '../client/channel.js';
import { ClientError, MetaRefusedError } from '../client/errors.js';
import { GroupClient } from '../client/group-client.js';
import type { MetaClient } from '../client/meta-client.js';
import { NodeError } from '../node/errors.js';
import type { Ticker } from '../node/ports.js';
import type { RaftNode } from '../node/raft-node.js';
import type { NodeId } from '../raft/types.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import { findGroup, UNASSIGNED } from '../meta/config.js';
import type { BucketState } from './bucket-state.js';
import { INSTALL_PART_BYTES_MAX_DEFAULT } from './bucket-transfer.js';
import { encodeShardCommand } from './command-codec.js';
import type { InstallBucketCommand, ShardReply } from './commands.js';
import { ShardDecodeError } from './errors.js';
import type { DedupWanted, ShardRpcReply, ShardRpcRequest } from './shard-rpc.js';
import { decodeShardRpcReply, encodeShardRpcRequest } from './shard-rpc.js';
import type { ShardStateMachine } from './state-machine.js';

export interface ShardDriverOptions {
  readonly gid: GroupId;
  readonly node: RaftNode;
  readonly machine: ShardStateMachine;
  /** Where configs come from; the driver only queries. */
  readonly meta: MetaClient;
  /** Reaches members of other shard groups by node id. */
  readonly channel: GroupChannel;
  readonly clock: ClientClock;
  /** Drives the polls: the real timers in a process, the scheduler in a simulation. */
  readonly ticker: Ticker;
  readonly random: () => number;
  readonly pollMs?: number;
  /** Bytes of pairs and dedup entries per installBucket part asked for. */
  readonly partBytesMax?: number;
  /** Buckets pulled (or confirmed) at the same time, at most. */
  readonly transfersInFlightMax?: number;
  /** How long one request to another group may take before the pass gives up on it (retried next poll). */
  readonly rpcDeadlineMs?: number;
  readonly attemptTimeoutMs?: number;
  /** Told why a step did not complete this time (for logs and tests); it is retried at the next poll. */
  readonly onProblem?: (problem: string) => void;
}

export const POLL_MS_DEFAULT = 100;
export const TRANSFERS_IN_FLIGHT_MAX_DEFAULT = 4;
export const RPC_DEADLINE_MS_DEFAULT = 1_000;
export const RPC_ATTEMPT_TIMEOUT_MS_DEFAULT = 300;
/** Starts the problem text of a failure that is a bug, not a condition to retry through. */
export const UNEXPECTED_PREFIX = 'unexpected: ';
/** A previous owner asks the new owners of its handingOff buckets every this many passes (step 3). */
const INSTALLED_ASK_EVERY_PASSES = 5;
/** Parts installed per bucket in one pass: a pass ends now and then, so that confirms and configs get their turn. */
const PARTS_PER_PASS_MAX = 64;
/** Old configs kept for finding previous owners: a group only ever looks one version back. */
const CONFIG_CACHE_MAX = 4;

export class ShardDriver {
  private stopTicking: (() => void) | null = null;
  private passRunning = false;
  private stopped = false;
  /**
   * Buckets whose confirm the previous owner answered, of the current version
   * only: it saves resending them every pass. Lost on a restart or leader
   * change, which costs one resend; and a confirm never answered is made up
   * for by the previous owner, which asks (step 3).
   */
  private confirmed: { version: number; buckets: Set<BucketId> } = { version: 0, buckets: new Set() };
  private readonly configs = new Map<number, ShardConfig>();
  private readonly groupClients = new Map<GroupId, { members: string; client: GroupClient }>();
  /** The newest member list seen of each group, and the config version it is from. */
  private readonly newestMembers = new Map<GroupId, { version: number; ids: readonly NodeId[] }>();
  /** Set when a request to another group went unanswered: the next pass reads the latest config. */
  private membersMayBeStale = false;
  private readonly options: ShardDriverOptions;
  /** Passes completed (for tests and metrics). */
  passes = 0;

  constructor(options: ShardDriverOptions) {
    this.options = options;
  }

  start(): void {
    if (this.stopTicking !== null || this.stopped) return;
    this.stopTicking = this.options.ticker.every(this.options.pollMs ?? POLL_MS_DEFAULT, () => this.poll());
  }

  /** No new passes; one in flight ends at its next request (the node or channel refuses it). */
  stop(): void {
    this.stopped = true;
    this.stopTicking?.();
    this.stopTicking = null;
    for (const { client } of this.groupClients.values()) client.close();
  }

  private poll(): void {
    if (this.passRunning || this.stopped || this.options.node.core.role !== 'leader') return;
    this.passRunning = true;
    this.pass()
      .catch((error: unknown) => this.problemFrom(error))
      .finally(() => {
        this.passRunning = false;
        this.passes += 1;
      });
  }

  private async pass(): Promise<void> {
    const { node, machine } = this.options;
    await node.readBarrier();
    if (this.membersMayBeStale) await this.readNewestMembers();
    const config = machine.currentConfig;
    if (config.version === 0) return this.nextConfig(config);
    const states = machine.bucketStates();
    const toConfirm = await this.bucketsToConfirm(config, states);
    await this.forEachBounded(toConfirm, ([bucket, fromGid]) => this.confirm(config, bucket, fromGid));
    const handingOff = [...states].flatMap(([bucket, state]) =>
      state.type === 'handingOff' ? [[bucket, state.toGid] as const] : [],
    );
    // The new owner's confirm usually comes first; asking is the fallback, so not every pass.
    if (this.passes % INSTALLED_ASK_EVERY_PASSES === 0) {
      await this.forEachBounded(handingOff, ([bucket, toGid]) => this.deleteIfInstalled(config, bucket, toGid));
    }
    const pulling = [...states].flatMap(([bucket, state]) =>
      state.type === 'pulling' ? [[bucket, state.fromGid] as const] : [],
    );
    await this.forEachBounded(pulling, ([bucket, fromGid]) => this.pull(config, bucket, fromGid));
    const after = machine.bucketStates();
    const inTransit = [...after.values()].some((state) => state.type !== 'serving');
    if (inTransit || machine.currentConfig.version !== config.version) return;
    await this.nextConfig(config);
  }

  /** Buckets gained from another group at `config`'s version, served now, whose previous owner has not answered a confirm. */
  private async bucketsToConfirm(
    config: ShardConfig,
    states: ReadonlyMap<BucketId, BucketState>,
  ): Promise<(readonly [BucketId, GroupId])[]> {
    const previous = await this.configAt(config.version - 1);
    const gid = this.options.gid;
    const result: (readonly [BucketId, GroupId])[] = [];
    config.buckets.forEach((owner, bucket) => {
      const from = previous.buckets[bucket] ?? UNASSIGNED;
      if (owner !== gid || from === gid || from === UNASSIGNED) return;
      if (states.get(bucket)?.type !== 'serving' || this.isConfirmed(config.version, bucket)) return;
      result.push([bucket, from]);
    });
    return result;
  }

  private isConfirmed(version: number, bucket: BucketId): boolean {
    return this.confirmed.version === version && this.confirmed.buckets.has(bucket);
  }

  private async confirm(config: ShardConfig, bucket: BucketId, fromGid: GroupId): Promise<void> {
    const request: ShardRpcRequest = { type: 'confirm', bucket, configVersion: config.version };
    const reply = await this.call(await this.configAt(config.version - 1), fromGid, request);
    // stale: the old owner deleted the bucket already, or moved on, which it can only do after deleting it.
    if (reply.type === 'done' || (reply.type === 'refused' && reply.error.code === 'stale')) {
      if (this.confirmed.version !== config.version) this.confirmed = { version: config.version, buckets: new Set() };
      this.confirmed.buckets.add(bucket);
    } else {
      this.problem(`confirm of bucket ${bucket} at version ${config.version} to group ${fromGid}: ${describe(reply)}`);
    }
  }

  /** Pulls `bucket` part by part from `fromGid`, from where the machine's pulling state says it stands. */
  private async pull(config: ShardConfig, bucket: BucketId, fromGid: GroupId): Promise<void> {
    const { machine, node } = this.options;
    // Sent whole at the start of every pass: merging an entry twice is harmless, and nothing records how far it got.
    let dedup: DedupWanted = { mode: 'all' };
    for (let parts = 0; parts < PARTS_PER_PASS_MAX; parts++) {
      const state = machine.bucketStates().get(bucket);
      if (state?.type !== 'pulling' || machine.currentConfig.version !== config.version) return;
      const request: ShardRpcRequest = {
        type: 'pull',
        bucket,
        configVersion: config.version,
        firstPairIndex: state.pairsReceived,
        partBytesMax: this.options.partBytesMax ?? INSTALL_PART_BYTES_MAX_DEFAULT,
        dedup,
      };
      const reply = await this.call(await this.configAt(config.version - 1), fromGid, request);
      if (reply.type !== 'part') {
        // wrongVersion: the previous owner has not applied this config yet; the next poll asks again.
        this.problem(`pull of bucket ${bucket} at version ${config.version} from group ${fromGid}: ${describe(reply)}`);
        return;
      }
      const installed = (await node.propose(encodeShardCommand(reply.part))) as ShardReply;
      if (!installed.ok) {
        this.problem(
          `install of bucket ${bucket} part at pair ${reply.part.firstPairIndex}: ${installed.error.message}`,
        );
        return;
      }
      if (reply.part.last) return;
      dedup = dedupAfter(reply.part, dedup);
    }
  }

  /** Deletes a bucket handed off to `toGid` once that group says it has it. */
  private async deleteIfInstalled(config: ShardConfig, bucket: BucketId, toGid: GroupId): Promise<void> {
    const reply = await this.call(config, toGid, { type: 'installed', bucket, configVersion: config.version });
    if (reply.type !== 'done') return;
    const command = encodeShardCommand({ type: 'deleteBucket', bucket, configVersion: config.version });
    const deleted = (await this.options.node.propose(command)) as ShardReply;
    // stale: a confirm deleted it meanwhile.
    if (!deleted.ok && deleted.error.code !== 'stale') {
      this.problem(`delete of bucket ${bucket} at version ${config.version}: ${deleted.error.message}`);
    }
  }

  private async nextConfig(config: ShardConfig): Promise<void> {
    let next: ShardConfig;
    try {
      next = await this.options.meta.query(config.version + 1);
    } catch (error) {
      // noSuchVersion: there is no newer config, the usual answer.
      if (error instanceof MetaRefusedError && error.code === 'noSuchVersion') return;
      throw error;
    }
    this.remember(next);
    const reply = (await this.options.node.propose(encodeShardCommand({ type: 'config', config: next }))) as ShardReply;
    if (!reply.ok) this.problem(`config ${next.version}: ${reply.error.message}`);
  }

  /** Config `version` from the meta group, cached: configs never change. */
  private async configAt(version: number): Promise<ShardConfig> {
    const known = this.configs.get(version);
    if (known !== undefined) return known;
    const config = await this.options.meta.query(version);
    this.remember(config);
    return config;
  }

  /** Reads the latest config for where each group's members are now. */
  private async readNewestMembers(): Promise<void> {
    this.noteMembers(await this.options.meta.query(null));
    // Only now: when the meta group does not answer, the next pass asks again.
    this.membersMayBeStale = false;
  }

  private remember(config: ShardConfig): void {
    this.noteMembers(config);
    this.configs.set(config.version, config);
    for (const version of this.configs.keys()) {
      if (this.configs.size <= CONFIG_CACHE_MAX) break;
      this.configs.delete(version);
    }
  }

  /** One request to group `gid`, which `config` names (one where it owns the bucket in question). */
  private async call(config: ShardConfig, gid: GroupId, request: ShardRpcRequest): Promise<ShardRpcReply> {
    const client = this.groupClient(gid, this.membersOf(config, gid));
    let reply: Uint8Array;
    try {
      reply = await client.call({ payload: encodeShardRpcRequest(request), kind: 'read' });
    } catch (error) {
      // The group may have new members that this list lacks.
      if (error instanceof ClientError) this.membersMayBeStale = true;
      throw error;
    }
    return decodeShardRpcReply(reply);
  }

  /** Group `gid`'s member ids: from the newest config seen that has the group, `config` or a later one. */
  private membersOf(config: ShardConfig, gid: GroupId): readonly NodeId[] {
    const group = findGroup(config, gid);
    if (group === undefined) throw new Error(`config ${config.version} has no group ${gid}, which owns a bucket`);
    const newest = this.newestMembers.get(gid);
    return newest !== undefined && newest.version > config.version
      ? newest.ids
      : group.members.map((member) => member.id);
  }

  /**
   * Records the member lists of `config` where they are newer than those
   * known, and forgets groups that a newer config than their list no longer
   * has, so that the map holds about the groups of the newest config seen.
   * A step about a group that left uses the list of the config it is about.
   */
  private noteMembers(config: ShardConfig): void {
    for (const group of config.groups) {
      const known = this.newestMembers.get(group.gid);
      if (known !== undefined && known.version >= config.version) continue;
      this.newestMembers.set(group.gid, { version: config.version, ids: group.members.map((member) => member.id) });
    }
    for (const [gid, known] of this.newestMembers) {
      if (known.version < config.version && findGroup(config, gid) === undefined) this.newestMembers.delete(gid);
    }
  }

  private groupClient(gid: GroupId, members: readonly number[]): GroupClient {
    const key = members.join(',');
    const known = this.groupClients.get(gid);
    if (known !== undefined && known.members === key) return known.client;
    known?.client.close();
    const client = new GroupClient({
      service: 'shard',
      members,
      channel: this.options.channel,
      clock: this.options.clock,
      random: this.options.random,
      deadlineMs: this.options.rpcDeadlineMs ?? RPC_DEADLINE_MS_DEFAULT,
      attemptTimeoutMs: this.options.attemptTimeoutMs ?? RPC_ATTEMPT_TIMEOUT_MS_DEFAULT,
    });
    this.groupClients.set(gid, { members: key, client });
    return client;
  }

  /** Runs `work` on every item, at most transfersInFlightMax at a time; a failure of one does not stop the others. */
  private async forEachBounded<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    const limit = this.options.transfersInFlightMax ?? TRANSFERS_IN_FLIGHT_MAX_DEFAULT;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && !this.stopped) {
        const item = items[next++]!;
        try {
          await work(item);
        } catch (error) {
          this.problemFrom(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  }

  /**
   * Expected failures (no leader, no answer in time, the node stopping) end a
   * step. Anything else is a bug, reported as such rather than thrown: the
   * pass runs from a timer, where a throw would only be an unhandled rejection.
   */
  private problemFrom(error: unknown): void {
    if (error instanceof NodeError || error instanceof ClientError || error instanceof ShardDecodeError) {
      this.problem(error.message);
      return;
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.problem(`${UNEXPECTED_PREFIX}${text}`);
  }

  private problem(message: string): void {
    this.options.onProblem?.(`group ${this.options.gid} node ${this.options.node.id}: ${message}`);
  }
}

/** Which dedup entries the next pull needs after `part` arrived. */
function dedupAfter(part: InstallBucketCommand, asked: DedupWanted): DedupWanted {
  // installParts sends every dedup entry before the first pair.
  if (part.pairs.length > 0) return { mode: 'none' };
  const lastClient = part.dedup.at(-1);
  return lastClient === undefined ? asked : { mode: 'after', clientId: lastClient[0] };
}

function describe(reply: ShardRpcReply): string {
  switch (reply.type) {
    case 'part':
      return 'a part';
    case 'done':
      return 'done';
    case 'refused':
      return `${reply.error.code}: ${reply.error.message}`;
  }
}
