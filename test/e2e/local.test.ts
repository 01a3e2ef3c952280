/**
 * `raftkv local` as a new user runs it: one command starts a whole cluster,
 * redis-cli works against any node, Ctrl-C (SIGTERM here) stops every node,
 * and the same command again resumes the cluster with its data.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { portAccepts } from '../../src/local/ports.js';
import type { LocalJson } from './support/local-process.js';
import { exitOf, RAFTKV_BIN, startLocal, startLocalOnFreePorts } from './support/local-process.js';

const run = promisify(execFile);
/** A node notices its supervisor's death at once (its stdin closes); stopping then takes well under this. */
const ORPHAN_STOP_MS_MAX = 20_000;

async function redisCli(address: string, ...args: string[]): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  const { stdout } = await run('redis-cli', ['-h', host, '-p', port, ...args]);
  return stdout.trimEnd();
}

async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + ORPHAN_STOP_MS_MAX;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${ORPHAN_STOP_MS_MAX} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

describe('raftkv local', { timeout: 180_000 }, () => {
  const children: ChildProcess[] = [];
  let directory = '';
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it('starts a cluster that redis-cli can use, stops on SIGTERM, and resumes with its data', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-local-e2e-'));
    const first = await startLocalOnFreePorts(directory);
    children.push(first.child);
    assert.equal(first.info.resumed, false);
    assert.deepEqual(
      first.info.groups.map((group) => [group.gid, group.members.length]),
      [
        [1, 3],
        [2, 3],
      ],
    );
    const [one, two] = first.info.groups as [LocalJson['groups'][0], LocalJson['groups'][0]];

    // One database whichever node is asked: keys of the other group are forwarded.
    for (let index = 0; index < 10; index++) {
      assert.equal(await redisCli(one.members[index % 3]!.resp, 'set', `key-${index}`, `value-${index}`), 'OK');
    }
    for (let index = 0; index < 10; index++) {
      assert.equal(await redisCli(two.members[index % 3]!.resp, 'get', `key-${index}`), `value-${index}`);
    }
    const { stdout } = await run(process.execPath, [RAFTKV_BIN, 'admin', '--meta', first.info.meta, 'query', '--json']);
    const { config } = JSON.parse(stdout) as { config: { buckets: number[] } };
    assert.deepEqual(
      [1, 2].map((gid) => config.buckets.filter((owner) => owner === gid).length),
      [5, 5],
      'the buckets are spread over both groups',
    );

    // A second cluster on the same directory with other settings is refused in one line, and the first runs on.
    const refused = await run(process.execPath, [RAFTKV_BIN, 'local', '--dir', directory, '--groups', '3']).then(
      () => assert.fail('a conflicting second raftkv local must fail'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /holds a cluster made with --groups 2: run without --groups to resume it/);
    assert.equal(refused.stderr.trimEnd().split('\n').length, 1);

    first.child.kill('SIGTERM');
    assert.equal(await exitOf(first.child), 0, 'raftkv local exits 0 after stopping every node');
    const allNodes = first.info.groups.flatMap((group) => group.members);
    for (const node of allNodes) {
      assert.equal(await portAccepts('127.0.0.1', portOf(node.address)), false, `node ${node.id} stopped`);
    }

    // Same directory, no flags: the same cluster on the same ports, with its data, joined once.
    const second = await startLocal(['--dir', directory]);
    children.push(second.child);
    assert.equal(second.info.resumed, true);
    assert.deepEqual(second.info.groups, first.info.groups);
    for (let index = 0; index < 10; index++) {
      assert.equal(await redisCli(one.members[(index + 1) % 3]!.resp, 'get', `key-${index}`), `value-${index}`);
    }
    second.child.kill('SIGTERM');
    assert.equal(await exitOf(second.child), 0);
  });

  it('takes its nodes down with it when it is killed outright, so that no orphan holds the ports', async () => {
    const third = await startLocal(['--dir', directory]);
    children.push(third.child);
    third.child.kill('SIGKILL');
    await exitOf(third.child);
    const allNodes = third.info.groups.flatMap((group) => group.members);
    for (const node of allNodes) {
      await waitUntil(async () => !(await portAccepts('127.0.0.1', portOf(node.address))), `node ${node.id} stops`);
    }
  });
});
