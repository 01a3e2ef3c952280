/**
 * A sharded cluster of real processes: three meta members and three shard
 * groups of three. While clients run, a group joins, buckets move, a group
 * leaves, and a member of a group that is sending or receiving buckets is
 * killed with SIGKILL and restarted. The history must be linearizable and
 * every acknowledged write must be read back once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkKvHistory } from '../support/linearizability.js';
import { E2eWorkload, lostOrDuplicatedAppends } from './support/e2e-workload.js';
import { ProcessGroup } from './support/process-group.js';
import { adminCommand, shardedWorkloadClient } from './support/sharded-workload.js';

const CLIENTS = 4;

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

describe('end to end: a sharded cluster of real processes', { timeout: 240_000 }, () => {
  const groups: ProcessGroup[] = [];
  after(async () => {
    await Promise.all(groups.map((group) => group.close()));
  });

  it('moves buckets between groups under load, with a member of a moving group killed, and loses nothing', async () => {
    const meta = await ProcessGroup.create(3, [], 'meta');
    groups.push(meta);
    const clusterId = meta.clusterId;
    const shard = async (gid: number): Promise<ProcessGroup> => {
      const group = await ProcessGroup.create(3, ['--gid', String(gid), '--meta', meta.membersFlag], 'shard', {
        idBase: gid * 10,
        clusterId,
      });
      groups.push(group);
      return group;
    };
    const [one, two, three] = [await shard(1), await shard(2), await shard(3)];
    await Promise.all([meta, one, two, three].map((group) => group.startAll()));
    const runAdmin = adminCommand(meta);
    const admin = async (...args: string[]): Promise<string> => (await runAdmin(...args)).stdout;
    await admin('join', '1', one.membersFlag);
    await admin('join', '2', two.membersFlag);

    const workload = new E2eWorkload(one, CLIENTS, shardedWorkloadClient(meta));
    workload.start();
    let faults = 0;
    await sleep(2_000);
    // A third group joins: buckets move from 1 and 2 to 3; kill a member of the receiving group meanwhile.
    await admin('join', '3', three.membersFlag);
    await sleep(300);
    await three.kill(three.ids[0]!);
    faults += 1;
    await sleep(1_000);
    await three.start(three.ids[0]!);
    await sleep(2_000);
    // Buckets move by hand; kill a member of the sending group.
    await admin('move', '0-2', '2');
    await sleep(200);
    await one.kill(one.ids[1]!);
    faults += 1;
    await sleep(1_000);
    await one.start(one.ids[1]!);
    await sleep(2_000);
    // Group 1 leaves: its buckets go to 2 and 3.
    await admin('leave', '1');
    await sleep(4_000);

    await workload.stop();
    const finalValues = await workload.finalRead();
    const problems = lostOrDuplicatedAppends(workload.appends, finalValues);
    const acknowledged = workload.appends.filter((append) => append.acknowledged).length;
    const verdict = checkKvHistory(workload.history);
    console.log(
      `sharded run: ${workload.operations} operations, ${faults} kills, 3 config changes by admin after the joins, ` +
        `${acknowledged} acknowledged appends, linearizable: ${verdict.ok}, lost or duplicated: ${problems.length}`,
    );
    workload.close();
    const logs = (): string => groups.flatMap((group) => group.output.slice(-10)).join('');
    assert.deepEqual(problems, [], `acknowledged writes lost or duplicated\n${logs()}`);
    assert.ok(verdict.ok, `history of key ${verdict.key} is not linearizable`);
    assert.ok(verdict.timedOut !== true, 'the linearizability check ran out of steps');
    assert.ok(acknowledged > 20, `only ${acknowledged} appends were acknowledged\n${logs()}`);
    const latest = (JSON.parse(await admin('query', '--json')) as { config: { buckets: number[] } }).config;
    assert.ok(
      latest.buckets.every((gid) => gid === 2 || gid === 3),
      `group 1 still owns buckets: ${latest.buckets.join(',')}`,
    );
  });
});
