/**
 * A KV replica group on the simulated network, with simulated clients: the
 * 6.824 KV-Raft test harness, rebuilt on real RaftNodes, KvStateMachines
 * over in-memory engines whose "disks" survive crashes, and the real
 * KvClient speaking through a seeded client network. A run replays from its seed.
 */
import type { ClientClock } from '../../src/client/channel.js';
import { KvClient } from '../../src/client/kv-client.js';
import { KvReplica } from '../../src/kv/kv-replica.js';
import type { MemoryKvDisk } from '../../src/kv/memory-engine.js';
import { emptyMemoryKvDisk, MemoryKvEngine } from '../../src/kv/memory-engine.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import type { NodeId } from '../../src/raft/index.js';
import { SimNetwork } from '../../src/transport/sim-network.js';
import type { NodeGroupOptions } from './node-group.js';
import { NodeGroup } from './node-group.js';
import type { ClientPacket } from './sim-channel.js';
import { SimChannel } from './sim-channel.js';

/** Client endpoints on the client network are numbered from here; members keep their ids. */
const CLIENT_ENDPOINT_BASE = 1000;

export interface KvSimOptions extends NodeGroupOptions {
  /** Bound on dedup table idleness, in log entries. */
  readonly dedupIdleEntriesMax?: number;
}

export class KvSim {
  readonly group: NodeGroup<KvStateMachine>;
  /** Requests and replies between clients and members: as faulty as the Raft network when asked. */
  readonly clientNetwork: SimNetwork<ClientPacket>;
  readonly clock: ClientClock;
  /** Each member's engine contents: what survives a crash besides Raft's own files. */
  readonly engineDisks = new Map<NodeId, MemoryKvDisk>();
  private readonly channels: SimChannel[] = [];

  constructor(seed: number, ids: NodeId[], options: KvSimOptions = {}) {
    for (const id of ids) this.engineDisks.set(id, emptyMemoryKvDisk());
    this.group = new NodeGroup<KvStateMachine>(seed, ids, options, {
      open: (id) =>
        KvStateMachine.open(new MemoryKvEngine(this.engineDisk(id)), {
          dedupIdleEntriesMax: options.dedupIdleEntriesMax,
        }),
    });
    const scheduler = this.group.scheduler;
    this.clientNetwork = new SimNetwork<ClientPacket>({
      scheduler,
      random: this.group.random.fork(),
      sizeBytes: () => 64,
      route: (packet) => ({ from: packet.from, to: packet.to }),
    });
    this.clock = {
      nowMs: () => scheduler.nowMs,
      sleep: (delayMs) => new Promise((resolve) => scheduler.after(delayMs, () => resolve())),
    };
  }

  engineDisk(id: NodeId): MemoryKvDisk {
    const disk = this.engineDisks.get(id);
    if (disk === undefined) throw new Error(`no member ${id}`);
    return disk;
  }

  get seed(): number {
    return this.group.seed;
  }

  get ids(): NodeId[] {
    return this.group.ids;
  }

  get nowMs(): number {
    return this.group.scheduler.nowMs;
  }

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  async start(id: NodeId): Promise<void> {
    await this.group.start(id);
    this.clientNetwork.attach(id, (packet) => {
      if (packet.kind !== 'request') return;
      const node = this.group.nodes.get(id);
      if (node === null || node === undefined) return;
      const replica = new KvReplica(node, this.group.machine(id));
      void replica.handle(packet.request).then((result) => {
        this.clientNetwork.send({ kind: 'result', from: id, to: packet.from, call: packet.call, result });
      });
    });
  }

  async crash(id: NodeId): Promise<void> {
    this.clientNetwork.detach(id);
    await this.group.crash(id);
  }

  /** A client of the group with its own endpoint on the client network. */
  client(index: number, options: { deadlineMs?: number } = {}): KvClient {
    const channel = new SimChannel(CLIENT_ENDPOINT_BASE + index, this.clientNetwork, this.group.scheduler);
    this.channels.push(channel);
    const random = this.group.random.fork();
    return new KvClient({
      members: this.ids,
      channel,
      clock: this.clock,
      clientId: `client-${index}`,
      random: () => random.next(),
      deadlineMs: options.deadlineMs ?? 60_000,
      attemptTimeoutMs: 500,
    });
  }

  clientEndpoint(index: number): number {
    return CLIENT_ENDPOINT_BASE + index;
  }

  /** Both networks lose, delay and reorder (or stop doing so). */
  setReliable(reliable: boolean): void {
    this.group.network.reliable = reliable;
    this.clientNetwork.reliable = reliable;
  }

  /**
   * Splits the members into `sides` for Raft traffic. Clients still reach
   * every member (as in 6.824) unless `clientSides` places client endpoints
   * (see clientEndpoint) beside the members they may reach.
   */
  partition(sides: readonly (readonly NodeId[])[], clientSides?: readonly (readonly number[])[]): void {
    this.group.network.partition(sides);
    if (clientSides !== undefined) this.clientNetwork.partition(clientSides);
  }

  heal(): void {
    this.group.network.heal();
    this.clientNetwork.heal();
  }

  runFor(durationMs: number): Promise<void> {
    return this.group.runFor(durationMs);
  }

  runUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.group.runUntil(predicate, timeoutMs);
  }

  await<T>(promise: Promise<T>, timeoutMs?: number): Promise<T> {
    return this.group.await(promise, timeoutMs);
  }
}
