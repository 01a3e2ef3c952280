/**
 * Long randomized scenarios shared by the unit tests (a few seeds) and the
 * soak run (hundreds of seeds).
 */
import assert from 'node:assert/strict';
import type { SimCluster } from '../../src/sim/cluster.js';

/** Member n steps after `id`, wrapping around: the 6.824 (leader + n) % servers. */
export function after(cluster: SimCluster, id: number, n: number): number {
  return ((id - 1 + n) % cluster.ids.length) + 1;
}

/** The 6.824 Figure 8 test: leaders crash right after proposing, over and over. */
export function figure8(cluster: SimCluster, iterations: number, unreliable: boolean): void {
  const r = cluster.random;
  const servers = cluster.ids.length;
  cluster.one(`${r.int(1e9)}`, 1, true);
  let up = servers;
  for (let iteration = 0; iteration < iterations; iteration++) {
    if (unreliable && iteration === 200) cluster.network.longReordering = true;
    let leader = -1;
    for (const id of cluster.ids) {
      if (cluster.propose(id, `${r.int(1e9)}`) !== null) leader = id;
    }
    cluster.runFor(r.chance(0.1) ? r.int(500) : r.int(13));
    if (leader !== -1 && (!unreliable || r.chance(0.5))) {
      if (unreliable) cluster.disconnect(leader);
      else cluster.crash(leader);
      up--;
    }
    if (up < 3) {
      const pick = r.int(servers) + 1;
      const node = cluster.node(pick);
      if (unreliable && !cluster.network.isConnected(pick)) {
        cluster.connect(pick);
        up++;
      } else if (!unreliable && !node.alive) {
        cluster.restart(pick);
        up++;
      }
    }
  }
  for (const id of cluster.ids) {
    if (!cluster.node(id).alive) cluster.restart(id);
    if (!cluster.network.isConnected(id)) cluster.connect(id);
  }
  cluster.network.longReordering = false;
  cluster.setReliable(true);
  cluster.one(`${r.int(1e9)}`, servers, true);
}

/** The 6.824 churn test: clients propose while members crash, restart and disconnect at random. */
export function churn(cluster: SimCluster, unreliable: boolean): void {
  const r = cluster.random;
  cluster.setReliable(!unreliable);
  const proposed: { index: number; value: string }[] = [];
  const staleReads: string[] = [];
  let stop = false;
  let counter = 0;
  for (let client = 0; client < 3; client++) {
    const tick = (): void => {
      if (stop) return;
      for (const id of cluster.ids) {
        const value = `client${client}-${counter++}`;
        const result = cluster.propose(id, value);
        if (result !== null) proposed.push({ index: result.index, value });
      }
      readLinearizably(cluster, r.int(cluster.ids.length) + 1, staleReads);
      cluster.scheduler.after(r.intBetween(10, 100), tick);
    };
    cluster.scheduler.after(r.int(50), tick);
  }
  for (let iteration = 0; iteration < 20; iteration++) {
    if (r.chance(0.2)) cluster.disconnect(r.int(cluster.ids.length) + 1);
    if (r.chance(0.5)) {
      const id = r.int(cluster.ids.length) + 1;
      if (!cluster.node(id).alive) cluster.restart(id);
      cluster.connect(id);
    }
    if (r.chance(0.2)) {
      const id = r.int(cluster.ids.length) + 1;
      if (cluster.node(id).alive) cluster.crash(id);
    }
    // Leave enough time for an election to settle between changes.
    cluster.runFor((r.int(1000) * 7) / 10);
  }
  cluster.runFor(1000);
  cluster.setReliable(true);
  for (const id of cluster.ids) {
    if (!cluster.node(id).alive) cluster.restart(id);
    cluster.connect(id);
  }
  cluster.runFor(1000);
  stop = true;
  const last = cluster.one(`${r.int(1e9)}`, cluster.ids.length, true);
  assert.deepEqual(staleReads, [], 'reads missed writes committed before they started');
  // Every member's state machine holds the same command at every index, whether it
  // applied the entries or installed a snapshot that contains them.
  cluster.runUntil(() => cluster.ids.every((id) => cluster.node(id).machine.lastApplied >= last), 5000);
  let committed = 0;
  for (let index = 1; index <= last; index++) {
    const values = new Set(cluster.ids.map((id) => cluster.node(id).machine.valueAt(index)));
    assert.equal(values.size, 1, `members disagree at index ${index}: ${[...values].join(', ')}`);
    if (!values.has(undefined)) committed++;
  }
  assert.ok(committed > 1, 'nothing was committed under churn');
  assert.ok(proposed.length > 0);
}

/**
 * Starts a linearizable read on `id`. A read that starts after an entry was
 * committed anywhere must see it: its read index may not be below the highest
 * commit index any member knew when the read began.
 */
function readLinearizably(cluster: SimCluster, id: number, staleReads: string[]): void {
  if (!cluster.node(id).alive) return;
  const committedAtStart = cluster.safety.committedMax;
  cluster.read(id, (result) => {
    if (result.index < committedAtStart) {
      staleReads.push(`node ${id} read at index ${result.index}, after ${committedAtStart} was committed`);
    }
  });
}
