import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { ReadResult } from '../../../src/sim/cluster.js';
import { SimCluster } from '../../../src/sim/cluster.js';
import { scenario } from '../../support/scenario.js';

function readNow(cluster: SimCluster, id: number, timeoutMs = 2000): ReadResult | null {
  let result: ReadResult | null = null;
  const error = cluster.read(id, (r) => (result = r));
  if (error !== null) return null;
  cluster.runUntil(() => result !== null, timeoutMs);
  return result;
}

describe('linearizable reads', () => {
  scenario('ReadIndex on the leader sees every write acknowledged before it', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    const leader = cluster.checkOneLeader();
    for (let k = 0; k < 5; k++) {
      const index = cluster.one(`w${k}`, 3, true);
      const read = readNow(cluster, leader);
      assert.ok(read !== null, 'read was never served');
      assert.ok(read.index >= index, `read index ${read.index} is before write ${index}`);
      assert.equal(read.commandsApplied, k + 1);
    }
  });

  scenario('ReadIndex through a follower is forwarded to the leader and sees the latest write', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3 });
    const leader = cluster.checkOneLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    const index = cluster.one('w', 3, true);
    const read = readNow(cluster, follower);
    assert.ok(read !== null, 'follower read was never served');
    assert.equal(read.node, follower);
    assert.ok(read.index >= index);
  });

  for (const readMode of ['readIndex', 'lease'] as const) {
    scenario(`${readMode}: no stale read after the leader is partitioned away`, (seed) => {
      const cluster = new SimCluster({ seed, nodes: 5, raft: { readMode } });
      cluster.one('v1', 5, true);
      const old = cluster.checkOneLeader();
      const majority = cluster.ids.filter((id) => id !== old);
      cluster.partition([[old, majority[0]!], majority.slice(1)]);
      // The majority side elects a leader and commits a newer write.
      const fresh = cluster.runUntil(
        () => majority.slice(1).some((id) => cluster.node(id).core!.role === 'leader'),
        5000,
      );
      assert.ok(fresh, 'majority did not elect a leader');
      cluster.one('v2', 3, true);
      // Any read the old leader serves from now on would miss v2: it must serve none.
      let served: ReadResult | null = null;
      cluster.read(old, (r) => (served = r));
      cluster.runFor(3000);
      assert.equal(served, null, 'the deposed leader served a stale read');
      cluster.heal();
      const read = readNow(cluster, cluster.checkOneLeader());
      assert.ok(read !== null && read.commandsApplied === 2, 'the read after healing missed v2');
    });
  }

  scenario('a lease read is served without a heartbeat round', (seed) => {
    const cluster = new SimCluster({ seed, nodes: 3, raft: { readMode: 'lease' } });
    const leader = cluster.checkOneLeader();
    cluster.one('w', 3, true);
    cluster.runFor(200);
    const before = cluster.rpcTotals().messages;
    let served: ReadResult | null = null;
    cluster.read(leader, (r) => (served = r));
    cluster.runUntil(() => served !== null, 100);
    assert.ok(served !== null, 'lease read not served');
    assert.ok(cluster.rpcTotals().messages - before <= 4, 'lease read waited for a heartbeat round');
  });

  scenario('lease reads need check-quorum', () => {
    assert.throws(
      () => new SimCluster({ seed: 1, nodes: 3, raft: { readMode: 'lease', checkQuorum: false } }),
      /checkQuorum/,
    );
  });
});
