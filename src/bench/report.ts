/**
 * A benchmark's results, and the two ways they are printed: an aligned table
 * for people, one JSON object for scripts.
 */
import type { LatencyMs } from './latency-tally.js';
import type { WorkloadName } from './workloads.js';
import { formatTable as formatTextTable } from '../cli/text-table.js';

export interface BenchPlan {
  readonly workloads: readonly WorkloadName[];
  readonly clients: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly durationSeconds: number;
  readonly seed: number;
}

export interface WorkloadResult {
  readonly workload: WorkloadName;
  readonly clients: number;
  /** Calls that succeeded. */
  readonly ops: number;
  readonly reads: number;
  readonly puts: number;
  /** Calls that failed, in all and by code. */
  readonly errors: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly opsPerSecond: number;
  /** Of the calls that succeeded; null when none did. */
  readonly latencyMs: LatencyMs | null;
}

export interface LoadResult {
  readonly keys: number;
  readonly seconds: number;
  readonly keysPerSecond: number;
}

export interface BenchReport {
  /** What was measured: `group of 3 members`, `sharded cluster with 3 meta members`. */
  readonly target: string;
  readonly plan: BenchPlan;
  /** Null when no workload needed the keys loaded (or the run stopped first). */
  readonly load: LoadResult | null;
  readonly results: readonly WorkloadResult[];
  /** True when Ctrl-C cut the run short: the last result covers less than its duration. */
  readonly interrupted: boolean;
}

/** A line of the table; a measurement from elsewhere (redis-benchmark) may lack some percentiles. */
export interface TableRow {
  readonly workload: string;
  readonly clients: number;
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly errors: number;
  readonly latencyMs: { readonly [Percentile in keyof LatencyMs]: number | null } | null;
}

const HEADER = ['workload', 'clients', 'ops', 'ops/s', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max (ms)'];

/** Columns aligned by two spaces; the name column left, numbers right; `-` where there is no number. */
export function formatTable(rows: readonly TableRow[]): string {
  return formatTextTable([HEADER, ...rows.map(rowCells)], (column) => (column === 0 ? 'left' : 'right'));
}

function rowCells(row: TableRow): string[] {
  const ms = (value: number | null | undefined): string =>
    value === null || value === undefined ? '-' : value.toFixed(2);
  const latency = row.latencyMs;
  return [
    row.workload,
    String(row.clients),
    String(row.ops),
    Math.round(row.opsPerSecond).toString(),
    String(row.errors),
    ms(latency?.p50),
    ms(latency?.p90),
    ms(latency?.p99),
    ms(latency?.p999),
    ms(latency?.max),
  ];
}

/** Errors by code under the table, when there were any: `ycsb-a: 3 deadlineExceeded`. */
export function formatErrorCodes(results: readonly WorkloadResult[]): string[] {
  return results
    .filter((result) => result.errors > 0)
    .map(
      (result) =>
        `${result.workload}: ${Object.entries(result.errorsByCode)
          .map(([code, count]) => `${count} ${code}`)
          .join(', ')}`,
    );
}

/** Where and when a run happened: numbers of different machines do not compare. */
export interface RunEnvironment {
  readonly date: string;
  readonly node: string;
  readonly platform: string;
  readonly cpus: number;
}

/** The report as one JSON object, with what a later reader needs to compare runs. */
export function formatJson(report: BenchReport, environment: RunEnvironment): string {
  return JSON.stringify({ ...environment, ...report }, null, 2);
}
