/**
 * Replacing a member of a shard group under load, the way an operator does
 * it: start the new member with --join, run `raftkv admin replace`, stop the
 * old one. The member replaced is the group's leader (the hardest case: it
 * removes itself). Afterwards the new member must be a voter that counts
 * (the group serves with one of the original members down), the meta
 * group's config must list the new members, and no acknowledged write may
 * be lost. Last, a replacement that cannot catch up (a wrong address) gives
 * up with advice, and remove-member undoes its learner.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkKvHistory } from '../support/linearizability.js';
import { E2eWorkload, lostOrDuplicatedAppends } from './support/e2e-workload.js';
import { ProcessGroup } from './support/process-group.js';
import { adminCommand, shardedWorkloadClient } from './support/sharded-workload.js';

const CLIENTS = 4;
const NEW_ID = 14;

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

interface QueryJson {
  readonly config: { readonly groups: readonly { gid: number; members: readonly { id: number; address: string }[] }[] };
  readonly groups: readonly {
    readonly gid: number | null;
    readonly members: readonly { id: number; status: { role: string; term: number } | null }[];
  }[];
}

describe('end to end: replacing a member of a shard group', { timeout: 180_000 }, () => {
  const groups: ProcessGroup[] = [];
  after(async () => {
    await Promise.all(groups.map((group) => group.close()));
  });

  it('replaces the leader by a new member under load, and the new member counts toward the quorum', async () => {
    const meta = await ProcessGroup.create(3, [], 'meta');
    const one = await ProcessGroup.create(3, ['--gid', '1', '--meta', meta.membersFlag], 'shard', {
      idBase: 10,
      clusterId: meta.clusterId,
    });
    groups.push(meta, one);
    await Promise.all([meta.startAll(), one.startAll()]);
    const admin = adminCommand(meta);
    const query = async (): Promise<QueryJson> => JSON.parse((await admin('--json', 'query')).stdout) as QueryJson;
    await admin('join', '1', one.membersFlag);

    const workload = new E2eWorkload(one, CLIENTS, shardedWorkloadClient(meta));
    workload.start();
    await sleep(1_500);

    const view = (await query()).groups.find((group) => group.gid === 1)!;
    const leader = view.members.find((member) => member.status?.role === 'leader')?.id ?? one.ids[0]!;
    const added = await one.addMember(NEW_ID);
    await one.start(NEW_ID, { flags: ['--join'] });
    const replaced = await admin('replace', '1', String(leader), `${NEW_ID}=127.0.0.1:${added.peerPort}`);
    assert.match(replaced.stderr, /as a learner/);
    assert.match(replaced.stderr, /making it a voter/);
    await one.removeMember(leader);

    const listed = (await query()).config.groups.find((group) => group.gid === 1)!;
    assert.deepEqual(
      listed.members.map((member) => member.id),
      [...one.ids].sort((a, b) => a - b),
      'the meta group does not list the new members',
    );
    assert.ok(listed.members.some((member) => member.address === `127.0.0.1:${added.peerPort}`));

    // Two of the three voters are the remaining original and the new member: the group serves only if it votes.
    const original = one.ids.find((id) => id !== NEW_ID)!;
    const other = one.ids.find((id) => id !== NEW_ID && id !== original)!;
    await one.kill(original);
    const acknowledgedBefore = workload.appends.filter((append) => append.acknowledged).length;
    await sleep(3_000);
    const acknowledgedWhileDown = workload.appends.filter((append) => append.acknowledged).length - acknowledgedBefore;
    await one.start(original);
    await sleep(1_000);

    await workload.stop();
    const finalValues = await workload.finalRead();
    const problems = lostOrDuplicatedAppends(workload.appends, finalValues);
    const acknowledged = workload.appends.filter((append) => append.acknowledged).length;
    const verdict = checkKvHistory(workload.history);
    console.log(
      `replace run: ${workload.operations} operations, leader ${leader} replaced by ${NEW_ID}, ` +
        `${acknowledgedWhileDown} appends acknowledged by ${other} and ${NEW_ID} alone, ` +
        `${acknowledged} acknowledged, linearizable: ${verdict.ok}, lost or duplicated: ${problems.length}`,
    );
    workload.close();
    const logs = (): string => groups.flatMap((group) => group.output.slice(-10)).join('');
    assert.deepEqual(problems, [], `acknowledged writes lost or duplicated\n${logs()}`);
    assert.ok(verdict.ok, `history of key ${verdict.key} is not linearizable`);
    assert.ok(verdict.timedOut !== true, 'the linearizability check ran out of steps');
    assert.ok(acknowledgedWhileDown > 0, `no write was acknowledged by ${other} and ${NEW_ID} alone\n${logs()}`);

    // Running the same replacement again finds it done and changes nothing.
    const again = await admin('--json', 'replace', '1', String(leader), `${NEW_ID}=127.0.0.1:${added.peerPort}`);
    const config = JSON.parse(again.stdout) as { version: number; groups: { members: { id: number }[] }[] };
    assert.deepEqual(
      config.groups[0]!.members.map((member) => member.id),
      [...one.ids].sort((a, b) => a - b),
    );

    // A replacement given a wrong address never catches up: it gives up, says how to go on,
    // and remove-member takes the stranded learner out again.
    const nowhere = `127.0.0.1:${(await one.addMember(15)).peerPort}`; // nobody listens there
    const stranded = await admin('replace', '1', String(other), `15=${nowhere}`, '--catch-up-seconds', '2').then(
      () => assert.fail('a replacement by a member nobody can reach succeeded'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(stranded.code, 2);
    assert.match(
      stranded.stderr,
      /still not done when the deadline passed.*check that the new member runs.*remove-member/,
    );
    const removed = await admin('remove-member', '1', '15');
    assert.match(removed.stderr, /removing member 15 from group 1/);
    const typo = await admin('remove-member', '1', '99').then(
      () => assert.fail('removing a member the group never had succeeded'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /member 99 is not a member of group 1/);
    const after15 = (await query()).config.groups.find((group) => group.gid === 1)!;
    assert.deepEqual(
      after15.members.map((member) => member.id),
      [...one.ids].filter((id) => id !== 15).sort((a, b) => a - b),
    );
  });
});
