import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LATENCY_US_MAX, RecentRequests } from '../../../src/metrics/recent-requests.js';

/** A window on a clock the test moves by hand, started at `startMs`. */
function windowAt(startMs: number): { recent: RecentRequests; clock: { nowMs: number } } {
  const clock = { nowMs: startMs };
  return { recent: new RecentRequests({ nowMs: () => clock.nowMs }), clock };
}

/** Within the histogram's resolution (two significant digits: 1 %). */
function assertNear(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= expected * 0.01, `${what}: ${actual} ≉ ${expected}`);
}

describe('RecentRequests', () => {
  it('shows nothing before the first request', () => {
    const { recent } = windowAt(0);
    assert.deepEqual(recent.stats(), { windowSeconds: 10, operations: {} });
  });

  it('counts, errors and percentiles per operation', () => {
    const { recent, clock } = windowAt(1_000);
    clock.nowMs = 1_500;
    for (let ms = 1; ms <= 100; ms++) recent.record('get', ms, true);
    recent.record('put', 7, false);
    recent.record('put', 9, true);
    clock.nowMs = 3_000;
    const { operations } = recent.stats();
    assert.deepEqual(Object.keys(operations), ['get', 'put']);
    assert.equal(operations.get?.count, 100);
    assert.equal(operations.get?.errors, 0);
    assertNear(operations.get?.p50Ms, 50, 'p50 of 1..100 ms');
    assertNear(operations.get?.p99Ms, 99, 'p99 of 1..100 ms');
    assert.equal(operations.put?.count, 2);
    assert.equal(operations.put?.errors, 1);
    assertNear(operations.put?.p99Ms, 9, 'p99 of put');
  });

  it('divides by the time the window covers: from the start of its oldest second, or from the start', () => {
    const { recent, clock } = windowAt(0);
    // One request in the middle of every second, for 30 s.
    for (let second = 0; second < 30; second++) {
      clock.nowMs = second * 1_000 + 500;
      recent.record('get', 1, true);
    }
    // At 30.0 s the window is seconds 21..30: nine requests over nine seconds (second 30 has just begun).
    clock.nowMs = 30_000;
    assert.equal(recent.stats().operations.get?.count, 9);
    assert.equal(recent.stats().operations.get?.perSecond, 1);

    // A younger process: four requests in its first two seconds are two a second, not 0.4.
    const young = windowAt(100_000);
    young.clock.nowMs = 100_400;
    for (let n = 0; n < 4; n++) young.recent.record('put', 1, true);
    young.clock.nowMs = 102_000;
    assert.equal(young.recent.stats().operations.put?.perSecond, 2);
    // Less than a second counts as one: three requests in the first 200 ms are not 15 a second.
    const fresh = windowAt(0);
    fresh.clock.nowMs = 200;
    for (let n = 0; n < 3; n++) fresh.recent.record('get', 1, true);
    assert.equal(fresh.recent.stats().operations.get?.perSecond, 3);
  });

  it('forgets a second once it leaves the window, and reuses its slot for the new second', () => {
    const { recent, clock } = windowAt(0);
    clock.nowMs = 1_200;
    recent.record('get', 5, false);
    recent.record('delete', 5, true);
    clock.nowMs = 10_999;
    assert.deepEqual(Object.keys(recent.stats().operations), ['delete', 'get'], 'second 1 is still in seconds 1..10');
    clock.nowMs = 11_000;
    assert.deepEqual(recent.stats().operations, {}, 'second 1 left at 11.0 s');
    // Second 11 lands in the slot second 1 had: only the new request counts there.
    clock.nowMs = 11_300;
    recent.record('get', 80, true);
    const get = recent.stats().operations.get;
    assert.equal(get?.count, 1);
    assert.equal(get?.errors, 0);
    assertNear(get?.p50Ms, 80, 'p50 after the slot was reused');
  });

  it('merges latencies across seconds', () => {
    const { recent, clock } = windowAt(0);
    clock.nowMs = 500;
    for (let n = 0; n < 98; n++) recent.record('get', 2, true);
    clock.nowMs = 4_500;
    recent.record('get', 300, true);
    recent.record('get', 300, true);
    clock.nowMs = 5_000;
    const get = recent.stats().operations.get;
    assertNear(get?.p50Ms, 2, 'p50');
    assertNear(get?.p99Ms, 300, 'p99 includes the slow second');
  });

  it('records absurd durations at the ends of its range instead of failing', () => {
    const { recent, clock } = windowAt(0);
    recent.record('get', -3, true);
    recent.record('get', Number.NaN, true);
    recent.record('get', 10 * 60 * 1000, true);
    clock.nowMs = 1_000;
    const get = recent.stats().operations.get;
    assert.equal(get?.count, 3);
    assertNear(get?.p99Ms, LATENCY_US_MAX / 1000, 'p99 at the top of the range');
  });
});
