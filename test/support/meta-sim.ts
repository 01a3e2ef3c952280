/**
 * The meta (config) group on the simulated network, for the 6.824 shard
 * controller scenarios: real RaftNodes with in-memory MetaStateMachines
 * (a crash loses the machine; it comes back from the latest snapshot and
 * the log), and admin clients that find the leader themselves and retry
 * with the same stamp, as the real client will.
 */
import type { NodeErrorCode } from '../../src/node/index.js';
import { NodeError } from '../../src/node/index.js';
import type { GroupId, GroupInfo, MetaReply, MetaWriteCommand, ShardConfig } from '../../src/meta/index.js';
import { bucketCounts, canonicalConfigJson, encodeMetaCommand, MetaStateMachine } from '../../src/meta/index.js';
import type { NodeId } from '../../src/raft/index.js';
import type { NodeGroupOptions } from './node-group.js';
import { NodeGroup } from './node-group.js';

/** Attempts per request before the admin gives up: with the delay below, ~10 s of simulated time. */
const ATTEMPTS_MAX = 100;
/** Simulated wait before retrying when no member would take the request. */
const RETRY_DELAY_MS = 100;
/** Node refusals after which the same request may be sent again (the stamp makes that safe). */
const RETRYABLE: readonly NodeErrorCode[] = ['notLeader', 'timeout', 'outcomeUnknown', 'overloaded', 'stopped'];

export class MetaSim {
  readonly group: NodeGroup<MetaStateMachine>;

  constructor(seed: number, ids: NodeId[] = [1, 2, 3], options: NodeGroupOptions = {}) {
    this.group = new NodeGroup<MetaStateMachine>(seed, ids, options, {
      open: () => Promise.resolve(new MetaStateMachine()),
    });
  }

  get seed(): number {
    return this.group.seed;
  }

  async start(): Promise<void> {
    await this.group.startAll();
    await this.group.electLeader();
  }

  admin(clientId: string): MetaAdmin {
    return new MetaAdmin(this.group, clientId);
  }

  await<T>(promise: Promise<T>, timeoutMs = 30_000): Promise<T> {
    return this.group.await(promise, timeoutMs);
  }

  /** Every running member's chain, as canonical JSON per version, once they have all caught up with the leader. */
  async chains(): Promise<Map<NodeId, string[]>> {
    const running = this.group.ids.filter((id) => isUp(this.group, id));
    const leader = await this.group.electLeader();
    const target = this.group.machine(leader.id).appliedIndex;
    const caughtUp = await this.group.runUntil(
      () => running.every((id) => this.group.machine(id).appliedIndex >= target),
      10_000,
    );
    if (!caughtUp) throw new Error(`seed ${this.seed}: members did not catch up to index ${target}`);
    return new Map(running.map((id) => [id, chainOf(this.group.machine(id))]));
  }
}

function isUp(group: NodeGroup<MetaStateMachine>, id: NodeId): boolean {
  const node = group.nodes.get(id);
  return node !== null && node !== undefined;
}

/** Canonical JSON of every version of the machine's chain, 0 first. */
export function chainOf(machine: MetaStateMachine): string[] {
  const chain: string[] = [];
  for (let version = 0; version <= machine.latest.version; version++)
    chain.push(canonicalConfigJson(configOf(machine.query(version))));
  return chain;
}

/** The config of an ok reply; throws with the error's message otherwise. */
export function configOf(reply: MetaReply): ShardConfig {
  if (!reply.ok) throw new Error(`expected a config, got ${reply.error.code}: ${reply.error.message}`);
  return reply.config;
}

/**
 * An admin client: one client id, a sequence per request, and the 6.824
 * clerk's loop: try the member it thinks leads, follow notLeader hints, wait
 * and go round when nobody answers, and resend the same command after a
 * timeout or an unknown outcome.
 */
export class MetaAdmin {
  private sequence = 0;
  private guess: NodeId;
  /** Requests that were resent at least once: what the exactly-once scenarios count. */
  retries = 0;

  constructor(
    private readonly group: NodeGroup<MetaStateMachine>,
    readonly clientId: string,
  ) {
    this.guess = group.ids[0]!;
  }

  join(groups: GroupInfo[], bucketCount?: number): Promise<MetaReply> {
    return this.submit({
      type: 'join',
      ...this.stamp(),
      groups,
      ...(bucketCount === undefined ? {} : { bucketCount }),
    });
  }

  leave(gids: GroupId[]): Promise<MetaReply> {
    return this.submit({ type: 'leave', ...this.stamp(), gids });
  }

  move(fromBucket: number, toBucket: number, gid: GroupId): Promise<MetaReply> {
    return this.submit({ type: 'move', ...this.stamp(), fromBucket, toBucket, gid });
  }

  /** A linearizable read: a ReadIndex barrier on some member, then that member's machine. */
  query(version: number | null = null): Promise<MetaReply> {
    return this.withRetries(async (id) => {
      await this.group.node(id).readBarrier();
      return this.group.machine(id).query(version);
    });
  }

  /** Sends `command` until a member applies it; the stamp stays the same across attempts. */
  submit(command: MetaWriteCommand): Promise<MetaReply> {
    const bytes = encodeMetaCommand(command);
    return this.withRetries(async (id) => (await this.group.node(id).propose(bytes)) as MetaReply);
  }

  private stamp(): { clientId: string; sequence: number } {
    return { clientId: this.clientId, sequence: ++this.sequence };
  }

  private async withRetries(attempt: (id: NodeId) => Promise<MetaReply>): Promise<MetaReply> {
    for (let attempts = 0; attempts < ATTEMPTS_MAX; attempts++) {
      if (attempts > 0) this.retries += 1;
      const id = this.guess;
      if (!isUp(this.group, id)) {
        this.guess = this.nextMember(id);
        await this.sleep(RETRY_DELAY_MS / this.group.ids.length);
        continue;
      }
      try {
        return await attempt(id);
      } catch (error) {
        if (!(error instanceof NodeError) || !RETRYABLE.includes(error.code)) throw error;
        const hinted = error.code === 'notLeader' && error.leader !== null && error.leader !== id;
        this.guess = hinted ? error.leader : this.nextMember(id);
        if (!hinted) await this.sleep(RETRY_DELAY_MS);
      }
    }
    throw new Error(`seed ${this.group.seed}: ${this.clientId} gave up after ${ATTEMPTS_MAX} attempts`);
  }

  private nextMember(id: NodeId): NodeId {
    const ids = this.group.ids;
    return ids[(ids.indexOf(id) + 1) % ids.length]!;
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.group.scheduler.after(delayMs, () => resolve()));
  }
}

/** A group with `memberCount` members at distinct addresses derived from its gid. */
export function groupInfo(gid: GroupId, memberCount = 3): GroupInfo {
  return {
    gid,
    members: Array.from({ length: memberCount }, (_, k) => ({ id: k + 1, address: `g${gid}-n${k + 1}.test:7000` })),
  };
}

/**
 * The 6.824 check: the config holds exactly `gids`, every bucket belongs to
 * one of them (when there are any), and bucket counts differ by at most one.
 */
export function checkBalanced(config: ShardConfig, gids: readonly GroupId[], seed: number): void {
  const expected = [...gids].sort((a, b) => a - b);
  const actual = config.groups.map((group) => group.gid);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `seed ${seed}: config ${config.version} has groups ${actual.join(',')}, expected ${expected.join(',')}`,
    );
  }
  const live = new Set(expected);
  config.buckets.forEach((gid, bucket) => {
    if (live.size > 0 ? !live.has(gid) : gid !== 0) {
      throw new Error(`seed ${seed}: config ${config.version} gives bucket ${bucket} to group ${gid}`);
    }
  });
  const counts = [...bucketCounts(config).values()];
  if (counts.length > 0 && Math.max(...counts) - Math.min(...counts) > 1) {
    throw new Error(`seed ${seed}: config ${config.version} is unbalanced: ${counts.join(',')} buckets per group`);
  }
}
