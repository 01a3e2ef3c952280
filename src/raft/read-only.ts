/**
 * Pending ReadIndex requests on a leader (dissertation §6.4). A read waits
 * until a quorum has answered a heartbeat sent after the read arrived; that
 * proves no other leader had been elected when the read index was taken.
 * A quorum for a later request also confirms every earlier one.
 */
import type { LogIndex, NodeId } from './types.js';

export interface PendingRead {
  readonly context: string;
  readonly index: LogIndex;
  /** Who asked: the leader itself, or a follower that forwarded the read. */
  readonly requester: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private readonly pending = new Map<string, PendingRead>();
  private order: string[] = [];

  constructor(private readonly requestsMax: number) {}

  get size(): number {
    return this.order.length;
  }

  has(context: string): boolean {
    return this.pending.has(context);
  }

  isFull(): boolean {
    return this.order.length >= this.requestsMax;
  }

  add(context: string, index: LogIndex, requester: NodeId, self: NodeId): void {
    this.pending.set(context, { context, index, requester, acks: new Set([self]) });
    this.order.push(context);
  }

  /** Records that `from` answered the heartbeat for `context`; returns everyone who has. */
  acknowledge(context: string, from: NodeId): ReadonlySet<NodeId> {
    const read = this.pending.get(context);
    if (read === undefined) return new Set();
    read.acks.add(from);
    return read.acks;
  }

  /** Removes and returns every request up to and including `context`, oldest first. */
  releaseThrough(context: string): PendingRead[] {
    const position = this.order.indexOf(context);
    if (position < 0) return [];
    const released = this.order.slice(0, position + 1).map((ctx) => this.pending.get(ctx)!);
    for (const read of released) this.pending.delete(read.context);
    this.order = this.order.slice(position + 1);
    return released;
  }

  lastContext(): string | null {
    return this.order[this.order.length - 1] ?? null;
  }

  clear(): PendingRead[] {
    const dropped = this.order.map((ctx) => this.pending.get(ctx)!);
    this.pending.clear();
    this.order = [];
    return dropped;
  }
}
