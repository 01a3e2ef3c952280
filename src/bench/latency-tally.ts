/**
 * What one workload's calls came to: successes with their latencies in an
 * HDR histogram (microseconds, three significant digits), failures counted
 * by code.
 */
import type { Histogram } from 'hdr-histogram-js';
import { build as buildHistogram } from 'hdr-histogram-js';

/** The histogram's range; a longer call still counts, recorded at this value. */
const LATENCY_US_MAX = 60_000_000;

export interface LatencyMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export class LatencyTally {
  ops = 0;
  reads = 0;
  puts = 0;
  errors = 0;
  readonly errorsByCode: Record<string, number> = {};
  private readonly histogram: Histogram = buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_US_MAX,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });

  succeeded(kind: 'read' | 'put', latencyMs: number): void {
    this.ops += 1;
    if (kind === 'read') this.reads += 1;
    else this.puts += 1;
    this.histogram.recordValue(Math.min(LATENCY_US_MAX, Math.max(1, Math.round(latencyMs * 1000))));
  }

  failed(code: string): void {
    this.errors += 1;
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
  }

  /** Null until a call succeeded. */
  latencyMs(): LatencyMs | null {
    if (this.ops === 0) return null;
    const at = (percentile: number): number => this.histogram.getValueAtPercentile(percentile) / 1000;
    return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: at(100) };
  }
}
