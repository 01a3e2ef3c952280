import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchKey, OperationStream } from '../../../src/bench/operation-stream.js';
import type { WorkloadName } from '../../../src/bench/workloads.js';
import { parseWorkloadList, WORKLOADS } from '../../../src/bench/workloads.js';
import { ZipfianShape } from '../../../src/bench/zipfian.js';
import { SeededRandom } from '../../../src/sim/random.js';

const SEED = 77;
const DRAWS = 100_000;
const KEYS = 1000;

interface Drawn {
  readonly readShare: number;
  readonly keyCounts: number[];
}

function draw(name: WorkloadName, seed: number): Drawn {
  const spec = WORKLOADS[name];
  const zipfian = spec.keyChoice === 'zipfian' ? new ZipfianShape(KEYS) : null;
  const stream = new OperationStream(spec, KEYS, zipfian, new SeededRandom(seed));
  const keyCounts = new Array<number>(KEYS).fill(0);
  let reads = 0;
  for (let k = 0; k < DRAWS; k++) {
    const operation = stream.next();
    if (operation.kind === 'read') reads += 1;
    keyCounts[operation.keyIndex]! += 1;
  }
  return { readShare: reads / DRAWS, keyCounts };
}

void describe('workload mixes', () => {
  const expectedReads: [WorkloadName, number][] = [
    ['put', 0],
    ['get', 1],
    ['mixed', 0.5],
    ['ycsb-a', 0.5],
    ['ycsb-b', 0.95],
    ['ycsb-c', 1],
  ];
  for (const [name, share] of expectedReads) {
    void it(`${name} is ${share * 100} % reads, the rest puts`, () => {
      const { readShare } = draw(name, SEED);
      // Four standard deviations of a binomial share; exact for 0 and 1.
      const tolerance = 4 * Math.sqrt((share * (1 - share)) / DRAWS);
      assert.ok(Math.abs(readShare - share) <= tolerance, `seed ${SEED}: ${name} read ${readShare}, expected ${share}`);
    });
  }

  void it('spreads uniform keys evenly and piles zipfian keys onto the hottest', () => {
    const uniform = draw('mixed', SEED).keyCounts;
    const zipfian = draw('ycsb-b', SEED).keyCounts;
    // 100 draws per key on average: no key of a uniform choice gets 3 times that.
    assert.ok(Math.max(...uniform) < 300, `seed ${SEED}: a uniform key drew ${Math.max(...uniform)} times`);
    assert.ok(Math.min(...uniform) > 0);
    const hottest = new ZipfianShape(KEYS).scrambleRank(0);
    assert.equal(zipfian.indexOf(Math.max(...zipfian)), hottest);
    assert.ok(zipfian[hottest]! / DRAWS > 0.1, `seed ${SEED}: the hottest key drew ${zipfian[hottest]! / DRAWS}`);
  });

  void it('replays the same operations for the same seed', () => {
    const operations = (seed: number) => {
      const stream = new OperationStream(WORKLOADS['ycsb-a'], KEYS, new ZipfianShape(KEYS), new SeededRandom(seed));
      return Array.from({ length: 100 }, () => stream.next());
    };
    assert.deepEqual(operations(3), operations(3));
    assert.notDeepEqual(operations(3), operations(4));
  });

  void it('refuses a zipfian workload without a zipfian shape over its keys', () => {
    assert.throws(() => new OperationStream(WORKLOADS['ycsb-c'], KEYS, null, new SeededRandom(1)), /ZipfianShape/);
    assert.throws(
      () => new OperationStream(WORKLOADS['ycsb-c'], KEYS, new ZipfianShape(10), new SeededRandom(1)),
      /ZipfianShape over 1000 keys/,
    );
  });

  void it('names keys bench: and eight digits', () => {
    assert.equal(Buffer.from(benchKey(42)).toString('latin1'), 'bench:00000042');
  });
});

void describe('parseWorkloadList', () => {
  void it('takes comma lists and repeated flags, in order, each workload once', () => {
    assert.deepEqual(parseWorkloadList(['ycsb-a,put', 'YCSB-A', ' get ']), ['ycsb-a', 'put', 'get']);
  });

  void it('names the workloads there are when given one that is not', () => {
    assert.throws(
      () => parseWorkloadList(['put,ycsb-d']),
      (error: Error) =>
        error.message === 'there is no workload "ycsb-d"; choose from put, get, mixed, ycsb-a, ycsb-b, ycsb-c',
    );
    assert.throws(() => parseWorkloadList([',']), /no workload named; choose from put/);
  });
});
