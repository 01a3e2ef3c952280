import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BucketState } from '../../../src/shard/bucket-state.js';
import { bucketsInTransit, SERVING, stateTableProblem, statesAfterConfig } from '../../../src/shard/bucket-state.js';
import { emptyConfig } from '../../../src/meta/config.js';
import { configOf } from './shard-fixtures.js';

function typesOf(states: ReadonlyMap<number, BucketState>): Record<number, string> {
  return Object.fromEntries([...states].map(([bucket, state]) => [bucket, state.type]));
}

describe('bucket states after a config change', () => {
  it('the first config serves every bucket it gives the group at once, since nobody held them', () => {
    const after = statesAfterConfig(new Map(), emptyConfig(null), configOf(1, [1, 1, 2, 2]), 1);
    assert.deepEqual(typesOf(after), { 0: 'serving', 1: 'serving' });
  });

  it('buckets gained are pulled from their previous owner, buckets lost are handed off, the rest stay', () => {
    const states = new Map([
      [0, SERVING],
      [1, SERVING],
    ]);
    const after = statesAfterConfig(states, configOf(1, [1, 1, 2, 3]), configOf(2, [1, 3, 1, 3]), 1);
    assert.deepEqual(
      [...after],
      [
        [0, SERVING],
        [1, { type: 'handingOff', toGid: 3 }],
        [2, { type: 'pulling', fromGid: 2, pairsReceived: 0 }],
      ],
    );
    assert.deepEqual(bucketsInTransit(after), [1, 2]);
    assert.equal(stateTableProblem(after, configOf(2, [1, 3, 1, 3]), 1), null);
  });

  it('a group that owns nothing before or after has no states', () => {
    const after = statesAfterConfig(new Map(), configOf(1, [1, 1]), configOf(2, [1, 2]), 3);
    assert.deepEqual([...after], []);
  });

  it('refuses to start a change while one is in transit, or over a table that disagrees with the config', () => {
    const pulling = new Map<number, BucketState>([[0, { type: 'pulling', fromGid: 2, pairsReceived: 0 }]]);
    assert.throws(
      () => statesAfterConfig(pulling, configOf(1, [1]), configOf(2, [2]), 1),
      /buckets 0 are still in transit/,
    );
    assert.throws(
      () =>
        statesAfterConfig(
          new Map([
            [0, SERVING],
            [1, SERVING],
          ]),
          configOf(1, [1, 2]),
          configOf(2, [1, 1]),
          1,
        ),
      /bucket 1 is in the state table of group 1, but config 1 gives it to group 2/,
    );
  });

  it('names what is wrong with a state table', () => {
    const config = configOf(3, [1, 2]);
    assert.match(stateTableProblem(new Map(), config, 1) ?? '', /gives bucket 0 to group 1, which has no state/);
    assert.match(
      stateTableProblem(
        new Map([
          [0, SERVING],
          [1, SERVING],
        ]),
        config,
        1,
      ) ?? '',
      /bucket 1 is serving/,
    );
    assert.match(
      stateTableProblem(
        new Map([
          [0, SERVING],
          [5, SERVING],
        ]),
        config,
        1,
      ) ?? '',
      /config 3 has 2 buckets/,
    );
    assert.equal(
      stateTableProblem(
        new Map([
          [0, SERVING],
          [1, { type: 'handingOff', toGid: 2 }],
        ]),
        config,
        1,
      ),
      null,
    );
  });
});
