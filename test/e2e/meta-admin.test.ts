/**
 * The meta group as an admin uses it: three `raftkv meta` processes and the
 * `raftkv admin` command, through eraft's own example (two groups, move 0-4
 * to one and 5-9 to the other), refusals, and a kill -9 of the meta leader.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ProcessGroup } from './support/process-group.js';

const run = promisify(execFile);
const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../bin/raftkv.js');
const GROUP_1 = '1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003';
const GROUP_2 = '4=127.0.0.1:7004,5=127.0.0.1:7005,6=127.0.0.1:7006';

interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

describe('raftkv admin against a three-member meta group', { timeout: 90_000 }, () => {
  let meta: ProcessGroup;
  const admin = async (...args: string[]): Promise<CliResult> => {
    const flags = ['--meta', meta.membersFlag, '--cluster-id', meta.clusterId];
    try {
      const { stdout, stderr } = await run(process.execPath, [RAFTKV_BIN, 'admin', ...flags, ...args]);
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const failed = error as { stdout: string; stderr: string; code: number };
      return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
    }
  };

  before(async () => {
    meta = await ProcessGroup.create(3, [], 'meta');
    await meta.startAll();
  });
  after(async () => {
    await meta.close();
  });

  it("walks through eraft's example: join two groups, move 0-4 and 5-9, query old and new versions", async () => {
    const first = await admin('join', '1', GROUP_1);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /config version 1, 10 buckets/);
    assert.match(first.stdout, /^1\s+0-9\s+10\s+1=127\.0\.0\.1:7001/m);
    await admin('join', '2', GROUP_2);
    await admin('move', '0-4', '1');
    const moved = await admin('move', '5-9', '2');
    assert.match(moved.stdout, /config version 4/);
    assert.match(moved.stdout, /^1\s+0-4\s+5/m);
    assert.match(moved.stdout, /^2\s+5-9\s+5/m);
    const old = await admin('query', '1', '--json');
    const oldConfig = (JSON.parse(old.stdout) as { config: { buckets: number[] } }).config;
    assert.deepEqual(oldConfig.buckets, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('refuses what cannot be done, with a reason, and changes nothing', async () => {
    const outOfRange = await admin('move', '8-12', '1');
    assert.equal(outOfRange.code, 2);
    assert.match(outOfRange.stderr, /buckets 8\.\.12 cannot be moved/);
    const unknown = await admin('leave', '9');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /9/);
    const latest = await admin('query');
    assert.match(latest.stdout, /config version 4/);
  });

  it('keeps every config through a kill -9 of the whole meta group', async () => {
    for (const id of meta.ids) await meta.kill(id);
    await meta.startAll();
    const latest = await admin('query', '--json');
    assert.equal(latest.code, 0, latest.stderr);
    const { config } = JSON.parse(latest.stdout) as { config: { version: number; buckets: number[] } };
    assert.equal(config.version, 4);
    assert.deepEqual(config.buckets, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    const left = await admin('leave', '1');
    assert.equal(left.code, 0, left.stderr);
    assert.match(left.stdout, /^2\s+0-9\s+10/m);
  });
});
