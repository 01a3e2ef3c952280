/**
 * The cluster a chaos run attacks: three meta members and two shard groups
 * of three, every one a real `raftkv` process on loopback, with each
 * member's Raft traffic to its peers routed through a FaultProxy so that
 * the nemesis can partition a group. Clients, the meta config and other
 * groups use the members' real ports. Every member runs with the disk fault
 * shim (ChaosDisks), and an exit no kill asked for is recorded.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { realClientClock } from '../../../src/client/channel.js';
import { MetaClient } from '../../../src/client/meta-client.js';
import { ShardedKvClient } from '../../../src/client/sharded-client.js';
import { askNodeStatus } from '../../../src/client/status-client.js';
import { TcpGroupChannel } from '../../../src/client/tcp-channel.js';
import type { GroupInfo } from '../../../src/meta/config.js';
import type { NodeStatus } from '../../../src/node/node-status.js';
import { EXIT_CODES } from '../../../src/cli/node-failure.js';
import type { MemberHooks } from '../support/process-group.js';
import { freePort, ProcessGroup } from '../support/process-group.js';
import { ChaosDisks } from './chaos-disks.js';
import { FaultProxy } from './fault-proxy.js';

const HOST = '127.0.0.1';
export const SHARD_GIDS = [1, 2] as const;
const MEMBERS_PER_GROUP = 3;
/** Many buckets, so that a move of a few of them leaves both groups serving. */
export const BUCKET_COUNT = 16;
/** Info, not the default warn: a failed run prints the logs' tail, where connections lost and elections tell the story. */
const SERVER_FLAGS = ['--log-level', 'info'];
/** Snapshots often: a restarted or cut-off member often catches up from one. */
const SHARD_FLAGS = ['--snapshot-every', '500'];
const STATUS_TIMEOUT_MS = 1_000;
const SETUP_DEADLINE_MS = 60_000;

/** The meta group or one shard group, as the nemesis and the report name it. */
export interface ChaosGroup {
  /** 'meta', 'group 1', 'group 2'. */
  readonly name: string;
  /** 0 for the meta group. */
  readonly gid: number;
  readonly processes: ProcessGroup;
}

/** A member that exited without being killed. */
export interface MemberExit {
  /** 'group 1 node 12'. */
  readonly node: string;
  readonly id: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** Whether it exited with the disk failure code while its disk was broken: what it should do. */
  readonly expected: boolean;
  /** Since the cluster was created. */
  readonly atSeconds: number;
}

const EXIT_POLL_MS = 50;
const CATCH_UP_POLL_MS = 100;

export class ChaosCluster {
  private readonly channels: TcpGroupChannel[] = [];
  private readonly clients: { close(): void }[] = [];
  /** Members added by membership changes so far, for their ids. */
  private membersAdded = 0;

  private constructor(
    readonly clusterId: string,
    readonly groups: readonly ChaosGroup[],
    readonly proxy: FaultProxy,
    readonly disks: ChaosDisks,
    /** Filled as members exit on their own. */
    readonly exits: MemberExit[],
    /** The proxy port of each directed link "from->to", as members' --members flags name their peers. */
    private readonly proxyPorts: Map<string, number>,
  ) {}

  /** Creates the processes and the proxy's links; starts nothing yet. */
  static async create(): Promise<ChaosCluster> {
    const proxy = new FaultProxy(HOST);
    // Filled as links are made; read by ProcessGroup when it starts a member.
    const proxyPorts = new Map<string, number>();
    const peerPortOf = (selfId: number, peerId: number): number => {
      const port = proxyPorts.get(`${selfId}->${peerId}`);
      if (port === undefined) throw new Error(`no proxy link from ${selfId} to ${peerId}`);
      return port;
    };
    const disks = new ChaosDisks();
    const exits: MemberExit[] = [];
    const createdMs = performance.now();
    // Read when members start and exit, after every group exists.
    const groups: ChaosGroup[] = [];
    const hooks: MemberHooks = {
      envOf: (id) => disks.envOf(id),
      onExitOnItsOwn: (id, code, signal) => {
        const group = groups.find((candidate) => candidate.processes.members.has(id));
        exits.push({
          node: `${group?.name ?? 'unknown group'} node ${id}`,
          id,
          code,
          signal,
          expected: code === EXIT_CODES.diskFailure && disks.isBroken(id),
          atSeconds: (performance.now() - createdMs) / 1000,
        });
      },
    };
    const meta = await ProcessGroup.create(MEMBERS_PER_GROUP, SERVER_FLAGS, 'meta', { peerPortOf, hooks });
    const clusterId = meta.clusterId;
    groups.push({ name: 'meta', gid: 0, processes: meta });
    for (const gid of SHARD_GIDS) {
      const flags = [...SERVER_FLAGS, ...SHARD_FLAGS, '--gid', String(gid), '--meta', meta.membersFlag];
      const processes = await ProcessGroup.create(MEMBERS_PER_GROUP, flags, 'shard', {
        idBase: gid * 10,
        clusterId,
        peerPortOf,
        hooks,
      });
      groups.push({ name: `group ${gid}`, gid, processes });
    }
    for (const { processes } of groups) {
      for (const id of processes.ids) await disks.add(id, path.join(processes.directory, `node-${id}`));
      for (const from of processes.ids) {
        for (const to of processes.ids) {
          if (from === to) continue;
          const port = await freePort();
          await proxy.addLink(from, to, port, processes.member(to).peerPort);
          proxyPorts.set(`${from}->${to}`, port);
        }
      }
    }
    return new ChaosCluster(clusterId, groups, proxy, disks, exits, proxyPorts);
  }

  /** Starts every process, joins both shard groups with the buckets spread, and waits until each group serves. */
  async start(): Promise<void> {
    await Promise.all(this.groups.map((group) => group.processes.startAll()));
    const meta = this.metaClient(SETUP_DEADLINE_MS);
    const shardGroups: GroupInfo[] = this.shardGroups.map(({ gid, processes }) => ({
      gid,
      members: processes.ids.map((id) => ({ id, address: `${HOST}:${processes.member(id).peerPort}` })),
    }));
    await meta.join(shardGroups, BUCKET_COUNT);
  }

  /**
   * Makes a new member of `group` (an id no member ever had) with its proxy
   * links, and starts it with --join; the group does not count it yet (see
   * client/replace-member.ts). Answers its id, the address clients use and
   * the one its peers reach it at (the proxy's).
   */
  async addMember(group: ChaosGroup): Promise<{ id: number; address: string; peerAddress: string }> {
    this.membersAdded += 1;
    const id = 100 * group.gid + this.membersAdded;
    const peers = group.processes.ids;
    const member = await group.processes.addMember(id);
    await this.disks.add(id, path.join(group.processes.directory, `node-${id}`));
    for (const to of peers) {
      const port = await freePort();
      await this.proxy.addLink(id, to, port, group.processes.member(to).peerPort);
      this.proxyPorts.set(`${id}->${to}`, port);
    }
    const inbound = await this.proxy.addInboundLinks(id, peers, member.peerPort);
    for (const from of peers) this.proxyPorts.set(`${from}->${id}`, inbound);
    await group.processes.start(id, { flags: ['--join'] });
    return { id, address: `${HOST}:${member.peerPort}`, peerAddress: `${HOST}:${inbound}` };
  }

  get meta(): ChaosGroup {
    return this.groups[0]!;
  }

  get shardGroups(): readonly ChaosGroup[] {
    return this.groups.slice(1);
  }

  /** The group node `id` belongs to. */
  groupOf(id: number): ChaosGroup {
    const group = this.groups.find((candidate) => candidate.processes.members.has(id));
    if (group === undefined) throw new Error(`no node ${id} in the cluster`);
    return group;
  }

  /** A meta client with its own connections, closed with the cluster. */
  metaClient(deadlineMs: number): MetaClient {
    const addresses = new Map(this.meta.processes.ids.map((id) => [id, this.addressOf(id)]));
    const channel = new TcpGroupChannel({ members: addresses, clusterId: this.clusterId });
    this.channels.push(channel);
    const client = new MetaClient({
      members: this.meta.processes.ids,
      channel,
      clock: realClientClock,
      clientId: `chaos-meta-${randomUUID()}`,
      random: Math.random,
      deadlineMs,
    });
    this.clients.push(client);
    return client;
  }

  /** A client of the whole cluster with its own connections and client id, closed with the cluster. */
  shardedClient(deadlineMs: number, attemptTimeoutMs: number): ShardedKvClient {
    const channel = new TcpGroupChannel({ members: new Map(), clusterId: this.clusterId });
    this.channels.push(channel);
    const client = new ShardedKvClient({
      meta: this.metaClient(deadlineMs),
      channel,
      clock: realClientClock,
      clientId: `chaos-${randomUUID()}`,
      random: Math.random,
      deadlineMs,
      attemptTimeoutMs,
      learnAddresses: (members) => channel.learn(members),
    });
    this.clients.push(client);
    return client;
  }

  /** The member of `group` that says it leads, in the highest term any member reports; null during an election. */
  async leaderOf(group: ChaosGroup): Promise<number | null> {
    const answers = await Promise.all(
      group.processes.ids.map((id) =>
        askNodeStatus(this.addressOf(id), { clusterId: this.clusterId, timeoutMs: STATUS_TIMEOUT_MS }),
      ),
    );
    let leader: { id: number; term: number } | null = null;
    for (const answer of answers) {
      if (!answer.ok || answer.status.role !== 'leader') continue;
      if (leader === null || answer.status.term > leader.term)
        leader = { id: answer.status.id, term: answer.status.term };
    }
    return leader?.id ?? null;
  }

  /** Waits up to `timeoutMs` for node `id` to exit on its own; answers its exit, or null when it still runs. */
  async exitOf(id: number, sinceIndex: number, timeoutMs: number): Promise<MemberExit | null> {
    const deadlineMs = performance.now() + timeoutMs;
    for (;;) {
      const exit = this.exits.slice(sinceIndex).find((candidate) => candidate.id === id);
      if (exit !== undefined) return exit;
      if (performance.now() > deadlineMs) return null;
      await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
    }
  }

  /**
   * Waits until restarted node `id` has applied what the rest of its group
   * had committed when the wait began; answers that index and how long it
   * took, or throws after `timeoutMs` (the run breaks off: a node that does
   * not catch up is a bug).
   */
  async catchUp(group: ChaosGroup, id: number, timeoutMs: number): Promise<{ index: number; ms: number }> {
    const startMs = performance.now();
    const others = group.processes.ids.filter((other) => other !== id);
    const commits = await Promise.all(others.map(async (other) => (await this.statusOf(other))?.commitIndex ?? 0));
    const index = Math.max(...commits);
    let applied: number | null = null;
    while (performance.now() - startMs < timeoutMs) {
      applied = (await this.statusOf(id))?.appliedIndex ?? null;
      if (applied !== null && applied >= index) return { index, ms: performance.now() - startMs };
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
    }
    throw new Error(
      `${group.name} node ${id} did not catch up to index ${index} within ${timeoutMs} ms of its restart ` +
        `(applied: ${applied ?? 'no answer'}); see its log`,
    );
  }

  private async statusOf(id: number): Promise<NodeStatus | null> {
    const answer = await askNodeStatus(this.addressOf(id), { clusterId: this.clusterId, timeoutMs: STATUS_TIMEOUT_MS });
    return answer.ok ? answer.status : null;
  }

  /** The last lines every process wrote on stderr, for a failure report. */
  logsTail(linesPerProcess: number): string {
    return this.groups
      .flatMap(({ processes }) =>
        processes.ids.flatMap((id) =>
          processes.output.filter((line) => line.startsWith(`[node ${id}]`)).slice(-linesPerProcess),
        ),
      )
      .join('');
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    for (const channel of this.channels) channel.close();
    this.proxy.healAll();
    await Promise.all(this.groups.map(({ processes }) => processes.close()));
    await this.proxy.close();
    await this.disks.close();
  }

  private addressOf(id: number): { host: string; port: number } {
    return { host: HOST, port: this.groupOf(id).processes.member(id).peerPort };
  }
}
