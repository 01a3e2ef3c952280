import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, checkBackoffLimits } from '../../../src/transport/backoff.js';

const limits = { delayMsMin: 50, delayMsMax: 2000 };

describe('reconnect backoff', () => {
  it('doubles from the minimum up to the maximum, jittered within the upper half', () => {
    const lowest = (failures: number): number => backoffDelayMs(failures, limits, () => 0);
    const highest = (failures: number): number => backoffDelayMs(failures, limits, () => 0.999999);
    assert.deepEqual([0, 1, 2, 3].map(highest), [50, 100, 200, 400]);
    assert.deepEqual([1, 2, 3].map(lowest), [50, 100, 200]);
    assert.equal(lowest(0), 50, 'never under the minimum');
    assert.equal(highest(100), 2000, 'never over the maximum, however many failures');
    assert.equal(lowest(100), 1000);
  });

  it('refuses limits that make no sense', () => {
    assert.throws(() => checkBackoffLimits({ delayMsMin: 0, delayMsMax: 10 }));
    assert.throws(() => checkBackoffLimits({ delayMsMin: 100, delayMsMax: 10 }));
    checkBackoffLimits(limits);
  });
});
