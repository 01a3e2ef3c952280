/**
 * Simulated time for harnesses whose members do real async work (promises of
 * stores, state machines): after every scheduler event, the harness's
 * settle() lets that work finish before the next event, so a run replays
 * exactly from its seed however long the work took in real time.
 */
import type { Scheduler } from '../../src/sim/scheduler.js';

export class SimTime {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly seed: number,
    /** Waits until no async work of the members is pending. */
    private readonly settle: () => Promise<void>,
  ) {}

  /** Runs simulated time, letting async work settle after every event. */
  async runFor(durationMs: number): Promise<void> {
    const deadline = this.scheduler.nowMs + durationMs;
    await this.runUntil(() => false, durationMs);
    this.scheduler.runUntil(deadline);
  }

  /** Runs until `predicate` holds (true) or `timeoutMs` of simulated time pass (false). */
  async runUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = this.scheduler.nowMs + timeoutMs;
    await this.settle();
    while (!predicate()) {
      const next = this.scheduler.nextEventAtMs;
      if (next === undefined || next > deadline) return predicate();
      this.scheduler.step();
      await this.settle();
    }
    return true;
  }

  /** Settles `promise` while simulated time runs; fails, naming the seed, if it does not settle in time. */
  async await<T>(promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    promise.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    await this.runUntil(() => outcome !== null, timeoutMs);
    const settled = outcome as { ok: true; value: T } | { ok: false; error: unknown } | null;
    if (settled === null) throw new Error(`not settled after ${timeoutMs} simulated ms (seed ${this.seed})`);
    if (!settled.ok) throw settled.error;
    return settled.value;
  }
}
