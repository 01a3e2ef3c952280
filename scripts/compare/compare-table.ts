/**
 * The one table of `npm run bench:compare`: each workload with etcd's and
 * raftkv's rate and latency, their ratio, and issue 6's target for it, met
 * or not.
 */
import { formatTable } from '../../src/cli/text-table.js';

export interface Measured {
  readonly opsPerSecond: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Failed calls (non-2xx answers, socket errors): a rate with errors in it is not a fair number. */
  readonly errors: number;
}

export type WorkloadName = 'put' | 'get' | 'put-1' | 'resp-set' | 'resp-get';

export interface CompareRow {
  readonly workload: WorkloadName;
  readonly etcd: Measured | null;
  readonly raftkv: Measured | null;
}

interface Target {
  readonly label: string;
  readonly text: string;
  /** True when met, false when missed, null when a number it needs is missing. */
  readonly check: (etcd: Measured | null, raftkv: Measured) => boolean | null;
}

/** Issue 6's targets, one per workload; resp-get has none. */
export const TARGETS: Readonly<Record<WorkloadName, Target>> = {
  put: {
    label: 'PUT http, 64 conns',
    text: '>= 2x ops, p99 <= etcd',
    check: (etcd, raftkv) =>
      etcd === null || etcd.p99Ms === null || raftkv.p99Ms === null
        ? null
        : raftkv.opsPerSecond >= 2 * etcd.opsPerSecond && raftkv.p99Ms <= etcd.p99Ms,
  },
  get: {
    label: 'GET http lin., 64 conns',
    text: '>= 3x ops',
    check: (etcd, raftkv) => (etcd === null ? null : raftkv.opsPerSecond >= 3 * etcd.opsPerSecond),
  },
  'put-1': {
    label: 'PUT http, 1 conn',
    text: 'p50 <= etcd',
    check: (etcd, raftkv) =>
      etcd === null || etcd.p50Ms === null || raftkv.p50Ms === null ? null : raftkv.p50Ms <= etcd.p50Ms,
  },
  'resp-set': {
    label: 'SET resp, 64 clients',
    text: '>= 30000 ops/s',
    check: (_etcd, raftkv) => raftkv.opsPerSecond >= 30_000,
  },
  'resp-get': { label: 'GET resp, 64 clients', text: '-', check: () => null },
};

export interface TableLine {
  readonly workload: string;
  readonly etcd: Measured | null;
  readonly raftkv: Measured | null;
  /** raftkv's ops/s over etcd's. */
  readonly ratio: number | null;
  readonly target: string;
  readonly met: boolean | null;
}

export function tableLines(rows: readonly CompareRow[]): TableLine[] {
  return rows.map((row) => {
    const target = TARGETS[row.workload];
    const errors = (row.etcd?.errors ?? 0) + (row.raftkv?.errors ?? 0);
    // A rate made partly of failed calls proves nothing: such a row meets no target.
    const checked = row.raftkv === null ? null : target.check(row.etcd, row.raftkv);
    return {
      workload: target.label,
      etcd: row.etcd,
      raftkv: row.raftkv,
      ratio: row.etcd === null || row.raftkv === null ? null : row.raftkv.opsPerSecond / row.etcd.opsPerSecond,
      target: target.text,
      met: checked === true && errors > 0 ? false : checked,
    };
  });
}

function number(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

export function formatCompareTable(lines: readonly TableLine[]): string {
  const header = [
    'workload',
    'etcd ops/s',
    'p50 ms',
    'p99 ms',
    'raftkv ops/s',
    'p50 ms',
    'p99 ms',
    'ratio',
    'target',
    'met',
  ];
  const cells = lines.map((line) => [
    line.workload,
    number(line.etcd?.opsPerSecond, 0),
    number(line.etcd?.p50Ms, 2),
    number(line.etcd?.p99Ms, 2),
    number(line.raftkv?.opsPerSecond, 0),
    number(line.raftkv?.p50Ms, 2),
    number(line.raftkv?.p99Ms, 2),
    line.ratio === null ? '-' : `${line.ratio.toFixed(2)}x`,
    line.target,
    line.met === null ? '-' : line.met ? 'yes' : 'NO',
  ]);
  const errors = lines.flatMap((line) => {
    const parts = [
      line.etcd !== null && line.etcd.errors > 0 ? `etcd ${line.etcd.errors}` : null,
      line.raftkv !== null && line.raftkv.errors > 0 ? `raftkv ${line.raftkv.errors}` : null,
    ].filter((part) => part !== null);
    return parts.length === 0 ? [] : [`${line.workload}: failed calls: ${parts.join(', ')} (the row meets no target)`];
  });
  // The workload and target columns are words; the others numbers.
  const table = formatTable([header, ...cells], (column) => (column === 0 || column === 8 ? 'left' : 'right'));
  return [table, ...errors].join('\n');
}
