import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProcessMetrics } from '../../../src/metrics/process-metrics.js';
import type { RaftNodeObserver } from '../../../src/node/index.js';
import type { NodeId } from '../../../src/raft/index.js';
import { DiskKvGroup } from '../../support/disk-kv-group.js';
import type { Exposition } from './prometheus-text.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';

const IDS: readonly NodeId[] = [1, 2, 3];
const value = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A three-member group on real disk stores, each member watched by a ProcessMetrics of its own. */
async function watchedGroup(seed: number, snapshotEveryEntries = 1_000, snapshotCatchUpEntries = 100) {
  const metrics = new Map(IDS.map((id) => [id, new ProcessMetrics({ defaultMetrics: false })]));
  const group = await DiskKvGroup.create(seed, IDS, {
    snapshotEveryEntries,
    snapshotCatchUpEntries,
    snapshotChunkBytes: 16 * 1024,
    observers: (id) => ({ node: metrics.get(id)!, onSync: metrics.get(id)!.syncObserver }),
  });
  const scrape = async (id: NodeId): Promise<Exposition> =>
    parsePrometheusText(await metrics.get(id)!.prometheusText());
  return { group, scrape };
}

describe('metrics of a running Raft group', () => {
  it('a write moves proposals on the leader, and commits and fsyncs on every member', async () => {
    const { group, scrape } = await watchedGroup(11);
    try {
      await group.startAll();
      const leader = await group.electLeader();
      const before = new Map<NodeId, Exposition>();
      for (const id of IDS) before.set(id, await scrape(id));

      for (let n = 0; n < 3; n++) await group.put(leader, `key${n}`, value(`value ${n}`));
      const applied = group.machine(leader.id).appliedIndex;
      await group.runUntil(() => IDS.every((id) => group.machine(id).appliedIndex === applied), 2_000);

      for (const id of IDS) {
        const was = before.get(id)!;
        const now = await scrape(id);
        const grew = (name: string): number => valueOf(now, name) - valueOf(was, name);
        assert.equal(grew('raftkv_raft_proposals_total'), id === leader.id ? 3 : 0, `proposals on node ${id}`);
        assert.ok(grew('raftkv_raft_commits_total') >= 3, `node ${id} saw 3 entries committed`);
        assert.ok(grew('raftkv_fsync_duration_seconds_count') >= 1, `node ${id} fsynced its log`);
        assert.equal(valueOf(now, 'raftkv_raft_applied_index'), applied, `applied index of node ${id}`);
        assert.ok(valueOf(now, 'raftkv_raft_commit_index') >= applied, `commit index of node ${id}`);
        assert.equal(valueOf(now, 'raftkv_raft_term'), group.node(id).core.term);
        assert.equal(valueOf(now, 'raftkv_raft_is_leader'), id === leader.id ? 1 : 0);
      }
      assert.deepEqual(group.failures, []);
    } finally {
      await group.close();
    }
  });

  it('a leader cut off is replaced: the new leader counts its election, everyone counts the leader change', async () => {
    const { group, scrape } = await watchedGroup(12);
    try {
      await group.startAll();
      const first = await group.electLeader();
      await group.put(first, 'a', value('1'));
      // The group's first election: the leader started it, and every member learnt of it.
      assert.ok(valueOf(await scrape(first.id), 'raftkv_raft_elections_total') >= 1);
      for (const id of IDS)
        assert.equal(valueOf(await scrape(id), 'raftkv_raft_leader_changes_total'), 1, `node ${id}`);

      const others = IDS.filter((id) => id !== first.id);
      const electionsBefore = new Map<NodeId, number>();
      for (const id of others) electionsBefore.set(id, valueOf(await scrape(id), 'raftkv_raft_elections_total'));
      group.network.partition([[first.id], others]);
      const second = await group.electLeader(others);
      const witness = others.find((id) => id !== second.id)!;

      const secondNow = await scrape(second.id);
      assert.ok(valueOf(secondNow, 'raftkv_raft_elections_total') > electionsBefore.get(second.id)!);
      assert.equal(valueOf(secondNow, 'raftkv_raft_is_leader'), 1);
      assert.equal(valueOf(secondNow, 'raftkv_raft_leader_changes_total'), 2);
      assert.equal(valueOf(await scrape(witness), 'raftkv_raft_leader_changes_total'), 2);

      // Healed, the old leader learns of the new one too, and steps down.
      group.network.heal();
      await group.put(second, 'b', value('2'));
      await group.runUntil(() => group.node(first.id).core.leader === second.id, 2_000);
      const firstNow = await scrape(first.id);
      assert.equal(valueOf(firstNow, 'raftkv_raft_leader_changes_total'), 2);
      assert.equal(valueOf(firstNow, 'raftkv_raft_is_leader'), 0);
      assert.deepEqual(group.failures, []);
    } finally {
      await group.close();
    }
  });

  it("snapshots are counted: taken after enough writes, installed by a follower that fell behind the leader's log", async () => {
    const { group, scrape } = await watchedGroup(13, 5, 0);
    try {
      await group.startAll();
      const leader = await group.electLeader();
      const lagging = IDS.find((id) => id !== leader.id)!;
      group.network.partition([IDS.filter((id) => id !== lagging), [lagging]]);
      for (let n = 0; n < 12; n++) await group.put(leader, `key${n}`, value('x'));
      await group.runUntil(() => group.snapshotIndex(leader.id) !== null, 2_000);
      const leaderNow = await scrape(leader.id);
      assert.ok(valueOf(leaderNow, 'raftkv_snapshots_total', { kind: 'taken' }) >= 1);
      assert.equal(valueOf(leaderNow, 'raftkv_snapshots_total', { kind: 'installed' }), 0);

      group.network.heal();
      const applied = group.machine(leader.id).appliedIndex;
      await group.runUntil(() => group.machine(lagging).appliedIndex >= applied, 5_000);
      assert.equal(valueOf(await scrape(lagging), 'raftkv_snapshots_total', { kind: 'installed' }), 1);
      assert.deepEqual(group.failures, []);
    } finally {
      await group.close();
    }
  });

  it('an observer that throws loses its events but never stops a node', async () => {
    const failing = (): never => {
      throw new Error('a broken metrics observer');
    };
    const broken: RaftNodeObserver = {
      proposalAccepted: failing,
      entriesCommitted: failing,
      electionStarted: failing,
      leaderChanged: failing,
      snapshot: failing,
      stateSeen: failing,
    };
    const group = await DiskKvGroup.create(14, IDS, {
      snapshotEveryEntries: 3,
      snapshotCatchUpEntries: 100,
      snapshotChunkBytes: 16 * 1024,
      observers: () => ({ node: broken, onSync: failing }),
    });
    try {
      await group.startAll();
      const leader = await group.electLeader();
      for (let n = 0; n < 5; n++) assert.deepEqual(await group.put(leader, `key${n}`, value('x')), { ok: true });
      assert.deepEqual(group.failures, []);
    } finally {
      await group.close();
    }
  });
});
