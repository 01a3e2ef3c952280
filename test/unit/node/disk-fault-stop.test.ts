/**
 * A member whose disk fails stops, on real disk stores and the seeded
 * simulated network: the leader's fdatasync fails (EIO) or its file system
 * fills up (ENOSPC) while a write is in flight. The leader must stop with the
 * DiskWriteError (its fatal handler is what makes a process exit 74), must
 * not acknowledge the write it could not make durable, and must not touch
 * its files again. The other two elect a leader and serve on; the failed
 * member restarts on a healed disk and catches up to the same state.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { utf8 } from '../../../src/kv/commands.js';
import type { KvReply } from '../../../src/kv/commands.js';
import { classifyNodeFailure } from '../../../src/cli/node-failure.js';
import { NodeError } from '../../../src/node/errors.js';
import type { NodeId } from '../../../src/raft/index.js';
import type { DiskFault } from '../../../src/storage/disk-fault-injection.js';
import { injectDiskFaults } from '../../../src/storage/disk-fault-injection.js';
import type { DiskStep } from '../../../src/storage/errors.js';
import { DiskWriteError } from '../../../src/storage/errors.js';
import { DiskKvGroup } from '../../support/disk-kv-group.js';

const SEED = 23;
const MEMBERS: readonly NodeId[] = [1, 2, 3];

afterEach(() => injectDiskFaults(null));

describe('a leader whose disk fails stops and never acknowledges the write it could not make durable', () => {
  const cases: readonly { name: string; step: DiskStep; fault: DiskFault; says: RegExp }[] = [
    { name: 'fdatasync fails with EIO', step: 'fdatasync', fault: { errno: 'EIO' }, says: /could not fdatasync .*EIO/ },
    {
      name: 'the disk is full (ENOSPC) halfway through a write',
      step: 'write',
      fault: { errno: 'ENOSPC', bytesWritten: 7 },
      says: /could not write .*ENOSPC.*is full/,
    },
  ];
  for (const { name, step, fault, says } of cases) {
    it(`${name}: the others serve on, and the member catches up after a restart`, async () => {
      const group = await DiskKvGroup.create(SEED, MEMBERS, {
        snapshotEveryEntries: 1000,
        snapshotCatchUpEntries: 100,
        snapshotChunkBytes: 64 * 1024,
      });
      try {
        await leaderLosesItsDisk(group, step, fault, says);
      } finally {
        await group.close();
      }
    });
  }
});

describe('a member whose state machine engine cannot flush its held writes stops at once, busy or idle', () => {
  it("a follower stops when the interval's flush fails, with no write after it; the others serve on", async () => {
    const group = await DiskKvGroup.create(SEED, MEMBERS, {
      snapshotEveryEntries: 1000,
      snapshotCatchUpEntries: 100,
      snapshotChunkBytes: 64 * 1024,
    });
    try {
      await group.startAll();
      const leader = await group.electLeader();
      const follower = MEMBERS.find((id) => id !== leader.id)!;
      const context = `seed ${group.seed}, follower ${follower}`;
      // What LevelKvEngine makes of LevelDB's LEVEL_IO_ERROR: the error a server classifies as exit 74.
      const levelError = new Error('IO error: 000005.log: Input/output error');
      const brokenDisk = new DiskWriteError(
        'write',
        path.join(group.directory, `member-${follower}`, 'kv'),
        'EIO',
        levelError,
      );
      group.failEngineWrites(follower, brokenDisk);
      assertOk(await group.put(leader, 'held', utf8('on the follower, in memory only')), context);
      const applied = await group.runUntil(
        () => group.machine(follower).appliedIndex === group.machine(leader.id).appliedIndex,
        5000,
      );
      assert.ok(applied, `${context}: the follower did not apply the write`);
      assert.deepEqual(group.failures, [], `${context}: the follower stopped before its flush`);

      // Nothing more is written: only the engine's own flush, 100 ms of real time later, can fail now.
      for (let waitedMs = 0; group.failures.length === 0 && waitedMs < 5000; waitedMs += 10) await sleep(10);
      assert.equal(group.failures.length, 1, `${context}: ${group.failures.join('; ')}`);
      assert.match(
        group.failures[0]!,
        new RegExp(`node ${follower}: DiskWriteError: could not write .*member-${follower}`),
        context,
      );
      assert.equal(
        group.fatalErrors.get(follower),
        brokenDisk,
        `${context}: the node stops with the engine's own error`,
      );
      assert.equal(classifyNodeFailure(brokenDisk), 'diskFailure', context);
      await assert.rejects(
        group.node(follower).readBarrier(),
        /does not serve requests: it failed: could not write/,
        context,
      );
      assertOk(await group.put(leader, 'after', utf8('the others go on')), context);
    } finally {
      await group.close();
    }
  });
});

async function leaderLosesItsDisk(group: DiskKvGroup, step: DiskStep, fault: DiskFault, says: RegExp): Promise<void> {
  const context = `seed ${group.seed}, ${step} ${fault.errno}`;
  await group.startAll();
  const leader = await group.electLeader();
  for (let k = 0; k < 5; k++) assertOk(await group.put(leader, `before${k}`, utf8(`v${k}`)), context);

  const victimDirectory = path.join(group.directory, `member-${leader.id}`) + path.sep;
  const stepsAfterFailure: string[] = [];
  let failed = false;
  injectDiskFaults((seen, filePath) => {
    if (!filePath.startsWith(victimDirectory)) return null;
    if (failed) stepsAfterFailure.push(`${seen} ${filePath}`);
    if (seen !== step || failed) return null;
    failed = true;
    return fault;
  });

  const refused = await group.put(leader, 'during', utf8('the failure')).then(
    (reply) => reply,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof NodeError, `${context}: the write was acknowledged: ${JSON.stringify(refused)}`);
  assert.equal(refused.code, 'stopped', context);
  assert.equal(group.failures.length, 1, `${context}: ${group.failures.join('; ')}`);
  assert.match(group.failures[0]!, says, context);
  assert.match(group.failures[0]!, new RegExp(`member-${leader.id}`), `${context}: the error names the file`);
  await assert.rejects(group.put(leader, 'after', utf8('x')), NodeError, `${context}: a stopped node refuses`);
  assert.deepEqual(stepsAfterFailure, [], `${context}: the stopped member touched its disk again`);

  const others = MEMBERS.filter((id) => id !== leader.id);
  const newLeader = await group.electLeader(others);
  for (let k = 0; k < 5; k++) assertOk(await group.put(newLeader, `after${k}`, utf8(`w${k}`)), context);

  injectDiskFaults(null);
  await group.restart(leader.id);
  const caughtUp = await group.runUntil(
    () => group.machine(leader.id).appliedIndex === group.machine(newLeader.id).appliedIndex,
    10_000,
  );
  assert.ok(caughtUp, `${context}: the restarted member did not catch up`);
  assert.deepEqual(await group.engineContents(leader.id), await group.engineContents(newLeader.id), context);
  assert.equal(group.failures.length, 1, `${context}: ${group.failures.join('; ')}`);
}

function assertOk(reply: KvReply, context: string): void {
  assert.ok(reply.ok, `${context}: a write failed: ${reply.ok ? '' : reply.error.message}`);
}
