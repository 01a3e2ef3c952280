import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MembershipListener } from '../../../src/node/index.js';
import { NodeError } from '../../../src/node/index.js';
import type { ConfigChange } from '../../../src/raft/index.js';
import { NodeGroup } from '../../support/node-group.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What each member's listener heard, as "appended addLearner 4" lines. */
function recordingListeners(heard: Map<number, string[]>): (id: number) => MembershipListener {
  const line = (event: string, change: ConfigChange): string =>
    change.type === 'bootstrap' ? `${event} bootstrap` : `${event} ${change.type} ${change.node}`;
  return (id) => {
    const lines = heard.get(id) ?? [];
    heard.set(id, lines);
    return {
      appended: (change) => lines.push(line('appended', change)),
      applied: (change) => lines.push(line('applied', change)),
    };
  };
}

describe('RaftNode membership changes', () => {
  it('replaces a member: a joining node becomes a learner, then a voter, and the old one is removed', async () => {
    const heard = new Map<number, string[]>();
    const group = new NodeGroup(21, [1, 2, 3, 4], { joining: [4], membershipListener: recordingListeners(heard) });
    await group.startAll();
    const leader = await group.electLeader();
    for (let k = 0; k < 10; k++) await group.await(leader.propose(encode(`a${k}`)));
    assert.equal(group.machine(4).items.length, 0, 'the joining node applied entries before it was added');

    const added = await group.await(
      leader.changeMembership({ type: 'addLearner', node: 4, address: '127.0.0.1:7004' }),
    );
    assert.ok(added.ok);
    assert.deepEqual(added.membership.learners, [4]);
    await group.runUntil(() => group.machine(4).items.length === 10, 5000);
    const promoted = await group.await(leader.changeMembership({ type: 'promoteLearner', node: 4 }));
    assert.ok(promoted.ok);
    assert.deepEqual([...promoted.membership.voters].sort(), [1, 2, 3, 4]);

    const old = group.founders.find((id) => id !== leader.id)!;
    const removed = await group.await(leader.changeMembership({ type: 'removeNode', node: old }));
    assert.ok(removed.ok);
    assert.deepEqual(
      [...removed.membership.voters].sort(),
      [1, 2, 3, 4].filter((id) => id !== old),
    );
    // The new member counts: with the old one gone and another founder down, 4 and the leader commit.
    await group.crash(old);
    const other = group.founders.find((id) => id !== leader.id && id !== old)!;
    await group.crash(other);
    assert.equal(await group.await(leader.propose(encode('with-4'))), 11);

    const lines = heard.get(4)!;
    assert.ok(lines.includes('appended addLearner 4') && lines.includes('applied removeNode ' + old), lines.join('; '));
    assert.ok(heard.get(leader.id)!.includes('appended addLearner 4'));
    assert.deepEqual(group.failures, []);
  });

  it('a member that restarts right after a change comes back under the new membership, not the old one', async () => {
    // Saving the commit index only with term and vote brought a restarted member back under the
    // membership before the change: with the removed member still up, two majorities that do not
    // overlap ({removed, restarted} under the old one, {leader, new} under the new) could each elect a leader.
    const group = new NodeGroup(24, [1, 2, 3, 4], { joining: [4] });
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('x')));
    assert.ok((await group.await(leader.changeMembership({ type: 'addLearner', node: 4 }))).ok);
    await group.runUntil(() => group.machine(4).items.length === 1, 5000);
    assert.ok((await group.await(leader.changeMembership({ type: 'promoteLearner', node: 4 }))).ok);
    const [removed, restarted] = group.founders.filter((id) => id !== leader.id) as [number, number];
    assert.ok((await group.await(leader.changeMembership({ type: 'removeNode', node: removed }))).ok);
    const expected = [leader.id, restarted, 4].sort();
    await group.runUntil(
      () => [...group.node(restarted).core.membership.voters].sort().join() === expected.join(),
      2000,
    );
    await group.crash(restarted);
    await group.start(restarted);
    assert.deepEqual([...group.node(restarted).core.membership.voters].sort(), expected);
  });

  it('a change already made answers done, so a lost answer can be retried; refusals say why', async () => {
    const group = new NodeGroup(22, [1, 2, 3, 4], { joining: [4] });
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('x')));
    const follower = group.node(group.founders.find((id) => id !== leader.id)!);
    await assert.rejects(follower.changeMembership({ type: 'addLearner', node: 4 }), (error: unknown) => {
      assert.ok(error instanceof NodeError && error.code === 'notLeader' && error.leader === leader.id);
      return true;
    });

    const twice = [
      await group.await(leader.changeMembership({ type: 'addLearner', node: 4 })),
      await group.await(leader.changeMembership({ type: 'addLearner', node: 4 })),
    ];
    assert.ok(twice.every((result) => result.ok));
    const stranger = await group.await(leader.changeMembership({ type: 'promoteLearner', node: 9 }));
    assert.ok(!stranger.ok && stranger.reason === 'invalid', JSON.stringify(stranger));
    assert.match(stranger.message, /not a learner/);
    const gone = await group.await(leader.changeMembership({ type: 'removeNode', node: 9 }));
    assert.ok(gone.ok, 'removing a node that is not a member is done already');
  });

  it('a new leader changes membership only after its first commit; a learner far behind is not promoted until it caught up', async () => {
    const group = new NodeGroup(23, [1, 2, 3, 4], { joining: [4] });
    await group.startAll();
    const leader = await group.electLeader();
    group.network.partition([group.founders]);
    const early = await group.await(leader.changeMembership({ type: 'addLearner', node: 4 }));
    assert.ok(!early.ok && early.reason === 'pending', 'a new leader changed membership before committing an entry');
    await group.await(leader.propose(encode('first of the term')));
    assert.ok((await group.await(leader.changeMembership({ type: 'addLearner', node: 4 }))).ok);
    for (let k = 0; k < 300; k++) leader.propose(encode(`b${k}`)).catch(() => undefined);
    await group.runFor(500);
    const behind = await group.await(leader.changeMembership({ type: 'promoteLearner', node: 4 }));
    assert.ok(!behind.ok && behind.reason === 'notCaughtUp', JSON.stringify(behind));
    group.network.heal();
    const caughtUp = await group.runUntil(() => group.machine(4).items.length >= 301, 5000);
    assert.ok(caughtUp, `the learner applied ${group.machine(4).items.length} entries`);
    await group.runFor(200); // its acknowledgement reaches the leader
    const later = await group.await(leader.changeMembership({ type: 'promoteLearner', node: 4 }));
    assert.ok(later.ok, JSON.stringify(later));
  });
});
