import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Measured } from '../../../scripts/compare/compare-table.js';
import { formatCompareTable, tableLines } from '../../../scripts/compare/compare-table.js';
import { parseRedisBenchmarkCsv } from '../../../scripts/compare/redis-benchmark.js';

const ETCD_PUT: Measured = { opsPerSecond: 6700, p50Ms: 8, p99Ms: 22, errors: 0 };

describe('the table of bench:compare', () => {
  it('meets the put target only with twice the rate and no higher p99', () => {
    const [twice, slowTail, tooFew] = tableLines([
      { workload: 'put', etcd: ETCD_PUT, raftkv: { opsPerSecond: 13_400, p50Ms: 4, p99Ms: 22, errors: 0 } },
      { workload: 'put', etcd: ETCD_PUT, raftkv: { opsPerSecond: 20_000, p50Ms: 4, p99Ms: 23, errors: 0 } },
      { workload: 'put', etcd: ETCD_PUT, raftkv: { opsPerSecond: 13_000, p50Ms: 4, p99Ms: 10, errors: 0 } },
    ]);
    assert.equal(twice!.met, true);
    assert.equal(twice!.ratio, 2);
    assert.equal(slowTail!.met, false);
    assert.equal(tooFew!.met, false);
  });

  it('meets no target with failed calls in the row, and says how many failed', () => {
    const lines = tableLines([
      { workload: 'get', etcd: ETCD_PUT, raftkv: { opsPerSecond: 50_000, p50Ms: 1, p99Ms: 2, errors: 7 } },
    ]);
    assert.equal(lines[0]!.met, false);
    assert.match(formatCompareTable(lines), /failed calls: raftkv 7/);
  });

  it('judges RESP SET by its own bar and leaves rows without etcd unjudged where etcd is needed', () => {
    const lines = tableLines([
      { workload: 'resp-set', etcd: null, raftkv: { opsPerSecond: 31_000, p50Ms: 1, p99Ms: 2, errors: 0 } },
      { workload: 'put-1', etcd: null, raftkv: { opsPerSecond: 900, p50Ms: 1, p99Ms: 2, errors: 0 } },
    ]);
    assert.deepEqual(
      lines.map((line) => line.met),
      [true, null],
    );
    const table = formatCompareTable(lines).split('\n');
    assert.match(table[0]!, /^workload +etcd ops\/s/);
    assert.match(table[1]!, /^SET resp, 64 clients .* 31000 .* >= 30000 ops\/s +yes$/);
  });

  it('reads the rate and percentiles of one test from redis-benchmark 7 --csv', () => {
    const csv =
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"\n' +
      '"SET","1468.43","40.1","3.2","28.25","120.0","171.01","200.5"\n';
    assert.deepEqual(parseRedisBenchmarkCsv(csv, 'set', 3550), {
      opsPerSecond: 1468.43,
      latencyMs: { p50: 28.25, p99: 171.01 },
      requests: 3550,
    });
    assert.equal(parseRedisBenchmarkCsv(csv, 'get', 3550), null);
  });
});
