import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyTally } from '../../../src/bench/latency-tally.js';
import type { BenchReport, TableRow, WorkloadResult } from '../../../src/bench/report.js';
import { formatErrorCodes, formatJson, formatTable } from '../../../src/bench/report.js';

const PUT: WorkloadResult = {
  workload: 'put',
  clients: 32,
  ops: 70_901,
  reads: 0,
  puts: 70_901,
  errors: 0,
  errorsByCode: {},
  seconds: 10.02,
  opsPerSecond: 7076.0479,
  latencyMs: { p50: 3.371, p90: 6.671, p99: 15.551, p999: 29.487, max: 101.5 },
};

const YCSB_B: WorkloadResult = {
  ...PUT,
  workload: 'ycsb-b',
  ops: 9,
  reads: 8,
  puts: 1,
  errors: 3,
  errorsByCode: { deadlineExceeded: 2, missingValue: 1 },
  opsPerSecond: 0.9,
  latencyMs: { p50: 0.5, p90: 0.5, p99: 12, p999: 12, max: 12 },
};

/** A row measured by another tool, which gives no p90 or p99.9. */
const RESP: TableRow = {
  workload: 'set over RESP',
  clients: 32,
  ops: 7025,
  opsPerSecond: 2403.4,
  errors: 0,
  latencyMs: { p50: 10.48, p90: null, p99: 66.11, p999: null, max: 80 },
};

void describe('the bench table', () => {
  const table = formatTable([PUT, YCSB_B, RESP]);
  const lines = table.split('\n');

  void it('has a header and one line per workload, every column aligned', () => {
    assert.equal(lines.length, 4);
    assert.deepEqual(lines[0]!.split(/ {2,}/), [
      'workload',
      'clients',
      'ops',
      'ops/s',
      'errors',
      'p50',
      'p90',
      'p99',
      'p99.9',
      'max (ms)',
    ]);
    // Numbers are right-aligned: every line ends at the same column.
    assert.equal(new Set(lines.map((line) => line.length)).size, 1, table);
  });

  void it('prints ops/s whole, latencies in milliseconds with two decimals, and - where a tool gave none', () => {
    assert.deepEqual(lines[1]!.split(/ +/), [
      'put',
      '32',
      '70901',
      '7076',
      '0',
      '3.37',
      '6.67',
      '15.55',
      '29.49',
      '101.50',
    ]);
    assert.deepEqual(lines[2]!.split(/ +/), ['ycsb-b', '32', '9', '1', '3', '0.50', '0.50', '12.00', '12.00', '12.00']);
    assert.match(lines[3]!, /^set over RESP +32 +7025 +2403 +0 +10\.48 +- +66\.11 +- +80\.00$/);
  });

  void it('lists the errors of each workload by code under the table', () => {
    assert.deepEqual(formatErrorCodes([PUT, YCSB_B]), ['ycsb-b: 2 deadlineExceeded, 1 missingValue']);
  });

  void it('prints one JSON object with the plan, the results and where it ran', () => {
    const report: BenchReport = {
      target: 'group of 3 members',
      plan: { workloads: ['put', 'ycsb-b'], clients: 32, keys: 1000, valueBytes: 256, durationSeconds: 10, seed: 1 },
      load: { keys: 1000, seconds: 1.5, keysPerSecond: 666.7 },
      results: [PUT, YCSB_B],
      interrupted: false,
    };
    const environment = { date: '2026-11-27T07:00:00.000Z', node: 'v20.19.0', platform: 'linux', cpus: 2 };
    const parsed = JSON.parse(formatJson(report, environment)) as Record<string, unknown>;
    assert.deepEqual(parsed, { ...environment, ...report });
  });
});

void describe('LatencyTally', () => {
  void it('reports percentiles in milliseconds to three significant digits, in order', () => {
    const tally = new LatencyTally();
    for (let ms = 1; ms <= 1000; ms++) tally.succeeded(ms % 10 === 0 ? 'put' : 'read', ms);
    tally.failed('deadlineExceeded');
    const latency = tally.latencyMs()!;
    const near = (actual: number, expected: number): boolean => Math.abs(actual - expected) <= expected * 0.001;
    assert.ok(near(latency.p50, 500), `p50 ${latency.p50}`);
    assert.ok(near(latency.p90, 900), `p90 ${latency.p90}`);
    assert.ok(near(latency.p99, 990), `p99 ${latency.p99}`);
    assert.ok(near(latency.p999, 999), `p99.9 ${latency.p999}`);
    assert.ok(near(latency.max, 1000), `max ${latency.max}`);
    assert.ok(latency.p999 <= latency.max);
    assert.deepEqual(
      { ops: tally.ops, reads: tally.reads, puts: tally.puts, errors: tally.errors, byCode: tally.errorsByCode },
      { ops: 1000, reads: 900, puts: 100, errors: 1, byCode: { deadlineExceeded: 1 } },
    );
  });

  void it('has no latencies before a call succeeded', () => {
    const tally = new LatencyTally();
    tally.failed('closed');
    assert.equal(tally.latencyMs(), null);
  });
});
