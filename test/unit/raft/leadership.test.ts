import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { SimCluster } from '../../../src/sim/cluster.js';
import { scenario } from '../../support/scenario.js';

describe('pre-vote and check-quorum', () => {
  scenario('pre-vote: a partitioned member rejoining does not disturb the leader', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    const leader = cluster.checkOneLeader();
    const loner = cluster.ids.find((id) => id !== leader)!;
    cluster.one('before', 3, true);
    cluster.disconnect(loner);
    cluster.runFor(5000); // many election timeouts: without pre-vote its term would climb
    assert.equal(cluster.node(loner).core!.term, cluster.node(leader).core!.term, 'the loner raised its term');
    const term = cluster.checkTerms();
    cluster.connect(loner);
    cluster.runFor(2000);
    assert.equal(cluster.checkOneLeader(), leader, 'leadership changed when the loner came back');
    assert.equal(cluster.checkTerms(), term);
    cluster.one('after', 3, true);
  });

  scenario('without pre-vote and check-quorum the same rejoin deposes the leader (the test can fail)', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, raft: { preVote: false, checkQuorum: false } });
    const leader = cluster.checkOneLeader();
    const loner = cluster.ids.find((id) => id !== leader)!;
    const term = cluster.node(leader).core!.term;
    cluster.disconnect(loner);
    cluster.runFor(5000);
    assert.ok(cluster.node(loner).core!.term > term, 'the loner should have raised its term');
    cluster.connect(loner);
    cluster.runFor(2000);
    assert.ok(cluster.checkTerms() > term, 'the rejoin should have forced a new term');
  });

  scenario('check-quorum: a leader cut off from the majority steps down within two election timeouts', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 5 });
    const leader = cluster.checkOneLeader();
    cluster.partition([[leader], cluster.ids.filter((id) => id !== leader)]);
    const stepped = cluster.runUntil(
      () => cluster.node(leader).core!.role !== 'leader',
      2 * cluster.electionTimeoutMs + 100,
    );
    assert.ok(stepped, 'the isolated leader kept leading');
    cluster.heal();
    cluster.one('x', 5, true);
  });

  scenario('without check-quorum an isolated leader believes it leads forever', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, raft: { checkQuorum: false } });
    const leader = cluster.checkOneLeader();
    cluster.partition([[leader], cluster.ids.filter((id) => id !== leader)]);
    cluster.runFor(3000);
    assert.equal(cluster.node(leader).core!.role, 'leader');
  });
});

describe('leadership transfer', () => {
  scenario('the leader hands over to a chosen member, which leads within an election timeout', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('a', 3, true);
    const leader = cluster.checkOneLeader();
    const target = cluster.ids.find((id) => id !== leader)!;
    assert.ok(cluster.transferLeadership(leader, target).ok);
    const moved = cluster.runUntil(() => cluster.node(target).core!.role === 'leader', cluster.electionTimeoutMs);
    assert.ok(moved, `node ${target} did not take over`);
    assert.equal(cluster.checkOneLeader(), target);
    cluster.one('b', 3, true);
  });

  scenario('proposals are refused while a transfer is in progress, and a lagging target catches up first', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('a', 3, true);
    const leader = cluster.checkOneLeader();
    const target = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(target);
    for (let k = 0; k < 20; k++) cluster.one(`behind-${k}`, 2, true);
    assert.ok(cluster.transferLeadership(leader, target).ok);
    const refused = cluster.tryPropose(leader, 'during');
    assert.ok(!refused.ok && refused.error.code === 'transferInProgress', 'proposal accepted during transfer');
    cluster.connect(target);
    const moved = cluster.runUntil(() => cluster.node(target).core!.role === 'leader', cluster.electionTimeoutMs);
    assert.ok(moved, `lagging node ${target} did not take over`);
    const last = cluster.one('after', 3, true);
    assert.equal(cluster.node(target).core!.commitIndex >= last, true);
  });

  scenario('a transfer to an unreachable member is abandoned after an election timeout', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    const leader = cluster.checkOneLeader();
    const target = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(target);
    assert.ok(cluster.transferLeadership(leader, target).ok);
    cluster.runFor(2 * cluster.electionTimeoutMs);
    assert.equal(cluster.node(leader).core!.leadershipTransferTarget, null);
    assert.ok(cluster.tryPropose(leader, 'back').ok, 'the leader still refuses proposals');
  });
});

describe('proposal bound', () => {
  scenario('a leader that cannot commit pushes back instead of growing without limit', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, raft: { uncommittedBytesMax: 4096 } });
    const leader = cluster.checkOneLeader();
    cluster.one('warm', 3, true);
    cluster.partition([[leader], cluster.ids.filter((id) => id !== leader)]);
    let accepted = 0;
    let refusal: string | null = null;
    for (let k = 0; k < 1000 && refusal === null; k++) {
      const result = cluster.tryPropose(leader, `v${k}`.padEnd(100, '.'));
      if (result.ok) accepted++;
      else refusal = result.error.code;
    }
    assert.equal(refusal, 'tooManyUncommitted');
    assert.ok(accepted * 124 <= 4096 + 124, `accepted ${accepted} proposals beyond the bound`);
    assert.ok(accepted > 10, `accepted only ${accepted}`);
  });

  scenario('once entries commit, the leader takes proposals again', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, raft: { uncommittedBytesMax: 2048 } });
    const leader = cluster.checkOneLeader();
    const followers = cluster.ids.filter((id) => id !== leader);
    for (const id of followers) cluster.disconnect(id);
    let k = 0;
    while (cluster.tryPropose(leader, `v${k++}`.padEnd(100, '.')).ok) {
      /* fill the bound */
    }
    for (const id of followers) cluster.connect(id);
    const free = cluster.runUntil(() => cluster.tryPropose(leader, 'more').ok, 3000);
    assert.ok(free || cluster.checkOneLeader() !== leader, 'the bound never released');
  });
});
