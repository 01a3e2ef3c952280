/**
 * KV members on real disk stores, on the seeded simulated network and
 * virtual clock: each member has its own directory with a SegmentedLogStore,
 * a HardStateStore, a SnapshotStore and a KvStateMachine over LevelDB, laid
 * out as disk-replica.ts lays them out. A member can be armed to crash at one
 * step of installing a snapshot it receives, and restarted from its directory.
 *
 * A crash is a throw at the chosen step, after which the member's stores
 * refuse every call, so the dying process writes nothing more; its objects
 * are then dropped without close. What it wrote stays, as the page cache
 * keeps it when a process dies. Restarting releases what the OS would
 * release (file descriptors, the LevelDB lock) and opens everything again.
 *
 * Real I/O finishes when it finishes, so to stay deterministic the group
 * tracks every call a node makes into its stores and its state machine, and
 * between two simulated events waits until none is in flight. Messages sent
 * meanwhile are held and handed to the network afterwards in member order,
 * so the network's random draws do not depend on which disk was faster.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeCommand } from '../../src/kv/command-codec.js';
import type { KvCommand, KvReply } from '../../src/kv/commands.js';
import { utf8 } from '../../src/kv/commands.js';
import type { EngineEntry, EngineWrite, EngineWriteOptions, KeyRange, KvEngine } from '../../src/kv/engine.js';
import { compareKeys } from '../../src/kv/engine.js';
import { RESTORE_MARKER_KEY } from '../../src/kv/keyspace.js';
import { LevelKvEngine } from '../../src/kv/level-engine.js';
import { WriteBehindEngine } from '../../src/kv/write-behind-engine.js';
import { KvStateMachine } from '../../src/kv/state-machine.js';
import type { RaftNodeObserver, Ticker } from '../../src/node/index.js';
import { RaftNode } from '../../src/node/index.js';
import type { Entry, LogIndex, Message, NodeId } from '../../src/raft/index.js';
import { messageSizeBytes } from '../../src/raft/index.js';
import { SeededRandom } from '../../src/sim/random.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { SimTime } from './sim-time.js';
import type { LoadedLog, LogStore, SyncObserver } from '../../src/storage/index.js';
import { HardStateStore, SegmentedLogStore, SnapshotStore } from '../../src/storage/index.js';
import { SimNetwork } from '../../src/transport/sim-network.js';

/**
 * Where a member receiving a snapshot can crash, in the order RaftNode goes:
 * the three steps of SnapshotStore.installReceived (the file synced, renamed
 * into place, its meta written), then halfway through the state machine's
 * restore (some records loaded, the restore marker still up), then after the
 * restore but before the log is reset, then after the log reset.
 */
export const INSTALL_CRASH_POINTS = [
  'synced',
  'renamed',
  'metaWritten',
  'restoreHalfway',
  'restored',
  'logReset',
] as const;
export type InstallCrashPoint = (typeof INSTALL_CRASH_POINTS)[number];

/** The error a member "dies" of at its crash point. */
export class SimulatedCrash extends Error {
  constructor(readonly point: InstallCrashPoint) {
    super(`simulated crash at ${point}`);
  }
}

export interface DiskKvGroupOptions {
  readonly snapshotEveryEntries: number;
  readonly snapshotCatchUpEntries: number;
  readonly snapshotChunkBytes: number;
  /** What watches each member's node and fsyncs (metrics), at every start; none when absent. */
  readonly observers?: (id: NodeId) => { readonly node: RaftNodeObserver; readonly onSync: SyncObserver };
}

const TICK_MS = 20;
const RESTORE_CHUNK_BYTES = 16 * 1024;

/** One run of a member: what its process holds, dropped at a crash. */
interface MemberProcess {
  readonly node: RaftNode;
  readonly machine: KvStateMachine;
  readonly engine: CrashableEngine;
  /** What the machine writes through, as in a real member: held writes above the engine, lost with the process. */
  readonly store: WriteBehindEngine;
  readonly log: CrashableLog;
  readonly snapshots: SnapshotStore;
  crashedAt: InstallCrashPoint | null;
}

export class DiskKvGroup {
  readonly scheduler = new Scheduler();
  private readonly time: SimTime;
  readonly random: SeededRandom;
  readonly network: SimNetwork<Message>;
  /** Failures that stopped a node, other than the simulated crashes: a test expects none. */
  readonly failures: string[] = [];
  /** The error each member's node stopped with, other than a simulated crash: the last, by member. */
  readonly fatalErrors = new Map<NodeId, Error>();
  private readonly processes = new Map<NodeId, MemberProcess>();
  private readonly outboxes = new Map<NodeId, Message[]>();
  private readonly work = new InFlight();
  private readonly ticker: Ticker;
  private sequence = 0;

  private constructor(
    readonly seed: number,
    readonly ids: readonly NodeId[],
    readonly directory: string,
    private readonly options: DiskKvGroupOptions,
  ) {
    this.time = new SimTime(this.scheduler, seed, () => this.settle());
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
    for (const id of ids) this.outboxes.set(id, []);
  }

  /** A group in a fresh temp directory; close() removes it. */
  static async create(seed: number, ids: readonly NodeId[], options: DiskKvGroupOptions): Promise<DiskKvGroup> {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-disk-group-'));
    return new DiskKvGroup(seed, ids, directory, options);
  }

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  /** Opens the member's stores from its directory and starts its node, as a process start does. */
  async start(id: NodeId): Promise<RaftNode> {
    const memberDirectory = path.join(this.directory, `member-${id}`);
    const raftDirectory = path.join(memberDirectory, 'raft');
    const snapshotDirectory = path.join(raftDirectory, 'snapshots');
    await mkdir(snapshotDirectory, { recursive: true });
    const observers = this.options.observers?.(id);
    const log = new CrashableLog(
      await SegmentedLogStore.open(path.join(raftDirectory, 'log'), { onSync: observers?.onSync }),
    );
    const snapshots = await SnapshotStore.open(snapshotDirectory);
    const engine = new CrashableEngine(await LevelKvEngine.open(path.join(memberDirectory, 'kv')));
    const store = new WriteBehindEngine(engine);
    const machine = await KvStateMachine.open(store);
    const random = this.random.fork();
    const outbox = this.outboxes.get(id)!;
    const node = await RaftNode.start(
      {
        raft: {
          id,
          random: () => random.next(),
          electionTicks: 10,
          heartbeatTicks: 2,
          preVote: true,
          checkQuorum: true,
          snapshotChunkBytes: this.options.snapshotChunkBytes,
          snapshotCatchUpEntries: this.options.snapshotCatchUpEntries,
        },
        bootstrapVoters: this.ids,
        tickMs: TICK_MS,
        snapshotEveryEntries: this.options.snapshotEveryEntries,
        restoreChunkBytes: RESTORE_CHUNK_BYTES,
        observer: observers?.node,
      },
      {
        log: tracked(log, this.work),
        hardState: tracked(new HardStateStore(path.join(raftDirectory, 'hard-state'), observers?.onSync), this.work),
        snapshots: tracked(snapshots, this.work),
        machine: tracked(machine, this.work),
        peers: { send: (m) => outbox.push(m) },
        ticker: this.ticker,
      },
    );
    store.onBackgroundFailure = (error) => node.stopAfterFailure(error);
    const process: MemberProcess = { node, machine, engine, store, log, snapshots, crashedAt: null };
    node.onFatal = (error) => {
      if (error instanceof SimulatedCrash) process.crashedAt = error.point;
      else {
        this.failures.push(`node ${id}: ${error.stack ?? error.message}`);
        this.fatalErrors.set(id, error);
      }
    };
    this.processes.set(id, process);
    this.network.attach(id, (m) => {
      if (this.processes.get(id) === process) node.receive(m);
    });
    return node;
  }

  /** Arms `id` to die at `point` the next time it gets there. */
  armCrash(id: NodeId, point: InstallCrashPoint): void {
    const process = this.process(id);
    const die = (): never => {
      process.engine.die();
      process.log.die();
      throw new SimulatedCrash(point);
    };
    switch (point) {
      case 'synced':
      case 'renamed':
      case 'metaWritten':
        process.snapshots.afterInstallStep = (step) => {
          if (step === point) die();
        };
        return;
      case 'restoreHalfway':
        process.engine.beforeWrite = (batch, restoreBatchesWritten) => {
          const lowersMarker = batch.some((w) => w.type === 'delete' && compareKeys(w.key, RESTORE_MARKER_KEY) === 0);
          if (lowersMarker && restoreBatchesWritten > 0) die();
        };
        return;
      case 'restored':
        process.log.beforeReset = die;
        return;
      case 'logReset':
        process.log.afterReset = die;
        return;
    }
  }

  /** From now on every write to the member's engine (below its held writes) fails with `error`, as a broken disk's would. */
  failEngineWrites(id: NodeId, error: Error): void {
    this.process(id).engine.beforeWrite = () => {
      throw error;
    };
  }

  /** Where the member's current process died, or null while it lives. */
  crashedAt(id: NodeId): InstallCrashPoint | null {
    return this.process(id).crashedAt;
  }

  /** Batches of records a restore had written to the member's engine, marker up, when it died (or finished). */
  restoreBatchesWritten(id: NodeId): number {
    return this.process(id).engine.restoreBatchesWritten;
  }

  /** The member's process is gone (crashed before, or killed now); it starts again from its directory. */
  async restart(id: NodeId): Promise<RaftNode> {
    const dead = this.process(id);
    this.network.detach(id);
    // A live one stops ticking; stop() writes nothing.
    if (dead.crashedAt === null) await dead.node.stop();
    dead.engine.die();
    dead.log.die();
    this.outboxes.get(id)!.length = 0;
    await this.work.idle();
    // What the OS does for a dead process: its descriptors and its LevelDB lock go; its writes stay.
    await dead.log.releaseFiles();
    await dead.engine.releaseFiles();
    return this.start(id);
  }

  node(id: NodeId): RaftNode {
    return this.process(id).node;
  }

  machine(id: NodeId): KvStateMachine {
    return this.process(id).machine;
  }

  snapshotIndex(id: NodeId): LogIndex | null {
    return this.process(id).snapshots.latest?.meta.index ?? null;
  }

  leader(): RaftNode | null {
    for (const process of this.processes.values()) {
      if (process.crashedAt === null && process.node.core.role === 'leader') return process.node;
    }
    return null;
  }

  async electLeader(among: readonly NodeId[] = this.ids): Promise<RaftNode> {
    const elected = (): RaftNode | null => {
      const leader = this.leader();
      return leader !== null && among.includes(leader.id) ? leader : null;
    };
    const found = await this.runUntil(() => elected() !== null, 5000);
    if (!found) throw new Error(`no leader elected among ${among.join(', ')} (seed ${this.seed})`);
    return elected()!;
  }

  /** Puts through `leader` as the group's one test client; resolves with the reply once applied there. */
  put(leader: RaftNode, key: string, value: Uint8Array): Promise<KvReply> {
    return this.propose(leader, { type: 'put', ...this.stamp(), key: utf8(key), value });
  }

  delete(leader: RaftNode, key: string): Promise<KvReply> {
    return this.propose(leader, { type: 'delete', ...this.stamp(), key: utf8(key) });
  }

  private propose(leader: RaftNode, command: KvCommand): Promise<KvReply> {
    return this.await(leader.propose(encodeCommand(command)) as Promise<KvReply>);
  }

  private stamp(): { clientId: string; sequence: number } {
    return { clientId: 'test', sequence: ++this.sequence };
  }

  /** Every entry of the member's engine in key order, values as length and digest (big values stay readable). */
  async engineContents(id: NodeId, range: KeyRange = {}): Promise<string[]> {
    const lines: string[] = [];
    for await (const { key, value } of this.process(id).store.entries(range)) lines.push(engineLine(key, value));
    return lines;
  }

  /** Runs simulated time, letting every member's I/O finish after every event. */
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

  /** Stops every live member, closes its files and removes the group's directory. */
  async close(): Promise<void> {
    try {
      for (const process of this.processes.values()) {
        if (process.crashedAt === null) await process.node.stop();
        await this.work.idle();
        await process.log.releaseFiles();
        await process.engine.releaseFiles();
        await process.snapshots.close();
      }
      this.processes.clear();
    } finally {
      await rm(this.directory, { recursive: true, force: true });
    }
  }

  private async settle(): Promise<void> {
    await this.work.idle();
    for (const id of this.ids) {
      const outbox = this.outboxes.get(id)!;
      for (const message of outbox.splice(0)) this.network.send(message);
    }
  }

  private process(id: NodeId): MemberProcess {
    const process = this.processes.get(id);
    if (process === undefined) throw new Error(`member ${id} never started`);
    return process;
  }
}

/** One engine entry as engineContents() shows it: the key in hex, the value's length and digest. */
export function engineLine(key: Uint8Array, value: Uint8Array): string {
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 16);
  return `${Buffer.from(key).toString('hex')} = ${value.byteLength} bytes ${digest}`;
}

/** The promises of I/O under way; idle() waits until there are none. */
class InFlight {
  private readonly pending = new Set<Promise<void>>();

  track<T>(promise: Promise<T>): Promise<T> {
    const done = promise.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
    return promise;
  }

  /** Resolves at a turn of the event loop where no tracked promise is pending (and none was started since). */
  async idle(): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending.size === 0) return;
      await Promise.all(this.pending);
    }
  }
}

/** `target` with every promise its methods return tracked by `work`. */
function tracked<T extends object>(target: T, work: InFlight): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = Reflect.apply(value, object, args);
        return result instanceof Promise ? work.track(result) : result;
      };
    },
  });
}

/** A dead process makes no more calls: whatever it still tries fails and changes nothing. */
function deadProcess(what: string): Error {
  return new Error(`${what}: the process crashed`);
}

/** The log store of a member, with a crash before or after reset(). */
class CrashableLog implements LogStore {
  beforeReset: (() => void) | null = null;
  afterReset: (() => void) | null = null;
  private dead = false;

  constructor(private readonly store: SegmentedLogStore) {}

  die(): void {
    this.dead = true;
  }

  load(): Promise<LoadedLog> {
    return this.alive().load();
  }

  append(entries: readonly Entry[]): Promise<void> {
    return this.alive().append(entries);
  }

  compact(index: LogIndex): Promise<void> {
    return this.alive().compact(index);
  }

  async reset(snapshotIndex: LogIndex): Promise<void> {
    this.beforeReset?.();
    await this.alive().reset(snapshotIndex);
    this.afterReset?.();
  }

  close(): Promise<void> {
    return this.alive().close();
  }

  /** Closes the file descriptors only: it writes nothing, so a dead process may do it too. */
  releaseFiles(): Promise<void> {
    return this.store.close();
  }

  private alive(): SegmentedLogStore {
    if (this.dead) throw deadProcess('log store');
    return this.store;
  }
}

/**
 * The KV engine of a member, with a hook before each write. It counts the
 * batches a restore writes while its marker is up, so that a crash can be
 * placed after some records were loaded.
 */
class CrashableEngine implements KvEngine {
  beforeWrite: ((batch: readonly EngineWrite[], restoreBatchesWritten: number) => void) | null = null;
  restoreBatchesWritten = 0;
  private markerUp = false;
  private dead = false;

  constructor(private readonly engine: LevelKvEngine) {
    this.markerUp = engine.get(RESTORE_MARKER_KEY) !== null;
  }

  die(): void {
    this.dead = true;
  }

  get(key: Uint8Array): Uint8Array | null {
    return this.alive().get(key);
  }

  async write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
    this.beforeWrite?.(batch, this.restoreBatchesWritten);
    await this.alive().write(batch, options);
    for (const write of batch) {
      if (compareKeys(write.key, RESTORE_MARKER_KEY) !== 0) continue;
      this.markerUp = write.type === 'put';
      if (this.markerUp) this.restoreBatchesWritten = 0;
      return;
    }
    if (this.markerUp) this.restoreBatchesWritten += 1;
  }

  entries(range?: KeyRange): AsyncIterableIterator<EngineEntry> {
    return this.alive().entries(range);
  }

  clear(range?: KeyRange): Promise<void> {
    return Promise.resolve().then(() => this.alive().clear(range));
  }

  close(): Promise<void> {
    return Promise.resolve().then(() => this.alive().close());
  }

  /** Releases LevelDB's lock, as the death of the process would. */
  releaseFiles(): Promise<void> {
    return this.engine.close();
  }

  private alive(): LevelKvEngine {
    if (this.dead) throw deadProcess('kv engine');
    return this.engine;
  }
}
