/**
 * End to end with real processes: one member of a three-member group loses
 * its disk while clients write. Its fsync fails (EIO) or its file system
 * fills up (ENOSPC), made so by an LD_PRELOAD shim (support/disk-faults.ts).
 * The member must stop at once with exit code 74 and a line that names the
 * file and says what to do, never acknowledging what it could not make
 * durable; the other two keep serving; restarted on a healthy disk, it must
 * recover from its files and catch up, and no acknowledged write may be lost.
 * Then the log itself: a torn record at its end is cut at restart, a damaged
 * record in its middle stops the member from starting (exit code 65).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/cli/node-failure.js';
import type { NodeStatus } from '../../src/node/node-status.js';
import { checkKvHistory } from '../support/linearizability.js';
import { DiskFaults, flipLogByte, lastLogSegment, tearLogTail } from './support/disk-faults.js';
import { E2eWorkload, lostOrDuplicatedAppends } from './support/e2e-workload.js';
import { RAFTKV_BIN, exitOf } from './support/local-process.js';
import { ProcessGroup } from './support/process-group.js';

const CLIENTS = 4;
const EXIT_TIMEOUT_MS = 30_000;
const CATCH_UP_TIMEOUT_MS = 60_000;

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

async function status(group: ProcessGroup, id: number): Promise<NodeStatus | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${group.member(id).httpPort}/v1/status`, {
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok ? ((await response.json()) as NodeStatus) : null;
  } catch {
    return null;
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== null) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function leaderOf(group: ProcessGroup, among: readonly number[]): Promise<number> {
  return waitFor('a leader', 30_000, async () => {
    for (const id of among) if ((await status(group, id))?.role === 'leader') return id;
    return null;
  });
}

/** Waits until member `id` applied everything the group had committed when this was called. */
async function caughtUp(group: ProcessGroup, id: number, others: readonly number[]): Promise<void> {
  const leader = await leaderOf(group, others);
  const target = (await waitFor('the leader status', 10_000, () => status(group, leader))).commitIndex;
  await waitFor(`member ${id} applying up to index ${target}`, CATCH_UP_TIMEOUT_MS, async () => {
    const applied = (await status(group, id))?.appliedIndex ?? 0;
    return applied >= target ? applied : null;
  });
}

async function exitCodeWithin(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the member did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([exitOf(child), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function outputOf(group: ProcessGroup, id: number): string {
  return group.output.filter((line) => line.startsWith(`[node ${id}]`)).join('');
}

function acknowledged(workload: E2eWorkload): number {
  return workload.appends.filter((append) => append.acknowledged).length;
}

/** Stops the clients, reads every key back and checks that nothing acknowledged was lost. */
async function verify(name: string, group: ProcessGroup, workload: E2eWorkload): Promise<void> {
  await workload.stop();
  const finalValues = await workload.finalRead();
  const problems = lostOrDuplicatedAppends(workload.appends, finalValues);
  const verdict = checkKvHistory(workload.history);
  console.log(
    `${name}: ${workload.operations} operations, ${acknowledged(workload)} acknowledged appends, ` +
      `linearizable: ${verdict.ok}, lost or duplicated: ${problems.length}`,
  );
  assert.deepEqual(problems, [], `acknowledged writes lost or duplicated\n${group.output.slice(-40).join('')}`);
  assert.ok(verdict.ok, `history of key ${verdict.key} is not linearizable`);
  assert.ok(verdict.timedOut !== true, 'the linearizability check ran out of steps');
}

/** A group whose every member runs with the disk fault shim on its files under `faultUnder`, so that any can be failed. */
async function startGroupWithShim(
  groups: ProcessGroup[],
  faultUnder: string,
): Promise<{ group: ProcessGroup; faults: Map<number, DiskFaults> }> {
  const group = await ProcessGroup.create(3, ['--snapshot-every', '300', '--log-keep', '50'], 'node', { http: true });
  groups.push(group);
  const faults = new Map<number, DiskFaults>();
  for (const id of group.ids) {
    faults.set(id, await DiskFaults.create(path.join(group.directory, `node-${id}`, faultUnder)));
  }
  await Promise.all(group.ids.map((id) => group.start(id, { env: faults.get(id)!.env })));
  return { group, faults };
}

interface DiskLoss {
  readonly name: string;
  /** Which member loses its disk. */
  readonly pick: (group: ProcessGroup) => Promise<number>;
  /** The part of the member's data directory that fails ('' for all of it). */
  readonly faultUnder: string;
  readonly inject: (faults: DiskFaults) => Promise<void>;
  /** What the member's error line must say. */
  readonly says: RegExp;
  /** Whether to start the member once more before the disk is healed: that start must fail the same way. */
  readonly restartWhileBroken?: boolean;
  /** Checks on what the member printed before it exited, and after its restart. */
  readonly afterRestart?: (exitOutput: string, restartOutput: string) => void;
}

/**
 * The scenario every fault shares: clients write, `inject` breaks the disk
 * of one member, which must exit with 74 and a line matching `says`; the
 * group serves on; the disk is healed, the member restarts and catches up;
 * nothing acknowledged is lost.
 */
async function memberLosesItsDisk(groups: ProcessGroup[], loss: DiskLoss): Promise<void> {
  const { group, faults } = await startGroupWithShim(groups, loss.faultUnder);
  const workload = new E2eWorkload(group, CLIENTS);
  try {
    workload.start();
    await waitFor('some acknowledged appends', 30_000, () => (acknowledged(workload) >= 30 ? true : null));
    const victim = await loss.pick(group);
    const others = group.ids.filter((id) => id !== victim);
    const child = group.member(victim).process!;
    await loss.inject(faults.get(victim)!);
    const code = await exitCodeWithin(child, EXIT_TIMEOUT_MS);
    const exitOutput = outputOf(group, victim);
    assert.equal(code, EXIT_CODES.diskFailure, `member ${victim} exit code\n${exitOutput}`);
    assert.match(exitOutput, loss.says, `member ${victim} says what failed\n${exitOutput}`);
    assert.match(
      exitOutput,
      new RegExp(`node-${victim}/`),
      `the error names a file of member ${victim}\n${exitOutput}`,
    );
    assert.match(exitOutput, /"level":50.*"errno":"E[A-Z]+"/, `one structured error line\n${exitOutput}`);

    const acknowledgedAtExit = acknowledged(workload);
    await waitFor('the two healthy members serving writes', 30_000, () =>
      acknowledged(workload) >= acknowledgedAtExit + 30 ? true : null,
    );

    if (loss.restartWhileBroken === true) {
      const refused = await startExpectingExit(group, victim, faults.get(victim)!.env);
      assert.equal(refused.code, EXIT_CODES.diskFailure, `a start on the broken disk\n${refused.stderr}`);
      assert.match(refused.stderr, loss.says, refused.stderr);
    }
    await faults.get(victim)!.heal();
    await group.start(victim, { env: faults.get(victim)!.env });
    await caughtUp(group, victim, others);
    loss.afterRestart?.(exitOutput, outputOf(group, victim).slice(exitOutput.length));
    await verify(loss.name, group, workload);
  } finally {
    // Clients of a failed test stop too, or their loops would keep the test process alive.
    await workload.stop().catch(() => undefined);
    workload.close();
    for (const fault of faults.values()) await fault.close();
  }
}

async function aFollower(group: ProcessGroup): Promise<number> {
  const leader = await leaderOf(group, group.ids);
  return group.ids.find((id) => id !== leader)!;
}

/** Starts member `id` of `group` by hand, to see a start that fails: answers its exit code and stderr. */
async function startExpectingExit(
  group: ProcessGroup,
  id: number,
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number | null; stderr: string }> {
  const member = group.member(id);
  const child = spawn(
    process.execPath,
    [
      RAFTKV_BIN,
      'node',
      '--id',
      String(id),
      '--members',
      group.membersFlag,
      '--dir',
      path.join(group.directory, `node-${id}`),
      '--resp',
      `127.0.0.1:${member.respPort}`,
      '--cluster-id',
      group.clusterId,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await exitCodeWithin(child, EXIT_TIMEOUT_MS);
  return { code, stderr };
}

describe('end to end: disk faults on one member of a three-member group', { timeout: 300_000 }, () => {
  const groups: ProcessGroup[] = [];
  after(async () => {
    await Promise.all(groups.map((group) => group.close()));
  });

  it('the leader whose fsync fails exits with 74 naming the file, the others serve on, and it catches up after a restart', async () => {
    await memberLosesItsDisk(groups, {
      name: 'fsync fails (EIO) on the leader',
      pick: (group) => leaderOf(group, group.ids),
      faultUnder: '',
      inject: (faults) => faults.failFsync(),
      // The log's writes are their own fdatasync (O_DSYNC): a failed sync comes out of the write.
      says: /could not (fsync|fdatasync|write) .*EIO.*check the disk/,
    });
  });

  it('a follower whose disk fills up exits with 74 saying to free space, and recovers uncorrupted once space is freed', async () => {
    await memberLosesItsDisk(groups, {
      name: 'disk full (ENOSPC) on a follower',
      pick: aFollower,
      faultUnder: '',
      inject: (faults) => faults.fillDisk(),
      says: /no space left on device.*is full .*free space there/i,
      afterRestart: (exitOutput, restartOutput) => {
        // When the log's write was the one that ran out of space, half of it is in the file: recovery cuts it.
        if (/could not write \S*\/raft\/log\//.test(exitOutput)) {
          assert.match(restartOutput, /recovery cut a torn write/, restartOutput);
        }
      },
    });
  });

  it('a follower whose state machine (LevelDB) cannot write exits with 74, cannot start until space is freed, then catches up', async () => {
    await memberLosesItsDisk(groups, {
      name: 'LevelDB disk full (ENOSPC) on a follower',
      pick: aFollower,
      faultUnder: 'kv',
      inject: (faults) => faults.fillDisk(),
      restartWhileBroken: true,
      says: /could not write \S*\/kv: IO error: .*No space left on device.*is full/,
    });
  });

  it('a torn record at the end of the log is cut at restart and the member serves; a damaged record in the middle stops it from starting', async () => {
    const group = await ProcessGroup.create(3, [], 'node', { http: true });
    groups.push(group);
    await group.startAll();
    const workload = new E2eWorkload(group, CLIENTS);
    try {
      workload.start();
      await waitFor('some acknowledged appends', 30_000, () => (acknowledged(workload) >= 30 ? true : null));
      const leader = await leaderOf(group, group.ids);
      const victim = group.ids.find((id) => id !== leader)!;
      await group.kill(victim);
      const torn = await tearLogTail(path.join(group.directory, `node-${victim}`));

      await group.start(victim);
      const output = outputOf(group, victim);
      assert.match(output, /torn write/, `the cut is logged\n${output}`);
      assert.ok(output.includes(`"offsetBytes":${torn.offsetBytes}`), `the cut is where the tear began\n${output}`);
      await caughtUp(
        group,
        victim,
        group.ids.filter((id) => id !== victim),
      );
      // With another member down, every write needs the repaired one.
      const other = group.ids.find((id) => id !== victim && id !== leader)!;
      await group.kill(other);
      const acknowledgedBefore = acknowledged(workload);
      await waitFor('writes acknowledged with the repaired member in the quorum', 30_000, () =>
        acknowledged(workload) >= acknowledgedBefore + 20 ? true : null,
      );
      await group.start(other);

      await group.kill(victim);
      const segment = await lastLogSegment(path.join(group.directory, `node-${victim}`));
      // A byte inside the first record's payload: intact records follow it, so no crash explains it.
      await flipLogByte(segment, 12);
      const refused = await startExpectingExit(group, victim);
      assert.equal(refused.code, EXIT_CODES.corruptData, refused.stderr);
      assert.match(refused.stderr, new RegExp(`${segment.replaceAll('.', '\\.')} is corrupt at byte offset 0`));
      assert.match(refused.stderr, /restore this node from its peers/);
      await verify('torn tail and corruption', group, workload);
    } finally {
      await workload.stop().catch(() => undefined);
      workload.close();
    }
  });
});
