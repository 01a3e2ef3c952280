/**
 * A whole Raft group in one deterministic simulation: members, a faulty
 * network, a virtual clock and the safety checker. Tests and `raftkv sim`
 * drive it; the same seed always replays the same run.
 *
 * The helpers named after the MIT 6.824 harness (checkOneLeader, one, ...)
 * advance virtual time instead of sleeping, so a "10 second" test takes
 * milliseconds of real time.
 */
import type {
  ConfigChange,
  Entry,
  Message,
  NodeId,
  ProposeResult,
  RaftCore,
  RaftOptions,
  ReadState,
  RequestResult,
  SoftState,
} from '../raft/index.js';
import { describeRaftError, messageSizeBytes } from '../raft/index.js';
import { SimNetwork } from '../transport/sim-network.js';
import { SafetyChecker, entryContent } from './invariants.js';
import { SeededRandom } from './random.js';
import { Scheduler } from './scheduler.js';
import { SimNode } from './sim-node.js';
import { encodeCommand } from './state-machine.js';

export interface SimClusterOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Extra members that start empty, outside the founding membership (to be added later). */
  readonly spareNodes?: number;
  readonly raft?: Omit<RaftOptions, 'id' | 'random'>;
  readonly tickMs?: number;
  readonly fsyncMsMax?: number;
  readonly snapshotEveryEntries?: number;
  readonly reliable?: boolean;
}

/** Something worth a line in the timeline of `raftkv sim`. */
export type SimEvent =
  | { readonly kind: 'role'; readonly node: NodeId; readonly state: SoftState; readonly previous: SoftState | null }
  | { readonly kind: 'commit'; readonly node: NodeId; readonly index: number; readonly term: number }
  | { readonly kind: 'snapshot'; readonly node: NodeId; readonly index: number; readonly installed: boolean }
  | { readonly kind: 'fault'; readonly description: string }
  /** The end of a fault: a restart, a reconnection, a healed network. */
  | { readonly kind: 'repair'; readonly description: string };

export type ReadResult = { readonly node: NodeId; readonly index: number; readonly commandsApplied: number };

/** An unreliable network also delivers this share of messages twice. */
const UNRELIABLE_DUPLICATE_RATE = 0.05;

/** 20 ms ticks: elections time out after 200-400 ms, heartbeats every 60 ms. */
const DEFAULT_TICK_MS = 20;
const DEFAULT_RAFT: Omit<RaftOptions, 'id' | 'random'> = {
  electionTicks: 10,
  heartbeatTicks: 3,
  snapshotChunkBytes: 256,
  // Small, so that the snapshot tests keep the log short and really send snapshots.
  snapshotCatchUpEntries: 5,
};

export class SimCluster {
  readonly scheduler = new Scheduler();
  readonly random: SeededRandom;
  readonly network: SimNetwork<Message>;
  readonly safety = new SafetyChecker();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly ids: NodeId[];
  private readonly tickMs: number;
  private readonly fsyncMsMax: number;
  private readonly listeners: ((event: SimEvent, timeMs: number) => void)[] = [];
  private readonly lastSoft = new Map<NodeId, SoftState>();
  private readonly lastCommit = new Map<NodeId, number>();
  private readonly pendingReads = new Map<string, (result: ReadResult) => void>();
  private readCounter = 0;
  /** Values applied per index, with how many members applied them: the 6.824 nCommitted(). */
  private readonly appliedBy = new Map<number, { value: string; members: Set<NodeId> }>();

  constructor(readonly options: SimClusterOptions) {
    this.random = new SeededRandom(options.seed);
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.fsyncMsMax = options.fsyncMsMax ?? 2;
    this.network = new SimNetwork<Message>({
      scheduler: this.scheduler,
      random: this.random.fork(),
      sizeBytes: messageSizeBytes,
      route: (m) => ({ from: m.from, to: m.to }),
    });
    this.network.reliable = options.reliable ?? true;
    this.network.duplicateRate = this.network.reliable ? 0 : UNRELIABLE_DUPLICATE_RATE;
    const founders = Array.from({ length: options.nodes }, (_, k) => k + 1);
    const spares = Array.from({ length: options.spareNodes ?? 0 }, (_, k) => options.nodes + k + 1);
    this.ids = [...founders, ...spares];
    for (const id of this.ids) {
      const node = new SimNode(
        id,
        {
          raft: { ...DEFAULT_RAFT, ...options.raft },
          random: (() => {
            const random = this.random.fork();
            return () => random.next();
          })(),
          bootstrap: founders.includes(id) ? { voters: founders, learners: [] } : { voters: [], learners: [] },
          snapshotEveryEntries: options.snapshotEveryEntries ?? 0,
        },
        this.host(),
      );
      this.nodes.set(id, node);
      node.start();
      this.network.attach(id, (m) => this.nodes.get(m.to)!.handle((core) => core.step(m)));
      this.startTicking(node);
    }
  }

  onEvent(listener: (event: SimEvent, timeMs: number) => void): void {
    this.listeners.push(listener);
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  get nowMs(): number {
    return this.scheduler.nowMs;
  }

  /** The shortest election timeout of this cluster's members, in simulated milliseconds. */
  get electionTimeoutMs(): number {
    return (this.options.raft?.electionTicks ?? DEFAULT_RAFT.electionTicks!) * this.tickMs;
  }

  // ------------------------------------------------------------------ faults

  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.alive) return;
    node.crash();
    this.network.detach(id);
    this.emit({ kind: 'fault', description: `node ${id} crashes` });
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.alive) node.crash();
    this.safety.forget(id);
    this.lastSoft.delete(id);
    this.lastCommit.delete(id);
    node.start();
    this.network.attach(id, (m) => this.nodes.get(m.to)!.handle((core) => core.step(m)));
    this.emit({ kind: 'repair', description: `node ${id} restarts from disk` });
  }

  disconnect(id: NodeId): void {
    this.network.disconnect(id);
    this.emit({ kind: 'fault', description: `node ${id} is cut off` });
  }

  connect(id: NodeId): void {
    this.network.connect(id);
    this.emit({ kind: 'repair', description: `node ${id} reconnects` });
  }

  partition(groups: NodeId[][]): void {
    this.network.partition(groups);
    this.emit({ kind: 'fault', description: `partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}` });
  }

  heal(): void {
    if (this.network.isWhole()) return;
    this.network.heal();
    this.emit({ kind: 'repair', description: 'network healed' });
  }

  setReliable(reliable: boolean): void {
    if (this.network.reliable === reliable) return;
    this.network.reliable = reliable;
    this.network.duplicateRate = reliable ? 0 : UNRELIABLE_DUPLICATE_RATE;
    if (reliable) this.emit({ kind: 'repair', description: 'network turns reliable' });
    else
      this.emit({
        kind: 'fault',
        description: 'network turns unreliable: messages lost, delayed, duplicated, reordered',
      });
  }

  // -------------------------------------------------------------- time

  runFor(durationMs: number): void {
    this.scheduler.runFor(durationMs);
  }

  runUntil(predicate: () => boolean, timeoutMs: number): boolean {
    return this.scheduler.runUntilTrue(predicate, timeoutMs);
  }

  // ------------------------------------------------------------- requests

  /** Proposes `value` on member `id` if it is a live leader; returns the index or null. */
  propose(id: NodeId, value: string): { index: number; term: number } | null {
    const outcome = this.tryPropose(id, value);
    return outcome.ok ? { index: outcome.index, term: outcome.term } : null;
  }

  /** Proposes `value` on member `id`, with the core's answer (a crashed member is "not leader"). */
  tryPropose(id: NodeId, value: string): ProposeResult {
    return this.ask(id, (core) => core.propose(encodeCommand(value)));
  }

  changeMembership(id: NodeId, change: ConfigChange): ProposeResult {
    return this.ask(id, (core) => core.proposeConfigChange(change));
  }

  transferLeadership(id: NodeId, target: NodeId): RequestResult {
    return this.ask(id, (core) => core.transferLeadership(target));
  }

  private ask<T extends ProposeResult | RequestResult>(id: NodeId, request: (core: RaftCore) => T): T | ProposeResult {
    let outcome: T | ProposeResult = { ok: false, error: { code: 'notLeader', leader: null } };
    this.node(id).handle((core) => {
      outcome = request(core);
    });
    return outcome;
  }

  /** Starts a linearizable read on `id`; `done` runs once it may be served. Returns an error text or null. */
  read(id: NodeId, done: (result: ReadResult) => void): string | null {
    const context = `read-${++this.readCounter}`;
    let error: string | null = null;
    this.node(id).handle((core) => {
      const outcome = core.readIndex(context);
      if (!outcome.ok) error = describeRaftError(outcome.error);
    });
    if (error === null) this.pendingReads.set(context, done);
    return error;
  }

  // -------------------------------------------------- 6.824-style checks

  liveConnected(): NodeId[] {
    return this.ids.filter((id) => this.node(id).alive && this.network.isConnected(id));
  }

  /** The leader of the highest term among connected live members; throws on two in one term or none. */
  checkOneLeader(timeoutMs = 5000): NodeId {
    let found: NodeId | null = null;
    this.runUntil(() => {
      const byTerm = new Map<number, NodeId[]>();
      for (const id of this.liveConnected()) {
        const core = this.node(id).core!;
        if (core.role === 'leader') byTerm.set(core.term, [...(byTerm.get(core.term) ?? []), id]);
      }
      for (const [term, leaders] of byTerm) {
        if (leaders.length > 1) throw new Error(`term ${term} has ${leaders.length} leaders`);
      }
      const terms = [...byTerm.keys()].sort((a, b) => b - a);
      found = terms.length > 0 ? byTerm.get(terms[0]!)![0]! : null;
      return found !== null;
    }, timeoutMs);
    if (found === null)
      throw new Error(`expected one leader, got none after ${timeoutMs} ms (seed ${this.options.seed})`);
    return found;
  }

  checkNoLeader(): void {
    for (const id of this.liveConnected()) {
      if (this.node(id).core!.role === 'leader') throw new Error(`expected no leader among connected, but ${id} leads`);
    }
  }

  /** All connected members agree on the term; returns it. */
  checkTerms(): number {
    let term = -1;
    for (const id of this.liveConnected()) {
      const t = this.node(id).core!.term;
      if (term === -1) term = t;
      else if (t !== term) throw new Error(`servers disagree on term: ${term} vs ${t}`);
    }
    return term;
  }

  /** How many members applied index, and the value they applied. */
  nCommitted(index: number): { count: number; value: string | null } {
    const record = this.appliedBy.get(index);
    return record === undefined ? { count: 0, value: null } : { count: record.members.size, value: record.value };
  }

  /** Waits until at least `n` members applied `index`, unless the term moved past `startTerm`. */
  wait(index: number, n: number, startTerm: number, timeoutMs = 10_000): string | null {
    this.runUntil(() => {
      if (this.nCommitted(index).count >= n) return true;
      return startTerm > -1 && this.ids.some((id) => (this.node(id).core?.term ?? 0) > startTerm);
    }, timeoutMs);
    const { count, value } = this.nCommitted(index);
    if (count < n) return null;
    return value;
  }

  /**
   * The 6.824 one(): get `value` committed on at least `expected` members,
   * trying every live member as leader for up to 10 s. Returns its index.
   */
  one(value: string, expected: number, retry: boolean): number {
    const deadline = this.nowMs + 10_000;
    let starts = 0;
    while (this.nowMs < deadline) {
      let index: number | null = null;
      for (let k = 0; k < this.ids.length; k++) {
        starts = (starts + 1) % this.ids.length;
        const id = this.ids[starts]!;
        const core = this.node(id).core;
        if (core === null || core.role !== 'leader' || !this.network.isConnected(id)) continue;
        const proposed = this.propose(id, value);
        if (proposed !== null) {
          index = proposed.index;
          break;
        }
      }
      if (index !== null) {
        const committed = index;
        const until = this.nowMs + 2000;
        while (this.nowMs < until) {
          this.runFor(20);
          const { count, value: got } = this.nCommitted(committed);
          if (count > 0 && count >= expected && got === value) return committed;
        }
        if (!retry) throw new Error(`one(${value}) failed to reach agreement (seed ${this.options.seed})`);
      } else {
        this.runFor(50);
      }
    }
    throw new Error(`one(${value}) failed to reach agreement in 10 s (seed ${this.options.seed})`);
  }

  /** Messages and bytes sent so far (every attempt, as the 6.824 RPC counters). */
  rpcTotals(): { messages: number; bytes: number } {
    return { messages: this.network.messagesSent, bytes: this.network.bytesSent };
  }

  // ------------------------------------------------------------- internals

  private startTicking(node: SimNode): void {
    const phaseMs = this.random.next() * this.tickMs;
    this.scheduler.every(this.tickMs, () => node.handle((core) => core.tick()), phaseMs);
  }

  private host(): ConstructorParameters<typeof SimNode>[2] {
    return {
      nowMs: () => this.scheduler.nowMs,
      after: (delayMs, action) => {
        this.scheduler.after(delayMs, action);
      },
      fsyncDelayMs: () => this.random.next() * this.fsyncMsMax,
      send: (message) => this.network.send(message),
      observe: (node) => this.observe(node),
      applied: (node, entry) => this.recordApplied(node.id, entry),
      readReady: (node, read) => this.readReady(node, read),
      snapshot: (node, snapshot, installed) =>
        this.emit({ kind: 'snapshot', node: node.id, index: snapshot.index, installed }),
    };
  }

  private observe(node: SimNode): void {
    const core = node.core;
    if (core === null) return;
    this.safety.observe(node.id, core);
    const soft = core.softState();
    const before = this.lastSoft.get(node.id) ?? null;
    if (before === null || before.role !== soft.role || before.term !== soft.term || before.leader !== soft.leader) {
      this.lastSoft.set(node.id, soft);
      this.emit({ kind: 'role', node: node.id, state: soft, previous: before });
    }
    if (core.commitIndex > (this.lastCommit.get(node.id) ?? 0)) {
      this.lastCommit.set(node.id, core.commitIndex);
      if (core.role === 'leader')
        this.emit({ kind: 'commit', node: node.id, index: core.commitIndex, term: core.term });
    }
  }

  private recordApplied(id: NodeId, entry: Entry): void {
    const content = entryContent(entry);
    this.safety.applied(id, entry.index, content);
    if (entry.kind !== 'command') return;
    const value = content.slice('cmd:'.length);
    const record = this.appliedBy.get(entry.index) ?? { value, members: new Set<NodeId>() };
    record.members.add(id);
    this.appliedBy.set(entry.index, record);
  }

  private readReady(node: SimNode, read: ReadState): void {
    const done = this.pendingReads.get(read.context);
    if (done === undefined) return;
    // Serve once applied up to the read index; poll on the virtual clock.
    const serve = (): void => {
      if (!node.alive) return;
      if (node.machine.lastApplied >= read.index) {
        this.pendingReads.delete(read.context);
        done({ node: node.id, index: read.index, commandsApplied: node.machine.commandCount });
      } else {
        this.scheduler.after(1, serve);
      }
    };
    serve();
  }

  private emit(event: SimEvent): void {
    for (const listener of this.listeners) listener(event, this.scheduler.nowMs);
  }
}

/** Runs `body` and rethrows any failure with the seed that replays it. */
export function withSeed<T>(seed: number, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof Error && !error.message.includes(`seed ${seed}`)) {
      error.message = `${error.message} (seed ${seed}; replay with SEED=${seed})`;
    }
    throw error;
  }
}
