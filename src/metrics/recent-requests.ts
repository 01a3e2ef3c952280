/**
 * The requests of the last few seconds, per operation, for the dashboard:
 * how many, how many failed, the rate, and the median and 99th percentile
 * latency. Prometheus histograms cannot answer this (their buckets are
 * coarse and they count since the start); this is a sliding window.
 *
 * The window is a ring of one-second slots. A request goes to the slot of
 * the second it finished in; a slot is reset when the ring comes round to it
 * again. A read merges the slots of the last windowSeconds seconds, the
 * current partial one included, and divides by the time they really cover
 * (less than the window while the process is younger than it), so the rate
 * does not dip as the oldest slot drops out.
 *
 * Latencies go into one HDR histogram per slot and operation rather than a
 * list of samples: recording is O(1) and a slot's memory is fixed whatever
 * the request rate, where 10 s of samples at 10k requests/s would be 100k
 * numbers to keep and sort, and sampling them would lose the tail that p99
 * is about. Two significant digits (1 % resolution) are plenty for a
 * dashboard and keep each histogram at about 10 KiB.
 */
import type { Histogram } from 'hdr-histogram-js';
import { build as buildHistogram } from 'hdr-histogram-js';
import type { OperationStats, RecentStats } from './metrics-source.js';

export interface RecentRequestsOptions {
  /** A monotonic clock in milliseconds (injected by tests). */
  readonly nowMs: () => number;
  readonly windowSeconds?: number;
}

export const WINDOW_SECONDS_DEFAULT = 10;
/** A latency past this is recorded as this: a request that slow is a failure whatever its exact time. */
export const LATENCY_US_MAX = 60_000_000;
const MS_PER_SECOND = 1000;
const US_PER_MS = 1000;

interface OperationSlot {
  count: number;
  errors: number;
  readonly latencyUs: Histogram;
}

interface Slot {
  /** The second (clock ms / 1000, floored) this slot holds; -1 when it holds nothing yet. */
  second: number;
  /** Kept across resets, so that a busy operation reuses its histograms instead of making new ones each second. */
  readonly operations: Map<string, OperationSlot>;
}

export class RecentRequests {
  private readonly windowSeconds: number;
  private readonly slots: Slot[];
  private readonly startedMs: number;

  constructor(private readonly options: RecentRequestsOptions) {
    this.windowSeconds = options.windowSeconds ?? WINDOW_SECONDS_DEFAULT;
    if (!Number.isInteger(this.windowSeconds) || this.windowSeconds < 1) {
      throw new Error(`recent requests: windowSeconds must be a positive integer, not ${this.windowSeconds}`);
    }
    this.slots = Array.from({ length: this.windowSeconds }, () => ({ second: -1, operations: new Map() }));
    this.startedMs = options.nowMs();
  }

  /** One finished request; `operation` must come from a bounded set (the caller bounds it). */
  record(operation: string, durationMs: number, ok: boolean): void {
    const slot = this.slotAt(Math.floor(this.options.nowMs() / MS_PER_SECOND));
    let entry = slot.operations.get(operation);
    if (entry === undefined) {
      entry = { count: 0, errors: 0, latencyUs: newLatencyHistogram() };
      slot.operations.set(operation, entry);
    }
    entry.count += 1;
    if (!ok) entry.errors += 1;
    entry.latencyUs.recordValue(latencyUs(durationMs));
  }

  stats(): RecentStats {
    const nowMs = this.options.nowMs();
    const currentSecond = Math.floor(nowMs / MS_PER_SECOND);
    const firstSecond = currentSecond - this.windowSeconds + 1;
    const merged = new Map<string, OperationSlot>();
    for (const slot of this.slots) {
      if (slot.second < firstSecond || slot.second > currentSecond) continue;
      for (const [operation, entry] of slot.operations) {
        if (entry.count === 0) continue;
        let total = merged.get(operation);
        if (total === undefined) {
          total = { count: 0, errors: 0, latencyUs: newLatencyHistogram() };
          merged.set(operation, total);
        }
        total.count += entry.count;
        total.errors += entry.errors;
        total.latencyUs.add(entry.latencyUs);
      }
    }
    const coveredMs = nowMs - Math.max(firstSecond * MS_PER_SECOND, this.startedMs);
    // Less than a second says little about a rate: count it as one.
    const coveredSeconds = Math.max(coveredMs, MS_PER_SECOND) / MS_PER_SECOND;
    const operations: Record<string, OperationStats> = {};
    for (const [operation, total] of [...merged].sort(([a], [b]) => a.localeCompare(b))) {
      operations[operation] = {
        count: total.count,
        errors: total.errors,
        perSecond: total.count / coveredSeconds,
        p50Ms: total.latencyUs.getValueAtPercentile(50) / US_PER_MS,
        p99Ms: total.latencyUs.getValueAtPercentile(99) / US_PER_MS,
      };
    }
    return { windowSeconds: this.windowSeconds, operations };
  }

  /** The slot for `second`, emptied first if it still holds an older second. */
  private slotAt(second: number): Slot {
    const count = this.windowSeconds;
    const slot = this.slots[((second % count) + count) % count]!;
    if (slot.second !== second) {
      slot.second = second;
      for (const entry of slot.operations.values()) {
        entry.count = 0;
        entry.errors = 0;
        entry.latencyUs.reset();
      }
    }
    return slot;
  }
}

function newLatencyHistogram(): Histogram {
  return buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_US_MAX,
    numberOfSignificantValueDigits: 2,
    autoResize: false,
  });
}

/** Whole microseconds, at least 1 (the histogram's lowest value) and at most LATENCY_US_MAX. */
function latencyUs(durationMs: number): number {
  const us = Math.round(durationMs * US_PER_MS);
  if (!(us >= 1)) return 1;
  return Math.min(us, LATENCY_US_MAX);
}
