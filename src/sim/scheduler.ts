/**
 * A discrete-event clock: actions run in order of virtual time, ties in the
 * order they were scheduled, and time jumps from one event to the next, so a
 * simulated minute costs only the work done in it. Nothing here reads the wall
 * clock: the same schedule calls always produce the same run.
 */
import TinyQueue from 'tinyqueue';

/**
 * Events one run call may execute before the simulation is declared stuck. A
 * healthy run advances time; a livelock (events rescheduling themselves at the
 * same instant) would otherwise spin a test forever without failing it.
 */
export const EVENTS_PER_RUN_MAX = 50_000_000;

export interface SchedulerOptions {
  /** Overrides `EVENTS_PER_RUN_MAX`, so tests can exercise the livelock guard cheaply. */
  readonly eventsPerRunMax?: number;
}

/** Returned by `at`, `after` and `every`; pass it to `cancel`. */
export interface TimerHandle {
  readonly cancelled: boolean;
}

/** A handle's bookkeeping: each timer has at most one event queued at a time (`every` re-queues after firing). */
class Timer implements TimerHandle {
  cancelled = false;
  queued = false;
}

interface ScheduledEvent {
  readonly timeMs: number;
  readonly sequence: number;
  readonly timer: Timer;
  readonly action: () => void;
}

const byTimeThenSequence = (x: ScheduledEvent, y: ScheduledEvent): number =>
  x.timeMs - y.timeMs || x.sequence - y.sequence;

export class Scheduler {
  private readonly queue = new TinyQueue<ScheduledEvent>([], byTimeThenSequence);
  private readonly eventsPerRunMax: number;
  /** Breaks ties between events at the same time: first scheduled, first run. */
  private sequence = 0;
  private timeMs = 0;
  /** Cancelled events still in the queue (cancellation is lazy: they are skipped when popped). */
  private cancelledQueuedCount = 0;

  constructor(options: SchedulerOptions = {}) {
    this.eventsPerRunMax = options.eventsPerRunMax ?? EVENTS_PER_RUN_MAX;
    if (!(this.eventsPerRunMax > 0)) throw new Error(`eventsPerRunMax must be positive, got ${this.eventsPerRunMax}`);
  }

  get nowMs(): number {
    return this.timeMs;
  }

  /** Events waiting to run, not counting cancelled ones. */
  get pendingCount(): number {
    return this.queue.length - this.cancelledQueuedCount;
  }

  /** Runs `action` at virtual time `timeMs`, which must not be in the past. */
  at(timeMs: number, action: () => void): TimerHandle {
    const timer = new Timer();
    this.enqueue(timer, timeMs, action);
    return timer;
  }

  after(delayMs: number, action: () => void): TimerHandle {
    if (!(delayMs >= 0)) throw new Error(`delay must be >= 0 ms, got ${delayMs}`);
    return this.at(this.timeMs + delayMs, action);
  }

  /** Runs `action` every `periodMs`, first after `firstDelayMs`, until the handle is cancelled. */
  every(periodMs: number, action: () => void, firstDelayMs = periodMs): TimerHandle {
    // A zero period would fire forever without time advancing.
    if (!(periodMs > 0)) throw new Error(`period must be > 0 ms, got ${periodMs}`);
    if (!(firstDelayMs >= 0)) throw new Error(`first delay must be >= 0 ms, got ${firstDelayMs}`);
    const timer = new Timer();
    const fire = (): void => {
      action();
      // The action may have cancelled its own timer.
      if (!timer.cancelled) this.enqueue(timer, this.timeMs + periodMs, fire);
    };
    this.enqueue(timer, this.timeMs + firstDelayMs, fire);
    return timer;
  }

  /** Stops a timer; cancelling twice, or after it fired, does nothing. */
  cancel(handle: TimerHandle): void {
    const timer = handle as Timer;
    if (timer.cancelled) return;
    timer.cancelled = true;
    if (timer.queued) this.cancelledQueuedCount++;
  }

  /** Runs the next event, advancing time to it; false when none is pending. */
  step(): boolean {
    const event = this.popLive();
    if (event === undefined) return false;
    this.timeMs = event.timeMs;
    event.action();
    return true;
  }

  /** Runs every event due at or before `timeMs`, then sets the clock to `timeMs`. */
  runUntil(timeMs: number): void {
    if (timeMs < this.timeMs) throw new Error(`cannot run back to ${timeMs} ms; now is ${this.timeMs} ms`);
    const guard = this.livelockGuard();
    while (this.stepIfDueBy(timeMs)) guard();
    this.timeMs = timeMs;
  }

  runFor(durationMs: number): void {
    this.runUntil(this.timeMs + durationMs);
  }

  /**
   * Runs events until `predicate` holds or virtual time would pass now + `timeoutMs`;
   * returns whether it held. On false the clock is left at the deadline.
   * `checkEveryEvent = false` checks only once all events of an instant have run:
   * cheaper for costly predicates, and it never observes a half-processed instant.
   */
  runUntilTrue(predicate: () => boolean, timeoutMs: number, checkEveryEvent = true): boolean {
    if (!(timeoutMs >= 0)) throw new Error(`timeout must be >= 0 ms, got ${timeoutMs}`);
    const deadlineMs = this.timeMs + timeoutMs;
    if (predicate()) return true;
    const guard = this.livelockGuard();
    while (this.stepIfDueBy(deadlineMs)) {
      guard();
      if (checkEveryEvent || this.nextLiveTimeMs() !== this.timeMs) {
        if (predicate()) return true;
      }
    }
    this.timeMs = deadlineMs;
    // A predicate on the clock itself can come true with no event to trigger a check.
    return predicate();
  }

  private enqueue(timer: Timer, timeMs: number, action: () => void): void {
    if (!(timeMs >= this.timeMs)) throw new Error(`cannot schedule at ${timeMs} ms; now is ${this.timeMs} ms`);
    timer.queued = true;
    this.queue.push({ timeMs, sequence: this.sequence++, timer, action });
  }

  private popLive(): ScheduledEvent | undefined {
    if (this.nextLiveTimeMs() === undefined) return undefined;
    const event = this.queue.pop()!;
    event.timer.queued = false;
    return event;
  }

  /** When the next event is due, or undefined when none is queued. */
  get nextEventAtMs(): number | undefined {
    return this.nextLiveTimeMs();
  }

  /** The time of the earliest event that is not cancelled, dropping cancelled ones from the head. */
  private nextLiveTimeMs(): number | undefined {
    for (;;) {
      const event = this.queue.peek();
      if (event === undefined) return undefined;
      if (!event.timer.cancelled) return event.timeMs;
      this.queue.pop();
      event.timer.queued = false;
      this.cancelledQueuedCount--;
    }
  }

  private stepIfDueBy(timeMs: number): boolean {
    const next = this.nextLiveTimeMs();
    if (next === undefined || next > timeMs) return false;
    return this.step();
  }

  /** A counter for one run call that throws once it exceeds the cap. */
  private livelockGuard(): () => void {
    let executedCount = 0;
    return () => {
      if (++executedCount > this.eventsPerRunMax) {
        throw new Error(
          `simulation seems stuck (livelock): over ${this.eventsPerRunMax} events in one run call, ` +
            `virtual time now ${this.timeMs} ms`,
        );
      }
    };
  }
}
