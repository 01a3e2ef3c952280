/**
 * The HTTP API on a sharded cluster of real processes: three meta members
 * and two shard groups of three, every one started with --http. A key of
 * group 2 is written, read and deleted at a node of group 1 (forwarded);
 * /v1/cluster shows every node with one leader per group; a move made with
 * POST /v1/admin/move shows up in `raftkv admin query`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ClusterView } from '../../src/client/cluster-status.js';
import { bucketOf } from '../../src/shard/bucket.js';
import { freePort, ProcessGroup } from './support/process-group.js';

const run = promisify(execFile);
const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../bin/raftkv.js');
/** Long enough for elections on a busy machine; the test waits for conditions, never for time. */
const SETTLE_DEADLINE_MS = 20_000;

interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [RAFTKV_BIN, ...args]);
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

/** Retries `check` until it returns a value (not undefined) or the deadline passes, then says what it last saw. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within ${SETTLE_DEADLINE_MS} ms (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('end to end: the HTTP API of a sharded cluster', { timeout: 120_000 }, () => {
  const groups: ProcessGroup[] = [];
  after(async () => {
    await Promise.all(groups.map((group) => group.close()));
  });

  it('forwards keys between groups, shows every node with one leader per group, and moves buckets', async () => {
    const meta = await ProcessGroup.create(3, [], 'meta', { http: true });
    groups.push(meta);
    const shard = async (gid: number): Promise<ProcessGroup> => {
      const group = await ProcessGroup.create(3, ['--gid', String(gid), '--meta', meta.membersFlag], 'shard', {
        idBase: gid * 10,
        clusterId: meta.clusterId,
        http: true,
      });
      groups.push(group);
      return group;
    };
    const [one, two] = [await shard(1), await shard(2)];
    // One group at a time: nine processes starting at once on a busy two-core machine starve each other.
    for (const group of [meta, one, two]) await group.startAll();
    const http = (group: ProcessGroup, index: number, target: string, init?: RequestInit): Promise<Response> =>
      fetch(`http://127.0.0.1:${group.member(group.ids[index]!).httpPort}${target}`, init);
    const adminFlags = ['admin', '--meta', meta.membersFlag, '--cluster-id', meta.clusterId];

    const joined = await cli(...adminFlags, 'join', '1', one.membersFlag);
    assert.equal(joined.code, 0, joined.stderr);
    // Group 2 joins through the HTTP API of a node of group 1.
    const joinTwo = await http(one, 0, '/v1/admin/join', {
      method: 'POST',
      body: JSON.stringify({ gid: 2, members: two.membersFlag }),
    });
    assert.equal(joinTwo.status, 200, await joinTwo.clone().text());
    const config = ((await joinTwo.json()) as { config: { buckets: number[] } }).config;
    assert.ok(config.buckets.includes(2), `group 2 owns no bucket: ${config.buckets.join(',')}`);

    for (const group of [meta, one, two]) {
      for (let index = 0; index < 3; index++) {
        await eventually(`a healthy answer from node ${group.ids[index]}`, async () =>
          (await http(group, index, '/v1/health')).status === 200 ? true : undefined,
        );
      }
    }

    // A key of group 2, served at a node of group 1.
    let key = 0;
    while (config.buckets[bucketOf(Buffer.from(`key-${key}`), config.buckets.length)] !== 2) key++;
    const path = `/v1/kv/${encodeURIComponent(`key-${key}`)}`;
    const value = Buffer.from([0, 255, 1, 2, 3]);
    const put = await http(one, 1, path, { method: 'PUT', body: value });
    assert.equal(put.status, 200, await put.text());
    const got = await http(one, 2, path);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), value);
    const stale = await eventually('a stale read at a follower of group 2', async () => {
      const response = await http(two, 0, `${path}?stale=true`);
      return response.status === 200 ? Buffer.from(await response.arrayBuffer()) : undefined;
    });
    assert.deepEqual(stale, value);
    assert.deepEqual(await (await http(one, 0, path, { method: 'DELETE' })).json(), { ok: true, existed: true });
    assert.equal((await http(one, 1, path)).status, 404);
    const atMeta = await http(meta, 0, path);
    assert.equal(atMeta.status, 404);
    assert.match(await atMeta.text(), /meta node holds no keys/);

    const view = await eventually('one leader in every group', async () => {
      const cluster = (await (await http(meta, 1, '/v1/cluster')).json()) as ClusterView;
      const settled = cluster.groups.every(
        (group) =>
          group.members.every((member) => member.status !== null) &&
          group.members.filter((member) => member.status?.role === 'leader').length === 1,
      );
      return settled ? cluster : undefined;
    });
    assert.deepEqual(
      view.groups.map((group) => [group.name, group.members.map((member) => member.id)]),
      [
        ['meta', meta.ids],
        ['group 1', one.ids],
        ['group 2', two.ids],
      ],
    );

    // Buckets of group 1 move to group 2 by HTTP; admin query shows it.
    const ofOne = config.buckets.flatMap((gid, bucket) => (gid === 1 ? [bucket] : []));
    const moved = await http(meta, 2, '/v1/admin/move', {
      method: 'POST',
      body: JSON.stringify({ buckets: `${ofOne[0]}`, gid: 2 }),
    });
    assert.equal(moved.status, 200, await moved.clone().text());
    const query = await cli(...adminFlags, 'query', '--json');
    assert.equal(query.code, 0, query.stderr);
    const queried = JSON.parse(query.stdout) as ClusterView & { config: { buckets: number[] } };
    assert.equal(queried.config.buckets[ofOne[0]!], 2);
    assert.equal(queried.groups.flatMap((group) => group.members).length, 9);
    const table = await cli(...adminFlags, 'query');
    assert.match(table.stdout, /^group\s+buckets\s+count\s+leader\s+members$/m);
    assert.match(table.stdout, /^meta\s+1\s+127\.0\.0\.1:\d+\s+(leader|follower)\s+\d+/m);
  });

  it('admin query against a meta group that does not answer fails in one line with a non-zero exit', async () => {
    const port = await freePort();
    const result = await cli('admin', '--meta', `1=127.0.0.1:${port}`, '--timeout-ms', '500', 'query');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^raftkv admin: no member of the group answered within 500 ms .*\n$/);
    assert.equal(result.stderr.trim().split('\n').length, 1);
  });
});
