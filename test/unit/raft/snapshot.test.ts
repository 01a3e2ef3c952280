import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { SimCluster } from '../../../src/sim/cluster.js';
import { after } from '../../support/raft-scenarios.js';
import { scenario } from '../../support/scenario.js';

const SNAPSHOT_EVERY = 10;
const LOG_BYTES_MAX = 2000;

function logBytesOnDisk(cluster: SimCluster, id: number): number {
  const node = cluster.node(id);
  return node.diskSizeBytes() - (node.disk.snapshotData?.byteLength ?? 0);
}

/** The 6.824 snapcommon(): a victim falls behind by more than a snapshot, then must catch up. */
function snapshotScenario(seed: number, disconnect: boolean, reliable: boolean, crash: boolean): SimCluster {
  const cluster = new SimCluster({ seed, nodes: 3, reliable, snapshotEveryEntries: SNAPSHOT_EVERY });
  const r = cluster.random;
  const servers = 3;
  cluster.one(`${r.int(1e9)}`, servers, true);
  let leader1 = cluster.checkOneLeader();
  for (let iteration = 0; iteration < 30; iteration++) {
    let victim = after(cluster, leader1, 1);
    let sender = leader1;
    if (iteration % 3 === 1) {
      sender = after(cluster, leader1, 1);
      victim = leader1;
    }
    if (disconnect) {
      cluster.disconnect(victim);
      cluster.one(`${r.int(1e9)}`, servers - 1, true);
    }
    if (crash) {
      cluster.crash(victim);
      cluster.one(`${r.int(1e9)}`, servers - 1, true);
    }
    // Enough entries for the live members to snapshot past the victim.
    const count = SNAPSHOT_EVERY / 2 + r.int(SNAPSHOT_EVERY);
    for (let k = 0; k < count; k++) cluster.propose(sender, `${r.int(1e9)}`);
    cluster.one(`${r.int(1e9)}`, disconnect || crash ? servers - 1 : servers, true);
    for (const id of cluster.ids) {
      if (!cluster.node(id).alive) continue;
      const bytes = logBytesOnDisk(cluster, id);
      assert.ok(bytes <= LOG_BYTES_MAX, `node ${id} keeps ${bytes} bytes of log: snapshots do not trim it`);
    }
    if (disconnect) {
      cluster.connect(victim);
      cluster.one(`${r.int(1e9)}`, servers, true);
      leader1 = cluster.checkOneLeader();
    }
    if (crash) {
      cluster.restart(victim);
      cluster.one(`${r.int(1e9)}`, servers, true);
      leader1 = cluster.checkOneLeader();
    }
  }
  return cluster;
}

function totalInstalled(cluster: SimCluster): number {
  return cluster.ids.reduce((sum, id) => sum + cluster.node(id).snapshotsInstalled, 0);
}

describe('snapshots (6.824 2D)', () => {
  scenario('snapshot basic: members compact their logs as they apply', (seed) => {
    const cluster = snapshotScenario(seed, false, true, false);
    for (const id of cluster.ids) assert.ok(cluster.node(id).snapshotsTaken > 0, `node ${id} never took a snapshot`);
  });

  scenario('snapshot install: a disconnected member catches up by InstallSnapshot, in chunks', (seed) => {
    const cluster = snapshotScenario(seed, true, true, false);
    assert.ok(totalInstalled(cluster) > 0, 'no member ever installed a snapshot');
  });

  scenario('snapshot install over an unreliable network', (seed) => {
    const cluster = snapshotScenario(seed, true, false, false);
    assert.ok(totalInstalled(cluster) > 0, 'no member ever installed a snapshot');
  });

  scenario('snapshot install with crashes', (seed) => {
    snapshotScenario(seed, false, true, true);
  });

  scenario('snapshot install with crashes over an unreliable network', (seed) => {
    snapshotScenario(seed, false, false, true);
  });

  scenario('snapshot all-crash: every member restarts from its snapshot and the log goes on', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, snapshotEveryEntries: SNAPSHOT_EVERY });
    const r = cluster.random;
    cluster.one(`${r.int(1e9)}`, 3, true);
    for (let iteration = 0; iteration < 5; iteration++) {
      const count = SNAPSHOT_EVERY / 2 + r.int(SNAPSHOT_EVERY);
      for (let k = 0; k < count; k++) cluster.one(`${r.int(1e9)}`, 3, true);
      const index1 = cluster.one(`${r.int(1e9)}`, 3, true);
      for (const id of cluster.ids) cluster.crash(id);
      for (const id of cluster.ids) cluster.restart(id);
      const index2 = cluster.one(`${r.int(1e9)}`, 3, true);
      assert.ok(index2 >= index1 + 1, `index went back from ${index1} to ${index2}`);
    }
  });

  scenario('snapshot init: a member restarted from a snapshot serves and snapshots again', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, snapshotEveryEntries: SNAPSHOT_EVERY });
    const r = cluster.random;
    cluster.one(`${r.int(1e9)}`, 3, true);
    for (let k = 0; k < SNAPSHOT_EVERY + 1; k++) cluster.one(`${r.int(1e9)}`, 3, true);
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) cluster.restart(id);
    cluster.one(`${r.int(1e9)}`, 3, true);
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) cluster.restart(id);
    const index = cluster.one(`${r.int(1e9)}`, 3, true);
    for (const id of cluster.ids) {
      const node = cluster.node(id);
      assert.ok(node.disk.snapshot !== null, `node ${id} has no snapshot on disk`);
      assert.ok(node.machine.lastApplied >= index, `node ${id} applied ${node.machine.lastApplied} < ${index}`);
    }
  });
});
