import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZipfianShape } from '../../../src/bench/zipfian.js';
import { SeededRandom } from '../../../src/sim/random.js';

const SEED = 20_261_127;
const DRAWS = 200_000;
const THETA = 0.99;

/** The zipfian normalizer, summed here independently of the generator. */
function zeta(count: number): number {
  let sum = 0;
  for (let i = 1; i <= count; i++) sum += i ** -THETA;
  return sum;
}

/** Four standard deviations of a share estimated from `draws` Bernoulli trials of probability p. */
function tolerance(probability: number, draws: number): number {
  return 4 * Math.sqrt((probability * (1 - probability)) / draws);
}

function rankCounts(shape: ZipfianShape, seed: number): number[] {
  const random = new SeededRandom(seed);
  const counts = new Array<number>(shape.itemCount).fill(0);
  for (let k = 0; k < DRAWS; k++) counts[shape.rank(random.next())]! += 1;
  return counts;
}

void describe('ZipfianShape (Gray et al., as YCSB draws keys)', () => {
  void it('gives the most popular key its share 1 / zeta(n), and the second 2^-theta / zeta(n)', () => {
    const shape = new ZipfianShape(1000, THETA);
    const counts = rankCounts(shape, SEED);
    const first = 1 / zeta(1000);
    const second = 2 ** -THETA / zeta(1000);
    assert.ok(Math.abs(shape.zetaN - zeta(1000)) < 1e-9);
    assert.ok(
      Math.abs(counts[0]! / DRAWS - first) < tolerance(first, DRAWS),
      `seed ${SEED}: rank 0 drew ${counts[0]! / DRAWS}, expected ${first}`,
    );
    assert.ok(
      Math.abs(counts[1]! / DRAWS - second) < tolerance(second, DRAWS),
      `seed ${SEED}: rank 1 drew ${counts[1]! / DRAWS}, expected ${second}`,
    );
  });

  void it('draws the tail as its formula says, within 5 % of the ideal zipfian sums', () => {
    const shape = new ZipfianShape(1000, THETA);
    const counts = rankCounts(shape, SEED + 1);
    for (const rank of [3, 10, 100, 500]) {
      const drawn = counts.slice(0, rank).reduce((sum, count) => sum + count, 0) / DRAWS;
      const expected = shape.rankBelowProbability(rank);
      assert.ok(
        Math.abs(drawn - expected) < tolerance(expected, DRAWS),
        `seed ${SEED + 1}: ranks below ${rank} drew ${drawn}, the formula says ${expected}`,
      );
      const ideal = zeta(rank) / zeta(1000);
      assert.ok(Math.abs(expected - ideal) / ideal < 0.05, `below ${rank}: ${expected} is far from ${ideal}`);
    }
  });

  void it('replays the same keys for the same seed', () => {
    const shape = new ZipfianShape(10_000);
    const keys = (seed: number): number[] => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 50 }, () => shape.keyIndex(random.next()));
    };
    assert.deepEqual(keys(5), keys(5));
    assert.notDeepEqual(keys(5), keys(6));
  });

  void it('scatters ranks over the key space one to one, so every key keeps its rank’s popularity', () => {
    for (const itemCount of [1, 2, 10, 1000, 1024, 9973]) {
      const shape = new ZipfianShape(itemCount);
      const seen = new Set<number>();
      for (let rank = 0; rank < itemCount; rank++) {
        const key = shape.scrambleRank(rank);
        assert.ok(Number.isInteger(key) && key >= 0 && key < itemCount, `${itemCount} keys: rank ${rank} -> ${key}`);
        seen.add(key);
      }
      assert.equal(seen.size, itemCount, `${itemCount} keys: two ranks share a key`);
    }
    const shape = new ZipfianShape(1000);
    assert.notEqual(shape.scrambleRank(0), 0, 'the hottest key is not simply the first one loaded');
    assert.notEqual(shape.scrambleRank(1), shape.scrambleRank(0) + 1, 'the two hottest keys are not neighbours');
  });

  void it('never draws past the last key, even for u just below 1', () => {
    const shape = new ZipfianShape(7);
    assert.equal(shape.rank(0), 0);
    assert.ok(shape.rank(1 - Number.EPSILON) <= 6);
    assert.throws(() => new ZipfianShape(0), /itemCount/);
    assert.throws(() => new ZipfianShape(10, 1), /theta/);
  });
});
