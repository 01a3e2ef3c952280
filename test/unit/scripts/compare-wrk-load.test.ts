import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrkOutput, wrkArgs, wrkScript } from '../../../scripts/compare/wrk-load.js';

/** What wrk 4.1 prints with --latency, with a few failed calls. */
const WRK_OUTPUT = `Running 10s test @ http://127.0.0.1:43503
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.20ms   12.01ms 160.05ms   79.12%
    Req/Sec     1.49k   210.32     2.00k    70.00%
  Latency Distribution
     50%  635.00us
     75%   19.25ms
     90%   31.50ms
     99%    1.20s
  29612 requests in 10.01s, 9.02MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:   2958.40
Transfer/sec:    922.73KB
`;

describe('the wrk load of bench:compare', () => {
  it('reads the rate, the percentiles in milliseconds whatever their unit, and the failed calls', () => {
    assert.deepEqual(parseWrkOutput(WRK_OUTPUT), {
      requests: 29612,
      opsPerSecond: 2958.4,
      latencyMs: { p50: 0.635, p75: 19.25, p90: 31.5, p99: 1200 },
      non2xx: 12,
      socketErrors: 3,
    });
  });

  it('finds no result in output without a latency distribution (wrk run without --latency)', () => {
    const withoutDistribution = WRK_OUTPUT.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, '');
    assert.equal(parseWrkOutput(withoutDistribution), null);
  });

  it('sends raftkv a raw PUT and etcd a JSON put with base64 key and value, each with 8-digit keys', () => {
    const raftkv = wrkScript({ system: 'raftkv', operation: 'put', keys: 100_000, valueBytes: 4, seed: 1 });
    assert.match(raftkv, /wrk\.format\("PUT", "\/v1\/kv\/" \.\. next_key\(\), nil, VALUE\)/);
    assert.match(raftkv, /local VALUE = "vvvv"/);
    assert.match(raftkv, /string\.format\("%08d", math\.random\(0, KEYS - 1\)\)/);
    const etcd = wrkScript({ system: 'etcd', operation: 'put', keys: 100_000, valueBytes: 4, seed: 1 });
    assert.match(etcd, /"\/v3\/kv\/put"/);
    assert.ok(etcd.includes(`"value":"${Buffer.from('vvvv').toString('base64')}"`));
    const etcdGet = wrkScript({ system: 'etcd', operation: 'get', keys: 1000, valueBytes: 4, seed: 1 });
    assert.match(etcdGet, /"\/v3\/kv\/range"/);
    assert.match(etcdGet, /local KEYS = 1000\n/);
  });

  it('runs a thread per core but never more threads than connections, with latency percentiles on', () => {
    assert.deepEqual(wrkArgs('http://h:1', 's.lua', 64, 10, 2).slice(0, 3), ['-t2', '-c64', '-d10s']);
    assert.deepEqual(wrkArgs('http://h:1', 's.lua', 1, 10, 2).slice(0, 2), ['-t1', '-c1']);
    assert.ok(wrkArgs('http://h:1', 's.lua', 1, 10, 2).includes('--latency'));
  });
});
