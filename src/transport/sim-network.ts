/**
 * An in-memory network for simulations, as hostile as asked: it loses, delays,
 * duplicates and reorders messages, cuts members off and splits the group into
 * partitions. Every choice comes from one seeded random source and every
 * delivery is a scheduler event, so a run replays exactly.
 *
 * Reordering is implicit: each message (and each duplicate) draws its own
 * latency, so two messages between the same pair can arrive in either order.
 * Raft must not assume FIFO links, and this network never gives it them.
 *
 * Cuts are checked both when a message is sent and when it would arrive, as in
 * the MIT 6.824 labrpc network: a message in flight to a member that has since
 * been disconnected, partitioned away or crashed is lost.
 */
import type { SeededRandom } from '../sim/random.js';
import type { Scheduler } from '../sim/scheduler.js';

/** Why a message was not delivered, for tracing. */
export type DropReason =
  | 'disconnected' // the sender or receiver is disconnected
  | 'partitioned' // sender and receiver are in different partitions
  | 'lost' // the unreliable network dropped it
  | 'crashed'; // the receiver is detached, or crashed (and maybe restarted) while the message was in flight

export interface SimNetworkOptions<M> {
  readonly scheduler: Scheduler;
  readonly random: SeededRandom;
  readonly sizeBytes: (message: M) => number;
  readonly route: (message: M) => { from: number; to: number };
  readonly onDeliver?: (message: M) => void;
  readonly onDrop?: (message: M, reason: DropReason) => void;
}

/** 6.824's labrpc with `reliable = false` loses about one message in ten. */
const UNRELIABLE_DROP_RATE_DEFAULT = 0.1;
const UNRELIABLE_LONG_DELAY_RATE_DEFAULT = 0.1;
const UNRELIABLE_LONG_DELAY_MS_MAX_DEFAULT = 2000;
const LATENCY_MS_MIN_DEFAULT = 1;
const LATENCY_MS_MAX_DEFAULT = 5;
/** Share of messages held back when `longReordering` is on. */
const LONG_REORDER_RATE = 0.1;
const LONG_REORDER_MS_MAX_DEFAULT = 2000;

export class SimNetwork<M> {
  // Fault knobs: plain fields, settable at any time; they apply to messages sent afterwards.

  /** When false, messages are lost with `dropRate` and held back up to `longDelayMsMax` with `longDelayRate`. */
  reliable = true;
  dropRate = UNRELIABLE_DROP_RATE_DEFAULT;
  longDelayRate = UNRELIABLE_LONG_DELAY_RATE_DEFAULT;
  longDelayMsMax = UNRELIABLE_LONG_DELAY_MS_MAX_DEFAULT;
  /** Share of messages delivered twice, each copy at its own delay. Applies even when reliable. */
  duplicateRate = 0;
  /** One-way latency is uniform in [latencyMsMin, latencyMsMax]. */
  latencyMsMin = LATENCY_MS_MIN_DEFAULT;
  latencyMsMax = LATENCY_MS_MAX_DEFAULT;
  /** 6.824's Figure 8 (unreliable) long reordering: some messages arrive up to `longReorderMsMax` late. */
  longReordering = false;
  longReorderMsMax = LONG_REORDER_MS_MAX_DEFAULT;

  /** Every send by a connected sender, delivered or not, as 6.824's RPC-count tests count. */
  messagesSent = 0;
  bytesSent = 0;
  messagesDelivered = 0;

  onDeliver: ((message: M) => void) | undefined;
  onDrop: ((message: M, reason: DropReason) => void) | undefined;

  private readonly receivers = new Map<number, (message: M) => void>();
  /** Detaches per member: a message is lost if its receiver crashed while it was in flight, even if since restarted. */
  private readonly crashCounts = new Map<number, number>();
  private readonly disconnected = new Set<number>();
  /** Partition index per member; members in different partitions cannot talk. Null: no partition. */
  private partitionOf: Map<number, number> | null = null;

  constructor(private readonly options: SimNetworkOptions<M>) {
    this.onDeliver = options.onDeliver;
    this.onDrop = options.onDrop;
  }

  /** A member starts (or restarts) receiving through `deliver`. */
  attach(id: number, deliver: (message: M) => void): void {
    this.receivers.set(id, deliver);
  }

  /** A crashed member: it receives nothing, including what is already in flight to it. */
  detach(id: number): void {
    this.receivers.delete(id);
    this.crashCounts.set(id, (this.crashCounts.get(id) ?? 0) + 1);
  }

  /** MIT style: a disconnected member neither sends nor receives, in flight included. */
  disconnect(id: number): void {
    this.disconnected.add(id);
  }

  connect(id: number): void {
    this.disconnected.delete(id);
  }

  isConnected(id: number): boolean {
    return !this.disconnected.has(id);
  }

  /** Splits members into groups that cannot reach each other; members in no group are isolated. */
  partition(groups: readonly (readonly number[])[]): void {
    const partitionOf = new Map<number, number>();
    groups.forEach((group, index) => {
      for (const id of group) {
        if (partitionOf.has(id)) throw new Error(`member ${id} is in two partitions`);
        partitionOf.set(id, index);
      }
    });
    this.partitionOf = partitionOf;
  }

  /** Everyone connected, no partition. */
  /** No partition and nobody cut off. */
  isWhole(): boolean {
    return this.partitionOf === null && this.disconnected.size === 0;
  }

  heal(): void {
    this.partitionOf = null;
    this.disconnected.clear();
  }

  canTalk(a: number, b: number): boolean {
    return this.cutBetween(a, b) === null;
  }

  send(message: M): void {
    const { from, to } = this.options.route(message);
    if (this.disconnected.has(from)) return this.drop(message, 'disconnected');
    this.messagesSent++;
    this.bytesSent += this.options.sizeBytes(message);
    const cut = this.cutBetween(from, to);
    if (cut !== null) return this.drop(message, cut);
    this.assertFaultsValid();
    const random = this.options.random;
    if (!this.reliable && random.chance(this.dropRate)) return this.drop(message, 'lost');
    this.scheduleDelivery(message, from, to);
    if (this.duplicateRate > 0 && random.chance(this.duplicateRate)) this.scheduleDelivery(message, from, to);
  }

  /** Checks at arrival only, so a member attached after the send (at startup) still receives it. */
  private scheduleDelivery(message: M, from: number, to: number): void {
    const crashCountAtSend = this.crashCounts.get(to) ?? 0;
    this.options.scheduler.after(this.delayMs(), () => {
      const cut = this.cutBetween(from, to);
      if (cut !== null) return this.drop(message, cut);
      const deliver = this.receivers.get(to);
      if (deliver === undefined || (this.crashCounts.get(to) ?? 0) !== crashCountAtSend) {
        return this.drop(message, 'crashed');
      }
      this.messagesDelivered++;
      this.onDeliver?.(message);
      deliver(message);
    });
  }

  private delayMs(): number {
    const random = this.options.random;
    let delayMs = this.latencyMsMin + random.next() * (this.latencyMsMax - this.latencyMsMin);
    if (!this.reliable && random.chance(this.longDelayRate)) {
      delayMs = this.latencyMsMin + random.next() * Math.max(0, this.longDelayMsMax - this.latencyMsMin);
    }
    if (this.longReordering && random.chance(LONG_REORDER_RATE)) delayMs += random.next() * this.longReorderMsMax;
    return delayMs;
  }

  /** Why `a` cannot reach `b`, or null if it can. A member can always reach itself unless disconnected. */
  private cutBetween(a: number, b: number): 'disconnected' | 'partitioned' | null {
    if (this.disconnected.has(a) || this.disconnected.has(b)) return 'disconnected';
    if (a === b || this.partitionOf === null) return null;
    const partitionA = this.partitionOf.get(a);
    return partitionA !== undefined && partitionA === this.partitionOf.get(b) ? null : 'partitioned';
  }

  private drop(message: M, reason: DropReason): void {
    this.onDrop?.(message, reason);
  }

  /** The knobs are plain fields; a typo like `dropRate = 10` should fail loudly, not silently drop everything. */
  private assertFaultsValid(): void {
    for (const [name, rate] of [
      ['dropRate', this.dropRate],
      ['longDelayRate', this.longDelayRate],
      ['duplicateRate', this.duplicateRate],
    ] as const) {
      if (!(rate >= 0 && rate <= 1)) throw new Error(`${name} must be in [0, 1], got ${rate}`);
    }
    if (!(this.latencyMsMin >= 0 && this.latencyMsMin <= this.latencyMsMax)) {
      throw new Error(`need 0 <= latencyMsMin <= latencyMsMax, got [${this.latencyMsMin}, ${this.latencyMsMax}]`);
    }
    if (!(this.longDelayMsMax >= 0 && this.longReorderMsMax >= 0)) {
      throw new Error(`long delays must be >= 0 ms, got ${this.longDelayMsMax} and ${this.longReorderMsMax}`);
    }
  }
}
