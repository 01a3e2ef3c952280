import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { SimCluster } from '../../../src/sim/cluster.js';
import { after, churn, figure8 } from '../../support/raft-scenarios.js';
import { scenario, seeds } from '../../support/scenario.js';

function restartAll(cluster: SimCluster): void {
  for (const id of cluster.ids) cluster.crash(id);
  for (const id of cluster.ids) cluster.restart(id);
}

describe('persistence (6.824 2C)', () => {
  scenario('persist 1: whole-cluster and leader restarts keep the log', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('11', 3, true);
    restartAll(cluster);
    cluster.one('12', 3, true);
    const leader1 = cluster.checkOneLeader();
    cluster.crash(leader1);
    cluster.restart(leader1);
    cluster.one('13', 3, true);
    const leader2 = cluster.checkOneLeader();
    cluster.crash(leader2);
    cluster.one('14', 2, true);
    cluster.restart(leader2);
    const index = cluster.one('15', 3, true);
    assert.equal(cluster.wait(index, 3, -1), '15');
    const third = after(cluster, cluster.checkOneLeader(), 1);
    cluster.crash(third);
    cluster.one('16', 2, true);
    cluster.restart(third);
    cluster.one('17', 3, true);
  });

  scenario('persist 2: many crashes and partial restarts of five', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 5 });
    let value = 10;
    for (let iteration = 0; iteration < 5; iteration++) {
      cluster.one(`${value++}`, 5, true);
      const leader1 = cluster.checkOneLeader();
      cluster.crash(after(cluster, leader1, 1));
      cluster.crash(after(cluster, leader1, 2));
      cluster.one(`${value++}`, 3, true);
      cluster.crash(leader1);
      cluster.crash(after(cluster, leader1, 3));
      cluster.crash(after(cluster, leader1, 4));
      cluster.restart(after(cluster, leader1, 1));
      cluster.restart(after(cluster, leader1, 2));
      cluster.runFor(1000);
      cluster.restart(after(cluster, leader1, 3));
      cluster.one(`${value++}`, 3, true);
      cluster.restart(after(cluster, leader1, 4));
      cluster.restart(leader1);
    }
    cluster.one('1000', 5, true);
  });

  scenario('persist 3: a crashed majority recovers the log from disk', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    cluster.one('101', 3, true);
    const leader = cluster.checkOneLeader();
    cluster.disconnect(after(cluster, leader, 2));
    cluster.one('102', 2, true);
    cluster.crash(leader);
    cluster.crash(after(cluster, leader, 1));
    cluster.connect(after(cluster, leader, 2));
    cluster.restart(leader);
    cluster.one('103', 2, true);
    cluster.restart(after(cluster, leader, 1));
    cluster.one('104', 3, true);
  });

  scenario('figure 8: leaders crash right after proposing', (seed) => {
    figure8(new SimCluster({ seed, nodes: 5 }), 1000, false);
  });

  scenario('unreliable agreement: drops and delays do not stop progress', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 5, reliable: false });
    for (let iteration = 1; iteration < 50; iteration++) {
      for (let j = 0; j < 4; j++) cluster.one(`${iteration * 100 + j}`, 1, true);
      cluster.one(`${iteration}`, 1, true);
    }
    cluster.setReliable(true);
    cluster.one('100', 5, true);
  });

  scenario(
    'figure 8 unreliable: leaders cut off right after proposing, with long reordering',
    (seed) => {
      figure8(new SimCluster({ seed, nodes: 5, reliable: false }), 1000, true);
    },
    seeds([1, 2]),
  );

  scenario('reliable churn', (seed) => churn(new SimCluster({ seed, nodes: 5 }), false));

  scenario('unreliable churn', (seed) => churn(new SimCluster({ seed, nodes: 5 }), true));
});
