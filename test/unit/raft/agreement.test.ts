import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { SimCluster } from '../../../src/sim/cluster.js';
import { scenario } from '../../support/scenario.js';

/** The leader writes its founding entry first; client commands follow it. */
function firstCommandIndex(cluster: SimCluster): number {
  return cluster.node(cluster.checkOneLeader()).core!.lastIndex + 1;
}

function otherThan(cluster: SimCluster, ...excluded: number[]): number[] {
  return cluster.ids.filter((id) => !excluded.includes(id));
}

describe('log agreement (6.824 2B)', () => {
  scenario('basic agreement: each command commits at the next index on every member', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    const first = firstCommandIndex(cluster);
    for (let k = 0; k < 3; k++) {
      assert.equal(cluster.nCommitted(first + k).count, 0, 'committed before start');
      assert.equal(cluster.one(`cmd-${k}`, 3, false), first + k);
    }
  });

  scenario('RPC byte count: each command crosses the network about once per follower', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('99', 3, false);
    const before = cluster.rpcTotals().bytes;
    let sent = 0;
    for (let k = 0; k < 10; k++) {
      const command = `${k}:`.padEnd(5000, 'x');
      cluster.one(command, 3, false);
      sent += command.length;
    }
    const got = cluster.rpcTotals().bytes - before;
    const expected = sent * 2;
    assert.ok(got <= expected + 50_000, `too many bytes: ${got} for ${expected} of commands`);
  });

  scenario('agreement goes on when a follower fails, and stops when all followers do', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('101', 3, false);
    const leader = cluster.checkOneLeader();
    const [f1, f2] = otherThan(cluster, leader);
    cluster.disconnect(f1!);
    cluster.one('102', 2, false);
    cluster.runFor(1000);
    cluster.one('103', 2, false);
    const leader2 = cluster.checkOneLeader();
    cluster.disconnect(otherThan(cluster, leader2, f1!)[0] ?? f2!);
    const proposed = cluster.propose(leader2, '104');
    assert.ok(proposed !== null, 'leader refused the proposal');
    cluster.runFor(2000);
    assert.equal(cluster.nCommitted(proposed.index).count, 0, 'committed without a majority');
  });

  scenario('a new leader takes over when the leader fails, and none commits without a majority', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('101', 3, false);
    const leader1 = cluster.checkOneLeader();
    cluster.disconnect(leader1);
    cluster.one('102', 2, false);
    cluster.runFor(1000);
    cluster.one('103', 2, false);
    const leader2 = cluster.checkOneLeader();
    cluster.disconnect(leader2);
    const indexes = cluster.ids.map((id) => cluster.propose(id, '104')?.index ?? -1);
    cluster.runFor(2000);
    for (const index of indexes) {
      if (index > 0) assert.notEqual(cluster.nCommitted(index).value, '104', '104 committed without a majority');
    }
  });

  scenario('agreement despite a disconnected follower, which catches up when it returns', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('101', 3, false);
    const leader = cluster.checkOneLeader();
    const follower = otherThan(cluster, leader)[0]!;
    cluster.disconnect(follower);
    cluster.one('102', 2, false);
    cluster.one('103', 2, false);
    cluster.runFor(1000);
    cluster.one('104', 2, false);
    cluster.one('105', 2, false);
    cluster.connect(follower);
    cluster.one('106', 3, true);
    cluster.runFor(1000);
    cluster.one('107', 3, true);
  });

  scenario('no agreement without a majority; the group recovers once reconnected', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 5 });
    cluster.one('10', 5, false);
    const leader = cluster.checkOneLeader();
    const followers = otherThan(cluster, leader);
    for (const id of followers.slice(0, 3)) cluster.disconnect(id);
    const proposed = cluster.propose(leader, '20');
    assert.ok(proposed !== null);
    cluster.runFor(2000);
    assert.equal(cluster.nCommitted(proposed.index).count, 0, 'committed with a minority');
    for (const id of followers.slice(0, 3)) cluster.connect(id);
    const leader2 = cluster.checkOneLeader();
    const again = cluster.propose(leader2, '30');
    assert.ok(again !== null || cluster.checkOneLeader() !== leader2);
    cluster.one('1000', 5, true);
  });

  scenario('concurrent proposals in one instant all commit, in one order everywhere', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    const leader = cluster.checkOneLeader();
    const proposed: { index: number; value: string }[] = [];
    for (let k = 0; k < 5; k++) {
      const result = cluster.propose(leader, `c${k}`);
      assert.ok(result !== null, 'leader refused a proposal');
      proposed.push({ index: result.index, value: `c${k}` });
    }
    const startTerm = cluster.node(leader).core!.term;
    const values = proposed.map(({ index }) => cluster.wait(index, 3, startTerm));
    assert.deepEqual(
      values,
      proposed.map(({ value }) => value),
    );
    assert.deepEqual(
      proposed.map(({ index }) => index),
      proposed.map((_, k) => proposed[0]!.index + k),
    );
  });

  scenario('a partitioned leader rejoins and gives up its uncommitted entries', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('101', 3, true);
    const leader1 = cluster.checkOneLeader();
    cluster.disconnect(leader1);
    for (const value of ['102', '103', '104']) cluster.propose(leader1, value);
    cluster.one('103', 2, true);
    const leader2 = cluster.checkOneLeader();
    cluster.disconnect(leader2);
    cluster.connect(leader1);
    cluster.one('104', 2, true);
    cluster.connect(leader2);
    cluster.one('105', 3, true);
  });

  scenario('fast backup: a leader overwrites many conflicting entries quickly', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 5 });
    const r = cluster.random;
    cluster.one(`${r.int(1e9)}`, 5, true);
    // Leader and one follower are cut off; the leader takes 50 proposals it cannot commit.
    const leader1 = cluster.checkOneLeader();
    const [a, b, c, d] = otherThan(cluster, leader1) as [number, number, number, number];
    cluster.partition([
      [leader1, a],
      [b, c, d],
    ]);
    for (let k = 0; k < 50; k++) cluster.propose(leader1, `lost-${r.int(1e9)}`);
    cluster.runFor(500);
    // The other three elect a leader and commit 50 entries.
    for (let k = 0; k < 50; k++) cluster.one(`kept-${r.int(1e9)}`, 3, true);
    // Their leader and one more are cut off and take 50 more it cannot commit.
    const leader2 = cluster.checkOneLeader();
    const other = [b, c, d].find((id) => id !== leader2)!;
    const third = [b, c, d].find((id) => id !== leader2 && id !== other)!;
    cluster.partition([
      [leader2, third],
      [leader1, a, other],
    ]);
    for (let k = 0; k < 50; k++) cluster.propose(leader2, `lost2-${r.int(1e9)}`);
    cluster.runFor(500);
    // The original leader's pair and one from the majority form a new majority and commit.
    for (let k = 0; k < 50; k++) cluster.one(`kept2-${r.int(1e9)}`, 3, true);
    cluster.heal();
    cluster.one(`${r.int(1e9)}`, 5, true);
  });

  scenario('RPC count: elections and agreements stay within a few messages each', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.checkOneLeader();
    const electionMessages = cluster.rpcTotals().messages;
    assert.ok(electionMessages < 60, `too many messages to elect a leader: ${electionMessages}`);
    const before = cluster.rpcTotals().messages;
    const iterations = 10;
    const leader = cluster.checkOneLeader();
    const term = cluster.node(leader).core!.term;
    const indexes: number[] = [];
    for (let k = 0; k < iterations; k++) {
      const result = cluster.propose(leader, `${k}`);
      assert.ok(result !== null);
      indexes.push(result.index);
    }
    for (const index of indexes) assert.notEqual(cluster.wait(index, 3, term), null);
    const used = cluster.rpcTotals().messages - before;
    assert.ok(used <= (iterations + 1 + 3) * 3 * 4, `too many messages for ${iterations} agreements: ${used}`);
    const idleBefore = cluster.rpcTotals().messages;
    cluster.runFor(1000);
    const idle = cluster.rpcTotals().messages - idleBefore;
    assert.ok(idle <= 3 * 20 * 2, `too many messages in 1 s idle: ${idle}`);
  });
});
