import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { ConfigChange } from '../../../src/raft/index.js';
import { SimCluster } from '../../../src/sim/cluster.js';
import { scenario } from '../../support/scenario.js';

/** Proposes a change on whoever leads, retrying until it commits everywhere that is up. */
function change(cluster: SimCluster, config: ConfigChange, timeoutMs = 10_000): void {
  const deadline = cluster.nowMs + timeoutMs;
  while (cluster.nowMs < deadline) {
    const leader = cluster.checkOneLeader();
    const result = cluster.changeMembership(leader, config);
    if (result.ok) {
      const done = cluster.runUntil(() => (cluster.node(leader).core?.commitIndex ?? 0) >= result.index, 2000);
      if (done && cluster.node(leader).core?.termAt(result.index) === result.term) return;
    } else if (result.error.code === 'invalidConfigChange') {
      throw new Error(`change refused: ${JSON.stringify(result.error)}`);
    } else {
      cluster.runFor(100);
    }
  }
  throw new Error(`membership change ${JSON.stringify(config)} did not commit`);
}

function voters(cluster: SimCluster, id: number): readonly number[] {
  return [...cluster.node(id).core!.membership.voters].sort();
}

describe('membership change', () => {
  scenario('a learner catches up before it may vote, then is promoted and counts', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, spareNodes: 1 });
    for (let k = 0; k < 30; k++) cluster.one(`before-${k}`, 3, true);
    cluster.disconnect(4);
    change(cluster, { type: 'addLearner', node: 4 });
    for (let k = 0; k < 30; k++) cluster.one(`while-away-${k}`, 3, true);
    const leader = cluster.checkOneLeader();
    const refused = cluster.changeMembership(leader, { type: 'promoteLearner', node: 4 });
    assert.ok(!refused.ok && refused.error.code === 'learnerNotCaughtUp', 'a lagging learner was promoted');
    cluster.connect(4);
    cluster.runUntil(() => cluster.node(4).core!.commitIndex >= cluster.node(leader).core!.commitIndex, 5000);
    assert.equal(cluster.node(4).core!.membership.learners.includes(4), true, 'node 4 does not know it is a learner');
    change(cluster, { type: 'promoteLearner', node: 4 });
    cluster.runFor(500);
    assert.deepEqual(voters(cluster, 4), [1, 2, 3, 4]);
    // Four voters: two of them down means no quorum.
    const leader2 = cluster.checkOneLeader();
    const others = cluster.ids.filter((id) => id !== leader2);
    cluster.disconnect(others[0]!);
    cluster.disconnect(others[1]!);
    const proposed = cluster.propose(leader2, 'needs-three');
    cluster.runFor(2000);
    assert.ok(proposed !== null);
    assert.equal(cluster.nCommitted(proposed.index).count, 0, 'committed with 2 of 4 voters');
    cluster.connect(others[0]!);
    cluster.connect(others[1]!);
    cluster.one('all-four', 4, true);
  });

  scenario('removing a follower shrinks the quorum; it no longer disturbs anyone', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 5 });
    cluster.one('a', 5, true);
    const leader = cluster.checkOneLeader();
    const removed = cluster.ids.find((id) => id !== leader)!;
    change(cluster, { type: 'removeNode', node: removed });
    cluster.disconnect(removed);
    const term = cluster.checkTerms();
    cluster.connect(removed);
    cluster.runFor(3000);
    // Three of the remaining four are enough now.
    const rest = cluster.ids.filter((id) => id !== removed && id !== leader);
    cluster.disconnect(rest[0]!);
    cluster.one('b', 3, true);
    assert.equal(cluster.checkOneLeader(), leader, 'the removed member disturbed the leader');
    assert.ok(cluster.node(leader).core!.term === term);
  });

  scenario('removing the leader: it steps down and the rest elect a leader and go on', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('a', 3, true);
    const leader = cluster.checkOneLeader();
    change(cluster, { type: 'removeNode', node: leader });
    const next = cluster.runUntil(() => {
      const l = cluster.ids.find((id) => id !== leader && cluster.node(id).core!.role === 'leader');
      return l !== undefined;
    }, 3000);
    assert.ok(next, 'no new leader after removing the old one');
    assert.notEqual(cluster.node(leader).core!.role, 'leader');
    cluster.crash(leader);
    cluster.one('b', 2, true);
    const rest = cluster.ids.filter((id) => id !== leader);
    for (const id of rest) assert.deepEqual(voters(cluster, id), rest);
  });

  scenario('one change at a time, and only valid ones', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, spareNodes: 2 });
    cluster.one('a', 3, true);
    const leader = cluster.checkOneLeader();
    assert.ok(cluster.changeMembership(leader, { type: 'addLearner', node: 4 }).ok);
    const second = cluster.changeMembership(leader, { type: 'addLearner', node: 5 });
    assert.ok(!second.ok && second.error.code === 'configChangePending');
    cluster.runFor(500);
    const twice = cluster.changeMembership(leader, { type: 'addLearner', node: 4 });
    assert.ok(!twice.ok && twice.error.code === 'invalidConfigChange');
    const notLearner = cluster.changeMembership(leader, { type: 'promoteLearner', node: 5 });
    assert.ok(!notLearner.ok && notLearner.error.code === 'invalidConfigChange');
  });

  scenario('membership changes while clients write over an unreliable network stay safe', (seed) => {
    const cluster = new SimCluster({
      seed,
      nodes: 3,
      spareNodes: 2,
      reliable: false,
      snapshotEveryEntries: 20,
      // New members catch up by snapshot while writes go on: chunks and a log tail sized for that.
      raft: { snapshotChunkBytes: 4096, snapshotCatchUpEntries: 100 },
    });
    let counter = 0;
    const write = (): void => {
      for (const id of cluster.ids) cluster.propose(id, `w${counter++}`);
      if (counter < 3000) cluster.scheduler.after(20, write);
    };
    write();
    change(cluster, { type: 'addLearner', node: 4 });
    change(cluster, { type: 'promoteLearner', node: 4 });
    cluster.runFor(1000);
    change(cluster, { type: 'removeNode', node: 1 });
    change(cluster, { type: 'addLearner', node: 5 });
    change(cluster, { type: 'promoteLearner', node: 5 });
    cluster.runFor(1000);
    change(cluster, { type: 'removeNode', node: 2 });
    cluster.setReliable(true);
    cluster.crash(1);
    cluster.crash(2);
    const index = cluster.one('final', 3, true);
    for (const id of [3, 4, 5]) {
      assert.deepEqual(voters(cluster, id), [3, 4, 5]);
      assert.ok(cluster.node(id).machine.lastApplied >= index);
    }
  });
});
