/**
 * Real RaftNodes (the async driver, with in-memory stores) on the seeded
 * simulated network and virtual clock. Async work is let run to completion
 * between two simulated events, so a run replays exactly from its seed.
 */
import type { Message } from '../../src/raft/index.js';
import { messageSizeBytes } from '../../src/raft/index.js';
import type { MembershipListener, ReplicatedStateMachine, SnapshotFiles, Ticker } from '../../src/node/index.js';
import { RaftNode } from '../../src/node/index.js';
import { SeededRandom } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { SimTime } from './sim-time.js';
import type { LogStore, MemoryLogDisk, MemorySnapshotDisk } from '../../src/storage/index.js';
import {
  emptyMemoryLogDisk,
  emptyMemorySnapshotDisk,
  MemoryLogStore,
  MemorySnapshotStore,
} from '../../src/storage/index.js';
import { EMPTY_HARD_STATE } from '../../src/raft/index.js';
import type { HardState } from '../../src/raft/index.js';
import { SimNetwork } from '../../src/transport/sim-network.js';
import { ListMachine } from './list-machine.js';

/** Everything of a member's Raft state that survives a crash. */
interface MemberDisk {
  log: MemoryLogDisk;
  snapshots: MemorySnapshotDisk;
  hardState: HardState;
}

/** Makes each member's state machine, at first start and after every crash, from what that member kept. */
export interface MachineHost<M extends ReplicatedStateMachine> {
  open(id: number): Promise<M>;
}

/** List machines live in memory only: a crash loses them, and they come back from the latest snapshot. */
export const listMachineHost: MachineHost<ListMachine> = { open: () => Promise.resolve(new ListMachine()) };

export interface NodeGroupOptions {
  /** Take a snapshot every this many applied entries (1000 unless snapshotEveryBytes is given). */
  readonly snapshotEveryEntries?: number;
  /** Take a snapshot every this many bytes of applied commands (the node's default when absent). */
  readonly snapshotEveryBytes?: number;
  /** Bytes per snapshot chunk on the wire. */
  readonly snapshotChunkBytes?: number;
  /** Wraps each member's snapshot store, to slow or watch it. */
  readonly wrapSnapshots?: (id: number, store: SnapshotFiles) => SnapshotFiles;
  /** Wraps each member's log store, to slow or watch its writes. */
  readonly wrapLog?: (id: number, store: LogStore) => LogStore;
  /** Log entries kept behind a snapshot for followers that lag a little (the core's default when absent). */
  readonly snapshotCatchUpEntries?: number;
  /** Members that join later: they start with no membership (the others found the group). */
  readonly joining?: readonly number[];
  /** Each member's listener for the membership changes in its log. */
  readonly membershipListener?: (id: number) => MembershipListener;
}

/** Lets every pending promise chain run (memory stores resolve in microtasks). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class NodeGroup<M extends ReplicatedStateMachine = ListMachine> {
  readonly scheduler = new Scheduler();
  private readonly time: SimTime;
  readonly random: SeededRandom;
  readonly network: SimNetwork<Message>;
  readonly nodes = new Map<number, RaftNode | null>();
  readonly disks = new Map<number, MemberDisk>();
  /** The state machine of each member's current (or last) process. */
  private readonly machines = new Map<number, M>();
  /** Failures that stopped a node (disk or state machine errors); a test expects none. */
  readonly failures: string[] = [];
  private readonly ticker: Ticker;

  constructor(
    readonly seed: number,
    readonly ids: number[],
    private readonly options: NodeGroupOptions = {},
    private readonly host: MachineHost<M> = listMachineHost as unknown as MachineHost<M>,
  ) {
    this.time = new SimTime(this.scheduler, seed, settle);
    this.random = new SeededRandom(seed);
    this.network = new SimNetwork<Message>({
      scheduler: this.scheduler,
      random: this.random.fork(),
      sizeBytes: messageSizeBytes,
      route: (m) => ({ from: m.from, to: m.to }),
    });
    const scheduler = this.scheduler;
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
    for (const id of ids) {
      this.disks.set(id, {
        log: emptyMemoryLogDisk(),
        snapshots: emptyMemorySnapshotDisk(),
        hardState: EMPTY_HARD_STATE,
      });
    }
  }

  /** The members that found the group (all but the joining ones). */
  get founders(): number[] {
    return this.ids.filter((id) => this.options.joining?.includes(id) !== true);
  }

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  async start(id: number): Promise<RaftNode> {
    const disk = this.disks.get(id)!;
    const machine = await this.host.open(id);
    this.machines.set(id, machine);
    const random = this.random.fork();
    const node = await RaftNode.start(
      {
        raft: {
          id,
          random: () => random.next(),
          electionTicks: 10,
          heartbeatTicks: 3,
          snapshotChunkBytes: this.options.snapshotChunkBytes ?? 100,
          ...(this.options.snapshotCatchUpEntries === undefined
            ? {}
            : { snapshotCatchUpEntries: this.options.snapshotCatchUpEntries }),
        },
        bootstrapVoters: this.options.joining?.includes(id) === true ? [] : this.founders,
        tickMs: 20,
        snapshotEveryEntries:
          this.options.snapshotEveryEntries ?? (this.options.snapshotEveryBytes === undefined ? 1000 : undefined),
        snapshotEveryBytes: this.options.snapshotEveryBytes,
        restoreChunkBytes: 50,
        ...(this.options.membershipListener === undefined
          ? {}
          : { membershipListener: this.options.membershipListener(id) }),
      },
      {
        log: (this.options.wrapLog ?? ((_id, store) => store))(id, new MemoryLogStore(disk.log)),
        snapshots: (this.options.wrapSnapshots ?? ((_id, store) => store))(id, new MemorySnapshotStore(disk.snapshots)),
        hardState: {
          load: () => Promise.resolve(disk.hardState),
          save: (state) => {
            disk.hardState = state;
            return Promise.resolve();
          },
        },
        machine,
        peers: { send: (m) => this.network.send(m) },
        ticker: this.ticker,
      },
    );
    node.onFatal = (error) => this.failures.push(`node ${id}: ${error.stack ?? error.message}`);
    this.nodes.set(id, node);
    this.network.attach(id, (m) => this.nodes.get(m.to)?.receive(m));
    return node;
  }

  /** The member loses its process; its "disk" stays, and the machine host decides what of the machine does. */
  async crash(id: number): Promise<void> {
    const node = this.nodes.get(id);
    if (node === null || node === undefined) return;
    this.network.detach(id);
    this.nodes.set(id, null);
    await node.stop();
  }

  machine(id: number): M {
    const machine = this.machines.get(id);
    if (machine === undefined) throw new Error(`node ${id} never started`);
    return machine;
  }

  node(id: number): RaftNode {
    const node = this.nodes.get(id);
    if (node === null || node === undefined) throw new Error(`node ${id} is down`);
    return node;
  }

  leader(): RaftNode | null {
    for (const node of this.nodes.values()) if (node !== null && node.core.role === 'leader') return node;
    return null;
  }

  /** Runs simulated time, letting async work settle after every event. */
  runFor(durationMs: number): Promise<void> {
    return this.time.runFor(durationMs);
  }

  runUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.time.runUntil(predicate, timeoutMs);
  }

  /** Settles `promise` while simulated time runs. */
  await<T>(promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
    return this.time.await(promise, timeoutMs);
  }

  async electLeader(): Promise<RaftNode> {
    const found = await this.runUntil(() => this.leader() !== null, 5000);
    if (!found) throw new Error(`no leader elected (seed ${this.seed})`);
    return this.leader()!;
  }
}
