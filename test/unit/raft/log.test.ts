import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftLog } from '../../../src/raft/log.js';
import type { Membership, SnapshotMeta } from '../../../src/raft/index.js';
import { command } from '../../support/core-harness.js';

const membership: Membership = { voters: [1, 2, 3], learners: [] };

function snapshotAt(index: number, term: number): SnapshotMeta {
  return { index, term, membership, sizeBytes: 0 };
}

describe('RaftLog', () => {
  it('keeps entries it already has and cuts at the first conflict', () => {
    const log = new RaftLog(null, [command(1, 1, 'a'), command(2, 1, 'b'), command(3, 1, 'c')], 0, membership);
    assert.equal(log.appendFromLeader(1, 1, [command(2, 1, 'b')]), 2);
    assert.equal(log.lastIndex(), 3, 'a stale duplicate append must not truncate the log');
    assert.equal(log.appendFromLeader(1, 1, [command(2, 2, 'B')]), 2);
    assert.equal(log.lastIndex(), 2);
    assert.equal(log.termAt(2), 2);
    assert.equal(log.stable, 1, 'the overwritten entry is no longer durable');
  });

  it('skips the part of an append that its snapshot already covers', () => {
    const log = new RaftLog(snapshotAt(10, 2), [], 10, membership);
    const entries = [];
    for (let index = 6; index <= 12; index++) entries.push(command(index, 2, `v${index}`));
    assert.equal(log.appendFromLeader(5, 2, entries), 12);
    assert.equal(log.firstIndex(), 11);
    assert.equal(log.lastIndex(), 12);
    assert.equal(log.appendFromLeader(3, 1, [command(4, 1, 'x')]), 10, 'an append wholly inside the snapshot matches');
  });

  it('refuses to overwrite a committed entry or leave a gap', () => {
    const log = new RaftLog(null, [command(1, 1, 'a'), command(2, 1, 'b')], 2, membership);
    assert.throws(() => log.append([command(2, 2, 'x')]), /overwriting committed entry 2/);
    assert.throws(() => log.append([command(5, 2, 'x')]), /gap/);
  });

  it('compacts only what is applied, and restores to a snapshot wholesale', () => {
    const log = new RaftLog(null, [command(1, 1, 'a'), command(2, 1, 'b'), command(3, 1, 'c')], 3, membership);
    assert.throws(() => log.compact(snapshotAt(2, 1)), /beyond applied/);
    log.applied = 2;
    log.compact(snapshotAt(2, 1));
    assert.equal(log.firstIndex(), 3);
    assert.equal(log.termAt(2), 1);
    assert.equal(log.termAt(1), null);
    log.restore(snapshotAt(20, 4));
    assert.deepEqual([log.firstIndex(), log.lastIndex(), log.committed, log.applied], [21, 20, 20, 20]);
  });

  it('finds the last index whose term is at most a given term, for conflict hints', () => {
    const log = new RaftLog(
      null,
      [command(1, 1, 'a'), command(2, 1, 'b'), command(3, 3, 'c'), command(4, 3, 'd'), command(5, 5, 'e')],
      0,
      membership,
    );
    assert.equal(log.lastIndexWithTermAtMost(5, 4), 4);
    assert.equal(log.lastIndexWithTermAtMost(5, 2), 2);
    assert.equal(log.lastIndexWithTermAtMost(9, 9), 5);
    assert.equal(log.lastIndexWithTermAtMost(5, 0), 0);
  });

  it('rejects restored entries with gaps', () => {
    assert.throws(() => new RaftLog(null, [command(1, 1, 'a'), command(3, 1, 'c')], 0, membership), /has index 3/);
  });
});
