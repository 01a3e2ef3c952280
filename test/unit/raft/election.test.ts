import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { SimCluster } from '../../../src/sim/cluster.js';
import { scenario } from '../../support/scenario.js';

describe('leader election (6.824 2A)', () => {
  scenario('an initial election picks one leader and the term holds while all is well', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.checkOneLeader();
    cluster.runFor(50);
    const term1 = cluster.checkTerms();
    assert.ok(term1 >= 1, `term is ${term1}, expected at least 1`);
    cluster.runFor(2000);
    assert.equal(cluster.checkTerms(), term1, 'term changed with no failures');
    cluster.checkOneLeader();
  });

  scenario('a new leader is elected when the leader is cut off, and none without a majority', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    const leader1 = cluster.checkOneLeader();
    cluster.disconnect(leader1);
    cluster.checkOneLeader();
    // The old leader rejoins: that must not disturb the new leader.
    cluster.connect(leader1);
    const leader2 = cluster.checkOneLeader();
    // No quorum: no leader.
    cluster.disconnect(leader2);
    cluster.disconnect((leader2 % 3) + 1);
    cluster.runFor(2000);
    cluster.checkNoLeader();
    cluster.connect((leader2 % 3) + 1);
    cluster.checkOneLeader();
    cluster.connect(leader2);
    cluster.checkOneLeader();
  });

  scenario('many elections: random members of seven go away and come back', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 7 });
    cluster.checkOneLeader();
    for (let round = 0; round < 10; round++) {
      const gone = cluster.random.shuffle([1, 2, 3, 4, 5, 6, 7]).slice(0, 3);
      for (const id of gone) cluster.disconnect(id);
      // Four of seven remain: a majority, so there must be a leader.
      cluster.checkOneLeader();
      for (const id of gone) cluster.connect(id);
    }
    cluster.checkOneLeader();
  });
});
