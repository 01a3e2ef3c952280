/**
 * End to end with real processes on loopback: a three-member group under
 * concurrent clients while members are killed with SIGKILL and restarted, or
 * the leader is frozen with SIGSTOP and thawed. The recorded history must be
 * linearizable, and every acknowledged write must be read back at the end.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkKvHistory } from '../support/linearizability.js';
import { E2eWorkload, lostOrDuplicatedAppends } from './support/e2e-workload.js';
import { ProcessGroup } from './support/process-group.js';

const KILL_RUN_MS = Number(process.env.RAFTKV_E2E_KILL_MS ?? 30_000);
const PAUSE_RUN_MS = Number(process.env.RAFTKV_E2E_PAUSE_MS ?? 20_000);
const CLIENTS = 5;
const SNAPSHOT_EVERY_ENTRIES = 500;
const LOG_KEEP_ENTRIES = 50;

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

function between(minMs: number, maxMs: number): number {
  return minMs + Math.random() * (maxMs - minMs);
}

interface RunSummary {
  readonly operations: number;
  readonly faults: number;
  readonly acknowledgedAppends: number;
}

/** Stops the clients, reads everything back and checks the run; prints a one-line summary. */
async function verify(name: string, group: ProcessGroup, workload: E2eWorkload, faults: number): Promise<RunSummary> {
  await workload.stop();
  const finalValues = await workload.finalRead();
  const problems = lostOrDuplicatedAppends(workload.appends, finalValues);
  const acknowledgedAppends = workload.appends.filter((append) => append.acknowledged).length;
  const verdict = checkKvHistory(workload.history);
  const summary = {
    operations: workload.operations,
    faults,
    acknowledgedAppends,
  };
  console.log(
    `${name}: ${summary.operations} operations, ${faults} faults, ${acknowledgedAppends} acknowledged appends, ` +
      `${workload.gaveUp.writes} writes and ${workload.gaveUp.reads} reads gave up, ` +
      `linearizable: ${verdict.ok}, lost or duplicated: ${problems.length}`,
  );
  const logs = (): string => group.output.slice(-40).join('');
  assert.deepEqual(problems, [], `acknowledged writes lost or duplicated\n${logs()}`);
  assert.ok(verdict.ok, `history of key ${verdict.key} is not linearizable`);
  assert.ok(verdict.timedOut !== true, 'the linearizability check ran out of steps');
  assert.ok(
    acknowledgedAppends > 50,
    `only ${acknowledgedAppends} appends were acknowledged: the group hardly served\n${logs()}`,
  );
  return summary;
}

describe('end to end: a three-member group of real processes', { timeout: 180_000 }, () => {
  const groups: ProcessGroup[] = [];
  after(async () => {
    await Promise.all(groups.map((group) => group.close()));
  });

  it('keeps every acknowledged write while members, the leader among them, are killed with SIGKILL and restarted', async () => {
    // Frequent snapshots and a short log behind them, so that a restarted member often catches up from one.
    const group = await ProcessGroup.create(3, [
      '--snapshot-every',
      String(SNAPSHOT_EVERY_ENTRIES),
      '--log-keep',
      String(LOG_KEEP_ENTRIES),
    ]);
    groups.push(group);
    await group.startAll();
    const workload = new E2eWorkload(group, CLIENTS);
    const probe = workload.groupClient();
    await probe.put('probe', 'ready');
    workload.start();
    let faults = 0;
    const endAtMs = Date.now() + KILL_RUN_MS;
    while (Date.now() < endAtMs) {
      await sleep(between(1_000, 3_000));
      // Every other kill hits the leader, the member whose death loses the most in-flight work.
      await probe.put('probe', String(faults)).catch(() => undefined);
      const leader = probe.knownLeader;
      const victim =
        faults % 2 === 0 && leader !== null ? leader : group.ids[Math.floor(Math.random() * group.ids.length)]!;
      await group.kill(victim);
      faults += 1;
      await sleep(between(100, 1_500));
      await group.start(victim);
    }
    await verify('SIGKILL run', group, workload, faults);
    workload.close();
  });

  it('keeps serving, and stays linearizable, while the leader is frozen with SIGSTOP and thawed', async () => {
    const group = await ProcessGroup.create(3);
    groups.push(group);
    await group.startAll();
    const workload = new E2eWorkload(group, CLIENTS);
    const probe = workload.groupClient();
    await probe.put('probe', 'ready');
    workload.start();
    let faults = 0;
    const endAtMs = Date.now() + PAUSE_RUN_MS;
    while (Date.now() < endAtMs) {
      await sleep(between(1_000, 2_000));
      await probe.put('probe', String(faults));
      const leader = probe.knownLeader;
      if (leader === null) continue;
      group.pause(leader);
      faults += 1;
      // Longer than an election timeout (10 to 20 ticks of 50 ms): the others elect a new leader meanwhile.
      await sleep(between(1_500, 3_000));
      group.resume(leader);
    }
    await verify('SIGSTOP run', group, workload, faults);
    workload.close();
  });
});
