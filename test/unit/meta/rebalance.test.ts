import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupId } from '../../../src/meta/index.js';
import { bucketsMoved, rebalance } from '../../../src/meta/index.js';
import { SeededRandom, seedFromEnv } from '../../../src/sim/random.js';

describe('rebalance', () => {
  it('with no groups, every bucket is unassigned', () => {
    assert.deepEqual(rebalance([1, 2, 2, 0], []), [0, 0, 0, 0]);
  });

  it('the first group takes every bucket', () => {
    assert.deepEqual(rebalance(new Array<GroupId>(10).fill(0), [7]), new Array<GroupId>(10).fill(7));
  });

  it('a second group takes the upper half: the first keeps its low buckets', () => {
    assert.deepEqual(rebalance(new Array<GroupId>(10).fill(1), [1, 2]), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  });

  it('a third group gets the surplus buckets, lowest first; the extra bucket stays with the lower gid on a tie', () => {
    const after = rebalance([1, 1, 1, 1, 1, 2, 2, 2, 2, 2], [1, 2, 3]);
    assert.deepEqual(after, [1, 1, 1, 1, 3, 2, 2, 2, 3, 3]);
    assert.equal(bucketsMoved([1, 1, 1, 1, 1, 2, 2, 2, 2, 2], after), 3);
  });

  it('the extra bucket stays with the group that owns the most, whatever its gid', () => {
    // Group 5 owns 7, group 2 owns 3; with a third group the targets are 4, 3, 3: group 5 keeps the extra one.
    const before = [5, 5, 5, 5, 5, 5, 5, 2, 2, 2];
    const after = rebalance(before, [2, 5, 9]);
    assert.deepEqual(after, [5, 5, 5, 5, 9, 9, 9, 2, 2, 2]);
    assert.equal(bucketsMoved(before, after), 3);
  });

  it('the buckets of a group that left go to the groups under their target, in gid order', () => {
    const before = [1, 1, 1, 1, 3, 2, 2, 2, 3, 3];
    assert.deepEqual(rebalance(before, [1, 3]), [1, 1, 1, 1, 3, 1, 3, 3, 3, 3]);
  });

  it('unassigned buckets and buckets of unknown groups are handed out too', () => {
    // Freed buckets 0, 1, 2 fill group 1 (one short) first, then group 2.
    assert.deepEqual(rebalance([0, 4, 0, 1], [1, 2]), [1, 2, 2, 1]);
  });

  it('with more groups than buckets, groups that own one keep it and the rest own none', () => {
    assert.deepEqual(rebalance([3, 3, 3], [1, 2, 3, 4, 5]), [3, 1, 2]);
  });

  it('gives the same answer whatever the order of the live groups', () => {
    const before = [1, 1, 2, 0, 9, 9, 9, 9, 9, 2, 2];
    assert.deepEqual(rebalance(before, [9, 2, 1, 4]), rebalance(before, [1, 2, 4, 9]));
  });

  it('refuses duplicate or invalid group ids and too many buckets', () => {
    assert.throws(() => rebalance([0, 0], [1, 1]), /distinct group ids/);
    assert.throws(() => rebalance([0, 0], [0]), /distinct group ids/);
    assert.throws(() => rebalance([0, 0], [1.5]), /distinct group ids/);
    assert.throws(() => rebalance(new Array<GroupId>(1025).fill(0), [1]), /over the limit of 1024/);
  });

  for (const bucketCount of [1, 10, 17, 1024]) {
    for (const seed of seedFromEnv([1, 2, 3])) {
      it(`random joins, leaves and moves on ${bucketCount} buckets keep balance and move only what must move (seed ${seed})`, () => {
        const random = new SeededRandom(seed * 7919 + bucketCount);
        let buckets: GroupId[] = new Array<GroupId>(bucketCount).fill(0);
        let live: GroupId[] = [];
        let nextGid = 1;
        const steps = bucketCount === 1024 ? 60 : 200;
        for (let step = 0; step < steps; step++) {
          const draw = random.next();
          if (draw < 0.15 && live.length > 0) {
            // An admin move unbalances things, so that the next rebalance starts from an uneven spread.
            const from = random.int(bucketCount);
            const to = random.intBetween(from, bucketCount - 1);
            const gid = random.pick(live);
            buckets = buckets.map((owner, bucket) => (bucket >= from && bucket <= to ? gid : owner));
            continue;
          }
          if (draw < 0.6 || live.length === 0) {
            const joining = random.intBetween(1, 3);
            for (let k = 0; k < joining; k++) live.push(nextGid++);
          } else {
            random.shuffle(live);
            live = live.slice(random.intBetween(1, Math.min(3, live.length)));
          }
          const after = rebalance(buckets, random.shuffle([...live]));
          checkRebalanced(buckets, after, live, `seed ${seed}, ${bucketCount} buckets, step ${step}`);
          buckets = after;
        }
      });
    }
  }
});

/** Balance within one, only live owners, and exactly the minimal number of moves. */
function checkRebalanced(before: GroupId[], after: GroupId[], live: GroupId[], where: string): void {
  assert.equal(after.length, before.length, where);
  if (live.length === 0) {
    assert.ok(
      after.every((gid) => gid === 0),
      `${where}: buckets owned with no groups`,
    );
    return;
  }
  const liveSet = new Set(live);
  assert.ok(
    after.every((gid) => liveSet.has(gid)),
    `${where}: a bucket is not owned by a live group`,
  );
  const counts = live.map((gid) => after.filter((owner) => owner === gid).length);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${where}: unbalanced ${counts.join(',')}`);
  assert.equal(bucketsMoved(before, after), minimalMoves(before, live), `${where}: moved more than needed`);
}

/**
 * The fewest moves any balanced assignment needs, computed apart from
 * rebalance(): every bucket without a live owner moves, and each group
 * gives up what it holds over floor(B/G), less one for each of the B mod G
 * extra places that groups over floor(B/G) can keep.
 */
function minimalMoves(before: GroupId[], live: GroupId[]): number {
  const liveSet = new Set(live);
  const base = Math.floor(before.length / live.length);
  const extras = before.length % live.length;
  const orphans = before.filter((gid) => !liveSet.has(gid)).length;
  const counts = live.map((gid) => before.filter((owner) => owner === gid).length);
  const overBase = counts.reduce((sum, count) => sum + Math.max(0, count - base), 0);
  const groupsOverBase = counts.filter((count) => count > base).length;
  return orphans + overBase - Math.min(extras, groupsOverBase);
}
