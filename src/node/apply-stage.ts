/**
 * The apply stage: committed entries wait here for the state machine, which
 * takes them in log order, everything queued at once as one applyBatch, on
 * its own beside the Ready loop. So the next log write and the next
 * AppendEntries never wait behind the state machine's write of the previous
 * commit (a LevelDB batch: as long as an fsync under load), and a commit is
 * applied as soon as the machine is free, not when the loop comes round.
 *
 * The node hands entries over only once they are durable in its own log
 * (after the Ready's persist), so the machine never holds an entry its log
 * could lose. The queue is bounded: past backlogEntriesMax or
 * backlogBytesMax the Ready loop waits (belowLimit) before taking more.
 */
import type { Entry } from '../raft/index.js';
import type { ApplyEntry, ReplicatedStateMachine } from './ports.js';

export interface ApplyStageLimits {
  /** Entries queued but not yet applied beyond which the Ready loop waits. */
  readonly backlogEntriesMax: number;
  /** ... or bytes of commands queued. */
  readonly backlogBytesMax: number;
  /** Entries per applyBatch call: one engine write, bounded. */
  readonly batchEntriesMax: number;
}

export interface ApplyStageHooks {
  /** The machine decided the replies to `entries` (its write may still be in flight): answer the writers. */
  decided(entries: readonly Entry[], replies: readonly unknown[]): void;
  /** `entries` were applied, with the machine's reply to each; the machine is idle during the call. */
  applied(entries: readonly Entry[], replies: readonly unknown[]): void;
  /** The machine failed: the node stops. */
  failed(error: unknown): void;
}

export class ApplyStage {
  private queue: Entry[] = [];
  private queueBytes = 0;
  private running = false;
  private stopped = false;
  /** Callers of settled(), woken each time a batch finishes. */
  private waiters: (() => void)[] = [];

  constructor(
    private readonly machine: ReplicatedStateMachine,
    private readonly limits: ApplyStageLimits,
    private readonly hooks: ApplyStageHooks,
  ) {}

  /** Entries committed and durable here, in log order after everything queued before. */
  enqueue(entries: readonly Entry[]): void {
    if (entries.length === 0 || this.stopped) return;
    for (const entry of entries) {
      this.queue.push(entry);
      if (entry.kind === 'command') this.queueBytes += entry.data.byteLength;
    }
    if (!this.running) void this.run();
  }

  /** Nothing queued and nothing being applied: the machine is free for a restore or a snapshot. */
  get idle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  /** The backlog is at its limits: the Ready loop should wait (belowLimit) before handing more. */
  get full(): boolean {
    return this.overLimit();
  }

  /** Resolves once the backlog is within its limits (at once if it is). */
  async belowLimit(): Promise<void> {
    while (this.running && !this.stopped && this.overLimit()) await this.settled();
  }

  /** Resolves once everything queued is applied, or the stage stopped. */
  async drained(): Promise<void> {
    while (this.running) await this.settled();
  }

  /** Applies nothing more; resolves once the batch in flight, if any, is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    this.queueBytes = 0;
    await this.drained();
  }

  private overLimit(): boolean {
    return this.queue.length >= this.limits.backlogEntriesMax || this.queueBytes >= this.limits.backlogBytesMax;
  }

  private settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const batch = this.takeBatch();
        // After a restart the machine may be ahead of the commit index the core recovered.
        const fresh = batch.filter((entry) => entry.index > this.machine.appliedIndex);
        if (fresh.length > 0) {
          const replies = await this.machine.applyBatch(fresh.map(applyEntry), (decided) =>
            this.hooks.decided(fresh, decided),
          );
          if (this.stopped) break;
          this.hooks.applied(fresh, replies);
        }
        this.wakeWaiters();
      }
    } catch (error) {
      this.stopped = true;
      this.queue = [];
      this.queueBytes = 0;
      this.hooks.failed(error);
    } finally {
      this.running = false;
      this.wakeWaiters();
    }
  }

  private takeBatch(): Entry[] {
    const count = Math.min(this.queue.length, this.limits.batchEntriesMax);
    const batch = count === this.queue.length ? this.queue : this.queue.slice(0, count);
    this.queue = count === this.queue.length ? [] : this.queue.slice(count);
    for (const entry of batch) if (entry.kind === 'command') this.queueBytes -= entry.data.byteLength;
    return batch;
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function applyEntry(entry: Entry): ApplyEntry {
  return { index: entry.index, term: entry.term, command: entry.kind === 'command' ? entry.data : null };
}
