/**
 * Hazards that random runs rarely reach, each driven step by step. Several
 * were found by review; each test failed before its fix.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../../../src/raft/index.js';
import { SimCluster } from '../../../src/sim/cluster.js';
import { ManualGroup, command, core, drain, founding, readsOf } from '../../support/core-harness.js';

const ELECTION_TICKS = 10;

/** A group of `size` whose member 1 leads and has committed one command. */
function groupLedBy1(size: number, options: ConstructorParameters<typeof ManualGroup>[1] = {}): ManualGroup {
  const group = new ManualGroup(
    Array.from({ length: size }, (_, k) => k + 1),
    options,
  );
  group.tick(undefined, ELECTION_TICKS); // past every member's startup lease, before any timeout fires
  group.member(1).campaign();
  group.flush(1);
  assert.equal(group.member(1).role, 'leader');
  group.member(1).propose(new Uint8Array([1]));
  group.flush(1);
  return group;
}

describe('hazards', () => {
  it('entries of a Ready stay durable when a conflicting append replaces its tail before advance()', () => {
    const voters = [1, 2, 3];
    const follower = core(3, voters, 2, [founding(voters)]);
    const entries = (from: number, to: number, term: number): Entry[] =>
      Array.from({ length: to - from + 1 }, (_, k) => command(from + k, term, `${from + k}`));
    follower.step({
      type: 'append',
      term: 2,
      from: 1,
      to: 3,
      prevIndex: 1,
      prevTerm: 1,
      entries: entries(2, 6, 2),
      commit: 3,
    });
    const first = follower.ready();
    // While the first Ready is being written, a new leader replaces 5..6 and goes on to 12.
    follower.step({
      type: 'append',
      term: 3,
      from: 2,
      to: 3,
      prevIndex: 4,
      prevTerm: 2,
      entries: entries(5, 12, 3),
      commit: 3,
    });
    follower.advance(first);
    assert.equal(follower.stableIndex, 4, 'entries 2..4 were written and still match');
    follower.snapshotTaken(3, 10);
    const second = follower.ready();
    assert.deepEqual(
      second.entries.map((e) => e.index),
      [5, 6, 7, 8, 9, 10, 11, 12],
      'every entry acknowledged must be in a Ready to persist',
    );
  });

  it('a member whose snapshot transfer was abandoned still campaigns', () => {
    const voters = [1, 2, 3];
    const follower = core(3, voters, 2, [founding(voters)]);
    const membership = { voters, learners: [] };
    follower.step({
      type: 'installSnapshot',
      term: 2,
      from: 1,
      to: 3,
      snapshot: { index: 10, term: 2, membership, sizeBytes: 100 },
      offset: 0,
      data: new Uint8Array(40),
      done: false,
    });
    drain(follower);
    const entries = Array.from({ length: 11 }, (_, k) => command(k + 2, k + 2 <= 10 ? 2 : 3, `${k}`));
    follower.step({ type: 'append', term: 3, from: 2, to: 3, prevIndex: 1, prevTerm: 1, entries, commit: 12 });
    drain(follower);
    follower.step({ type: 'timeoutNow', term: 3, from: 2, to: 3 });
    assert.equal(follower.role, 'candidate', 'it ignored a leadership transfer');
  });

  it('lease: after a TimeoutNow was sent, the old leader serves no lease read, however late the TimeoutNow arrives', () => {
    const group = groupLedBy1(3, { readMode: 'lease' });
    group.hold = (m) => m.type === 'timeoutNow';
    assert.ok(group.member(1).transferLeadership(2).ok);
    group.flush(1);
    group.tick([1], ELECTION_TICKS); // the transfer times out on the leader
    assert.equal(group.member(1).leadershipTransferTarget, null);
    // The delayed TimeoutNow arrives as node 1 is cut off: node 2 wins and commits.
    group.hold = () => false;
    group.partition([[1], [2, 3]]);
    for (const late of group.held.splice(0)) group.member(late.to).step(late);
    group.flush(2);
    assert.equal(group.member(2).role, 'leader');
    group.member(2).propose(new Uint8Array([2]));
    group.flush(2);
    assert.ok(group.member(2).commitIndex > group.member(1).commitIndex);
    if (group.member(1).role === 'leader') {
      group.member(1).readIndex('stale?');
      group.flush(1);
    }
    assert.deepEqual(readsOf(group.member(1)), [], 'the deposed leader served a stale lease read');
  });

  it('lease: a voter that restarts keeps honouring the lease it may have promised', () => {
    const group = groupLedBy1(5, { readMode: 'lease' });
    group.partition([
      [1, 3, 4],
      [2, 5],
    ]);
    group.tick(undefined, 25); // 2 and 5 time out and try, in vain: 3 and 4 hear from the leader
    assert.equal(group.member(1).role, 'leader');
    // 3 has just acknowledged the leader; it restarts at once, on the other side.
    group.start(3);
    group.partition([
      [1, 4],
      [2, 3, 5],
    ]);
    group.member(2).campaign(); // at the worst moment
    group.flush(2);
    let newerWrite = false;
    for (let t = 0; t < 4 * ELECTION_TICKS; t++) {
      group.tick([2, 3, 4, 5]);
      group.tick([1]);
      const fresh = [2, 3, 5].find((id) => group.member(id).role === 'leader');
      if (fresh !== undefined && !newerWrite) {
        group.member(fresh).propose(new Uint8Array([9]));
        group.flush(fresh);
        newerWrite = group.member(fresh).commitIndex > group.member(1).commitIndex;
      }
      if (newerWrite && group.member(1).role === 'leader') {
        const before = readsOf(group.member(1)).length;
        group.member(1).readIndex(`r${t}`);
        group.flush(1);
        assert.equal(
          readsOf(group.member(1)).length,
          before,
          'the old leader served a lease read that misses a newer write',
        );
      }
    }
    assert.ok(newerWrite, 'the majority side never elected a leader');
  });

  it('retried transfers do not keep an isolated leader from stepping down', () => {
    const group = groupLedBy1(3);
    group.partition([[1], [2, 3]]);
    for (let t = 0; t < 5 * ELECTION_TICKS; t++) {
      if (t % 3 === 0) group.member(1).transferLeadership(2);
      group.tick([1]);
    }
    assert.notEqual(group.member(1).role, 'leader');
  });

  it('a duplicate first chunk does not restart a snapshot transfer', () => {
    const voters = [1, 2, 3];
    const follower = core(3, voters, 2, [founding(voters)]);
    const snapshot = { index: 10, term: 2, membership: { voters, learners: [] }, sizeBytes: 100 };
    const chunk = (offset: number, length: number) =>
      ({
        type: 'installSnapshot',
        term: 2,
        from: 1,
        to: 3,
        snapshot,
        offset,
        data: new Uint8Array(length),
        done: offset + length >= 100,
      }) as const;
    follower.step(chunk(0, 40));
    follower.step(chunk(40, 40));
    follower.step(chunk(0, 40));
    const answers = drain(follower).map((m) => (m.type === 'snapshotResponse' ? m.nextOffset : -1));
    assert.deepEqual(answers, [40, 80, 80]);
  });

  it('a follower behind by a snapshot catches up while writes keep coming (transfers are not restarted)', () => {
    const cluster = new SimCluster({ seed: 1, nodes: 3, snapshotEveryEntries: 10, raft: { snapshotChunkBytes: 64 } });
    const leader = cluster.checkOneLeader();
    const lagging = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(lagging);
    for (let k = 0; k < 100; k++) cluster.one(`v${k}`, 2, true);
    cluster.connect(lagging);
    for (let round = 0; round < 500; round++) {
      const current = cluster.checkOneLeader();
      for (let k = 0; k < 10; k++) cluster.propose(current, `w${round}-${k}`);
      cluster.runFor(20);
    }
    assert.ok(cluster.node(lagging).snapshotsInstalled > 0);
    assert.ok(
      cluster.node(lagging).machine.lastApplied > 1000,
      `stuck at ${cluster.node(lagging).machine.lastApplied}`,
    );
  });
});
