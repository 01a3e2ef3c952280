/**
 * A whole sharded cluster on the simulated network, for the 6.824 ShardKV
 * scenarios: one meta group of three members and shard groups of three, all
 * real RaftNodes on one seeded network with node ids unique across groups;
 * shard members run a ShardStateMachine over an in-memory engine whose
 * "disk" survives crashes, a ShardReplica and a ShardDriver. Clients, the
 * drivers and the admin speak through a second seeded network (requests and
 * replies by node id), so they are as faulty as the Raft traffic when asked.
 * A run replays from its seed.
 */
import type { ClientClock, GroupChannel } from '../../src/client/channel.js';
import { MetaClient } from '../../src/client/meta-client.js';
import { ShardedKvClient } from '../../src/client/sharded-client.js';
import type { MemoryKvDisk } from '../../src/kv/memory-engine.js';
import { emptyMemoryKvDisk, MemoryKvEngine } from '../../src/kv/memory-engine.js';
import type { GroupId, GroupInfo } from '../../src/meta/index.js';
import { MetaStateMachine } from '../../src/meta/index.js';
import { MetaReplica } from '../../src/meta/meta-replica.js';
import type { ReplicatedStateMachine, Ticker } from '../../src/node/index.js';
import { RaftNode } from '../../src/node/index.js';
import type { HardState, Message, NodeId } from '../../src/raft/index.js';
import { EMPTY_HARD_STATE, messageSizeBytes } from '../../src/raft/index.js';
import { ShardDriver, UNEXPECTED_PREFIX } from '../../src/shard/shard-driver.js';
import { ShardReplica } from '../../src/shard/shard-replica.js';
import { ShardStateMachine } from '../../src/shard/state-machine.js';
import { SeededRandom } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import type { MemoryLogDisk, MemorySnapshotDisk } from '../../src/storage/index.js';
import {
  emptyMemoryLogDisk,
  emptyMemorySnapshotDisk,
  MemoryLogStore,
  MemorySnapshotStore,
} from '../../src/storage/index.js';
import type { GroupService } from '../../src/transport/service-protocol.js';
import { SimNetwork } from '../../src/transport/sim-network.js';
import type { ClientPacket } from './sim-channel.js';
import { SimChannel } from './sim-channel.js';
import { SimTime } from './sim-time.js';

export const META_IDS: readonly NodeId[] = [1, 2, 3];
const MEMBERS_PER_GROUP = 3;
/** Member k (1-based) of group gid is node gid * GROUP_ID_STRIDE + k: unique as long as gids stay below 100. */
const GROUP_ID_STRIDE = 10;
/** Endpoints on the client network besides the members' own: each driver, each client, the admin. */
const DRIVER_ENDPOINT_BASE = 10_000;
const CLIENT_ENDPOINT_BASE = 20_000;
const ADMIN_ENDPOINT = 30_000;
const RAW_ENDPOINT_BASE = 40_000;
const TICK_MS = 20;
/** Entries a member keeps behind its snapshot for followers that lag a little: few, so snapshots bound the log. */
const SNAPSHOT_CATCH_UP_ENTRIES = 10;
/** A driver's requests to meta and to other groups: short, so that a pass never stalls long on a down group. */
const DRIVER_DEADLINE_MS = 1_000;
const DRIVER_ATTEMPT_TIMEOUT_MS = 300;

/** What a member keeps across crashes. */
interface MemberDisk {
  log: MemoryLogDisk;
  snapshots: MemorySnapshotDisk;
  hardState: HardState;
  readonly engine: MemoryKvDisk;
}

interface Member {
  readonly id: NodeId;
  /** 0 for the meta group. */
  readonly gid: GroupId;
  readonly voters: readonly NodeId[];
  readonly disk: MemberDisk;
  node: RaftNode | null;
  service: GroupService | null;
  shardMachine: ShardStateMachine | null;
  driver: ShardDriver | null;
  driverChannel: SimChannel | null;
  /** Starts so far: names each driver's meta session uniquely. */
  starts: number;
}

/** A member's disks, in bytes (ShardWorld.persistedBytes). */
export interface PersistedBytes {
  readonly engine: number;
  readonly log: number;
  readonly snapshots: number;
  readonly total: number;
}

export interface ShardWorldOptions {
  /** The shard groups that exist (they join the config only when the test says so). */
  readonly gids: readonly GroupId[];
  /** Snapshot every this many applied entries (6.824's maxraftstate); effectively never when absent. */
  readonly snapshotEveryEntries?: number;
  /** Bytes per installBucket part the drivers ask for: small, to move buckets in several parts. */
  readonly partBytesMax?: number;
}

export class ShardWorld {
  readonly scheduler = new Scheduler();
  readonly random: SeededRandom;
  readonly raftNetwork: SimNetwork<Message>;
  readonly clientNetwork: SimNetwork<ClientPacket>;
  readonly clock: ClientClock;
  readonly admin: MetaClient;
  /** Why driver steps did not complete: routine, but kept for a failure's message. */
  readonly problems: string[] = [];
  /** Failures that stopped a node, and driver errors that are bugs; a test expects none. */
  readonly failures: string[] = [];
  private readonly time: SimTime;
  private readonly members = new Map<NodeId, Member>();
  private readonly ticker: Ticker;
  private readonly channels: SimChannel[] = [];

  constructor(
    readonly seed: number,
    private readonly options: ShardWorldOptions,
  ) {
    const scheduler = this.scheduler;
    this.time = new SimTime(scheduler, seed, () => new Promise((resolve) => setImmediate(resolve)));
    this.random = new SeededRandom(seed);
    this.raftNetwork = new SimNetwork<Message>({
      scheduler,
      random: this.random.fork(),
      sizeBytes: messageSizeBytes,
      route: (m) => ({ from: m.from, to: m.to }),
    });
    this.clientNetwork = new SimNetwork<ClientPacket>({
      scheduler,
      random: this.random.fork(),
      sizeBytes: () => 64,
      route: (packet) => ({ from: packet.from, to: packet.to }),
    });
    this.clock = {
      nowMs: () => scheduler.nowMs,
      sleep: (delayMs) => new Promise((resolve) => scheduler.after(delayMs, () => resolve())),
    };
    this.ticker = {
      every(tickMs, onTick) {
        const handle = scheduler.every(tickMs, onTick);
        return () => scheduler.cancel(handle);
      },
      after(delayMs, action) {
        const handle = scheduler.after(delayMs, action);
        return () => scheduler.cancel(handle);
      },
    };
    this.addGroup(0, META_IDS);
    for (const gid of options.gids) this.addGroup(gid, memberIds(gid));
    this.admin = this.metaClient(this.channelAt(ADMIN_ENDPOINT), 'admin', 30_000);
  }

  get nowMs(): number {
    return this.scheduler.nowMs;
  }

  /** Starts every member of every group. */
  async startAll(): Promise<void> {
    for (const id of this.members.keys()) await this.start(id);
  }

  async start(id: NodeId): Promise<void> {
    const member = this.member(id);
    if (member.node !== null) return;
    member.starts += 1;
    const machine: ReplicatedStateMachine =
      member.gid === 0
        ? new MetaStateMachine()
        : await ShardStateMachine.open(new MemoryKvEngine(member.disk.engine), { gid: member.gid });
    const node = await this.startNode(member, machine);
    member.node = node;
    this.raftNetwork.attach(id, (m) => this.members.get(m.to)?.node?.receive(m));
    if (machine instanceof ShardStateMachine) {
      member.shardMachine = machine;
      member.service = new ShardReplica(node, machine);
      const channel = this.channelAt(DRIVER_ENDPOINT_BASE + id);
      const random = this.random.fork();
      member.driverChannel = channel;
      member.driver = new ShardDriver({
        gid: member.gid,
        node,
        machine,
        meta: this.metaClient(channel, `driver-${id}-${member.starts}`, DRIVER_DEADLINE_MS),
        channel,
        clock: this.clock,
        ticker: this.ticker,
        random: () => random.next(),
        rpcDeadlineMs: DRIVER_DEADLINE_MS,
        attemptTimeoutMs: DRIVER_ATTEMPT_TIMEOUT_MS,
        ...(this.options.partBytesMax === undefined ? {} : { partBytesMax: this.options.partBytesMax }),
        onProblem: (problem) => this.noteProblem(problem),
      });
      member.driver.start();
    } else {
      member.service = new MetaReplica(node, machine as MetaStateMachine);
    }
    this.clientNetwork.attach(id, (packet) => this.serve(member, packet));
  }

  /** The member loses its process; its disks stay. */
  async crash(id: NodeId): Promise<void> {
    const member = this.member(id);
    const node = member.node;
    if (node === null) return;
    member.driver?.stop();
    member.driverChannel?.close();
    this.clientNetwork.detach(id);
    this.raftNetwork.detach(id);
    member.node = null;
    member.service = null;
    member.driver = null;
    member.driverChannel = null;
    await node.stop();
  }

  async crashGroup(gid: GroupId): Promise<void> {
    for (const id of this.idsOf(gid)) await this.crash(id);
  }

  async startGroup(gid: GroupId): Promise<void> {
    for (const id of this.idsOf(gid)) await this.start(id);
  }

  /** The members of group gid (0: the meta group). */
  idsOf(gid: GroupId): NodeId[] {
    return [...this.members.values()].filter((member) => member.gid === gid).map((member) => member.id);
  }

  /** Group gid as the config names it. */
  groupInfo(gid: GroupId): GroupInfo {
    return { gid, members: this.idsOf(gid).map((id) => ({ id, address: `n${id}.sim:7000` })) };
  }

  isUp(id: NodeId): boolean {
    return this.member(id).node !== null;
  }

  /** The RaftNode of a running member. */
  node(id: NodeId): RaftNode {
    const node = this.member(id).node;
    if (node === null) throw new Error(`node ${id} is down`);
    return node;
  }

  /** The state machine of a running shard member. */
  machine(id: NodeId): ShardStateMachine {
    const machine = this.member(id).shardMachine;
    if (machine === null || !this.isUp(id)) throw new Error(`node ${id} is not a running shard member`);
    return machine;
  }

  engineDisk(id: NodeId): MemoryKvDisk {
    return this.member(id).disk.engine;
  }

  /** Entries in a member's Raft log: what snapshots keep bounded (6.824's checklogs). */
  logEntries(id: NodeId): number {
    return this.member(id).disk.log.entries.length;
  }

  /**
   * What a member keeps on its disks, in bytes: its engine's pairs (key and
   * value bytes), its Raft log (the commands' data) and its snapshots.
   */
  persistedBytes(id: NodeId): PersistedBytes {
    const disk = this.member(id).disk;
    let engine = 0;
    for (const entry of disk.engine.entries) engine += entry.key.byteLength + entry.value.byteLength;
    let log = 0;
    for (const entry of disk.log.entries) if (entry.kind === 'command') log += entry.data.byteLength;
    let snapshots = 0;
    for (const { data } of disk.snapshots.snapshots.values()) snapshots += data.byteLength;
    return { engine, log, snapshots, total: engine + log + snapshots };
  }

  /** Snapshots a member has kept on its disk. */
  snapshotCount(id: NodeId): number {
    return this.member(id).disk.snapshots.snapshots.size;
  }

  /** Whether every running member of each group in `gids` is at `version` or later with nothing in transit. */
  settledAt(version: number, gids: readonly GroupId[]): boolean {
    return gids.every((gid) =>
      this.idsOf(gid)
        .filter((id) => this.isUp(id))
        .every((id) => {
          const machine = this.machine(id);
          const moving = [...machine.bucketStates().values()].some((state) => state.type !== 'serving');
          return machine.currentConfig.version >= version && !moving;
        }),
    );
  }

  /** A client of the whole cluster, with its own endpoint and meta session. */
  client(index: number, options: { deadlineMs?: number } = {}): ShardedKvClient {
    const channel = this.channelAt(CLIENT_ENDPOINT_BASE + index);
    const random = this.random.fork();
    return new ShardedKvClient({
      meta: this.metaClient(channel, `client-${index}-meta`, 5_000),
      channel,
      clock: this.clock,
      clientId: `client-${index}`,
      random: () => random.next(),
      deadlineMs: options.deadlineMs ?? 60_000,
      attemptTimeoutMs: 500,
    });
  }

  /** A bare channel with its own endpoint, for requests that no client library would send (a replayed write). */
  channel(index: number): GroupChannel {
    return this.channelAt(RAW_ENDPOINT_BASE + index);
  }

  /** Both networks lose, delay and reorder (or stop doing so). */
  setReliable(reliable: boolean): void {
    this.raftNetwork.reliable = reliable;
    this.clientNetwork.reliable = reliable;
  }

  /**
   * Splits the Raft traffic into `sides`; members in no side are cut off
   * from everyone. Clients, drivers and the admin still reach every member
   * (as in 6.824), so a minority leader is still asked, and must not answer.
   */
  partition(sides: readonly (readonly NodeId[])[]): void {
    this.raftNetwork.partition(sides);
  }

  /** Cuts member `id` off from every other member, whatever their group. */
  isolate(id: NodeId): void {
    this.partition([[id], [...this.members.keys()].filter((other) => other !== id)]);
  }

  heal(): void {
    this.raftNetwork.heal();
  }

  runFor(durationMs: number): Promise<void> {
    return this.time.runFor(durationMs);
  }

  runUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.time.runUntil(predicate, timeoutMs);
  }

  await<T>(promise: Promise<T>, timeoutMs = 30_000): Promise<T> {
    return this.time.await(promise, timeoutMs);
  }

  /** The last driver problems, for a failure's message. */
  recentProblems(count = 10): string {
    return this.problems.slice(-count).join('\n');
  }

  close(): void {
    for (const member of this.members.values()) member.driver?.stop();
    for (const channel of this.channels) channel.close();
  }

  /** A channel from client endpoint `endpoint`, closed with the world. */
  private channelAt(endpoint: number): SimChannel {
    const channel = new SimChannel(endpoint, this.clientNetwork, this.scheduler);
    this.channels.push(channel);
    return channel;
  }

  private addGroup(gid: GroupId, ids: readonly NodeId[]): void {
    for (const id of ids) {
      const disk: MemberDisk = {
        log: emptyMemoryLogDisk(),
        snapshots: emptyMemorySnapshotDisk(),
        hardState: EMPTY_HARD_STATE,
        engine: emptyMemoryKvDisk(),
      };
      this.members.set(id, {
        id,
        gid,
        voters: ids,
        disk,
        node: null,
        service: null,
        shardMachine: null,
        driver: null,
        driverChannel: null,
        starts: 0,
      });
    }
  }

  private async startNode(member: Member, machine: ReplicatedStateMachine): Promise<RaftNode> {
    const random = this.random.fork();
    const { disk } = member;
    const node = await RaftNode.start(
      {
        raft: {
          id: member.id,
          random: () => random.next(),
          electionTicks: 10,
          heartbeatTicks: 3,
          snapshotCatchUpEntries: SNAPSHOT_CATCH_UP_ENTRIES,
        },
        bootstrapVoters: member.voters,
        tickMs: TICK_MS,
        snapshotEveryEntries: this.options.snapshotEveryEntries ?? 1_000_000,
      },
      {
        log: new MemoryLogStore(disk.log),
        snapshots: new MemorySnapshotStore(disk.snapshots),
        hardState: {
          load: () => Promise.resolve(disk.hardState),
          save: (state) => {
            disk.hardState = state;
            return Promise.resolve();
          },
        },
        machine,
        peers: { send: (m) => this.raftNetwork.send(m) },
        ticker: this.ticker,
      },
    );
    node.onFatal = (error) => this.failures.push(`node ${member.id}: ${error.stack ?? error.message}`);
    return node;
  }

  private serve(member: Member, packet: ClientPacket): void {
    if (packet.kind !== 'request' || member.service === null) return;
    void member.service.handle(packet.request).then((result) => {
      this.clientNetwork.send({ kind: 'result', from: member.id, to: packet.from, call: packet.call, result });
    });
  }

  private metaClient(channel: GroupChannel, clientId: string, deadlineMs: number): MetaClient {
    const random = this.random.fork();
    return new MetaClient({
      members: META_IDS,
      channel,
      clock: this.clock,
      clientId,
      random: () => random.next(),
      deadlineMs,
      attemptTimeoutMs: DRIVER_ATTEMPT_TIMEOUT_MS,
    });
  }

  private noteProblem(problem: string): void {
    if (problem.includes(UNEXPECTED_PREFIX)) this.failures.push(problem);
    this.problems.push(problem);
    // Bounded: a long run with a group down reports the same problem every poll.
    if (this.problems.length > 1000) this.problems.splice(0, 500);
  }

  private member(id: NodeId): Member {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }
}

function memberIds(gid: GroupId): NodeId[] {
  if (gid < 1 || gid * GROUP_ID_STRIDE + MEMBERS_PER_GROUP >= DRIVER_ENDPOINT_BASE) {
    throw new Error(`shard world: gid ${gid} is out of range`);
  }
  return Array.from({ length: MEMBERS_PER_GROUP }, (_, k) => gid * GROUP_ID_STRIDE + k + 1);
}
