/**
 * The Redis commands against a sharded cluster of real processes (one meta
 * member, two shard groups): the real redis-cli, redis-benchmark and the
 * ioredis client library, whose replies must all be accepted as Redis's.
 * Keys spread over both groups, so multi-key commands and DBSIZE cross them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ProcessGroup } from './support/process-group.js';

const run = promisify(execFile);
const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../bin/raftkv.js');
/** Enough requests for every benchmarked command to run on many keys; few enough to stay quick. */
const BENCHMARK_REQUESTS = 300;
const INCR_CLIENTS = 4;
const INCRS_PER_CLIENT = 25;

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trimEnd();
}

describe('Redis commands on a sharded cluster: redis-cli, redis-benchmark, ioredis', { timeout: 90_000 }, () => {
  const groups: ProcessGroup[] = [];
  /** RESP ports of members of group 1 (two members) and group 2 (one). */
  let ports: number[] = [];
  let clients: Redis[] = [];

  before(async () => {
    const meta = await ProcessGroup.create(1, [], 'meta');
    groups.push(meta);
    const shard = async (gid: number, size: number): Promise<ProcessGroup> => {
      const group = await ProcessGroup.create(size, ['--gid', String(gid), '--meta', meta.membersFlag], 'shard', {
        idBase: gid * 10,
        clusterId: meta.clusterId,
      });
      groups.push(group);
      return group;
    };
    const [one, two] = [await shard(1, 2), await shard(2, 1)];
    await Promise.all(groups.map((group) => group.startAll()));
    const admin = (...args: string[]): Promise<unknown> =>
      run(process.execPath, [
        RAFTKV_BIN,
        'admin',
        ...['--meta', meta.membersFlag, '--cluster-id', meta.clusterId, '--timeout-ms', '20000'],
        ...args,
      ]);
    await admin('join', '1', one.membersFlag);
    await admin('join', '2', two.membersFlag);
    ports = [...one.ids.map((id) => one.member(id).respPort), ...two.ids.map((id) => two.member(id).respPort)];
    // Half the buckets move to group 2 after it joins: wait until a key of each group is served.
    for (const key of ['a', 'b', 'c', 'd']) {
      for (let attempt = 0; (await redisCli(ports[0]!, 'SET', key, 'ready')) !== 'OK'; attempt++) {
        if (attempt === 50) throw new Error(`key ${key} is not served after the joins`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(groups.map((group) => group.close()));
  });

  it('redis-cli: conditional and expiring SETs, counters, multi-key commands, DBSIZE and INFO', async () => {
    const [first, second, third] = ports as [number, number, number];
    assert.equal(await redisCli(first, 'SET', 'session', 'abc', 'NX', 'EX', '100'), 'OK');
    assert.equal(await redisCli(second, 'SET', 'session', 'xyz', 'NX', 'EX', '100'), '');
    const ttl = Number(await redisCli(third, 'TTL', 'session'));
    assert.ok(ttl > 90 && ttl <= 100, `TTL ${ttl}`);
    assert.equal(await redisCli(third, 'SET', 'session', 'def', 'XX', 'GET'), 'abc');
    assert.equal(await redisCli(first, 'TTL', 'session'), '-1', 'SET without KEEPTTL clears the expiry');
    assert.equal(await redisCli(second, 'INCRBY', 'visits', '10'), '10');
    assert.equal(await redisCli(third, 'DECR', 'visits'), '9');
    assert.match(await redisCli(first, 'INCR', 'session'), /ERR value is not an integer or out of range/);
    assert.match(await redisCli(first, 'SET', 'k', 'v', 'NX', 'XX'), /ERR syntax error/);
    assert.equal(await redisCli(first, 'MSET', 'm1', 'one', 'm2', 'two', 'm3', 'three'), 'OK');
    assert.equal(await redisCli(third, 'MGET', 'm1', 'none', 'm3'), 'one\n\nthree');
    assert.equal(await redisCli(second, 'GETDEL', 'm2'), 'two');
    assert.equal(await redisCli(second, 'STRLEN', 'm3'), '5');
    assert.equal(await redisCli(third, 'GETSET', 'm3', '3'), 'three');
    // a b c d (the readiness keys), session, visits, m1, m3; whichever node is asked, every group is counted.
    assert.equal(await redisCli(first, 'DBSIZE'), '8');
    assert.equal(await redisCli(third, 'DBSIZE'), '8');
    const info = await redisCli(second, 'INFO');
    assert.match(info, /redis_version:7\.0\.0/);
    assert.match(info, /raftkv_role:shard member/);
    assert.match(info, /uptime_in_seconds:\d+/);
    assert.match(info, /connected_clients:\d+/);
    assert.match(info, /# Keyspace\r?\ndb0:keys=8/);
    assert.match(await redisCli(first, 'INFO', 'server'), /^# Server/);
  });

  it('redis-benchmark: every reply to SET, GET, INCR and MSET is accepted', async () => {
    const { stdout } = await run('redis-benchmark', [
      ...['-h', '127.0.0.1', '-p', String(ports[2]!)],
      ...['-t', 'set,get,incr,mset', '-n', String(BENCHMARK_REQUESTS), '-c', '8', '-r', '1000', '-q'],
    ]);
    // -q prints one line per test ending in its rate; progress is overwritten with \r.
    const summary = stdout.split(/[\r\n]/).filter((line) => / requests per second/.test(line));
    for (const test of ['SET', 'GET', 'INCR', 'MSET \\(10 keys\\)']) {
      assert.ok(
        summary.some((line) => new RegExp(`^${test}: [\\d.]+ requests per second`).test(line)),
        `no rate for ${test} in:\n${stdout}`,
      );
    }
  });

  it('ioredis: commands, a pipeline answered in order, SET NX EX, and concurrent INCRs that add up', async () => {
    clients = ports.map((port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 }));
    const [client] = clients as [Redis];
    assert.equal(await client.set('io:key', 'value'), 'OK');
    assert.equal(await client.get('io:key'), 'value');
    assert.equal(await client.incr('io:counter'), 1);
    assert.equal(await client.mset({ 'io:a': '1', 'io:b': '2' }), 'OK');
    assert.deepEqual(await client.mget('io:a', 'io:missing', 'io:b'), ['1', null, '2']);
    assert.equal(await client.set('io:lock', 'me', 'EX', 30, 'NX'), 'OK');
    assert.equal(await client.set('io:lock', 'you', 'EX', 30, 'NX'), null);
    assert.equal(await client.get('io:lock'), 'me');
    const pttl = await client.pttl('io:lock');
    assert.ok(pttl > 25_000 && pttl <= 30_000, `PTTL ${pttl}`);

    const pipeline = client.pipeline();
    for (let index = 0; index < 100; index++) pipeline.set(`io:p${index}`, String(index)).get(`io:p${index}`);
    const results = await pipeline.exec();
    assert.ok(results !== null);
    results.forEach(([failure, reply], position) => {
      assert.equal(failure, null);
      assert.equal(reply, position % 2 === 0 ? 'OK' : String(Math.floor(position / 2)));
    });

    // Clients on every node increment one key at once: the state machine applies each INCR whole.
    const incrementers = Array.from(
      { length: INCR_CLIENTS },
      (_, index) => new Redis({ host: '127.0.0.1', port: ports[index % ports.length]!, maxRetriesPerRequest: 1 }),
    );
    clients.push(...incrementers);
    await Promise.all(
      incrementers.map(async (redis) => {
        for (let count = 0; count < INCRS_PER_CLIENT; count++) await redis.incr('io:shared');
      }),
    );
    assert.equal(await client.get('io:shared'), String(INCR_CLIENTS * INCRS_PER_CLIENT));
  });
});
