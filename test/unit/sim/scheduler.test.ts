import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom, seedFromEnv } from '../../../src/sim/random.js';
import { Scheduler } from '../../../src/sim/scheduler.js';

void describe('SeededRandom', () => {
  void it('replays the same stream for the same seed and a different one for another seed', () => {
    const draw = (seed: number): number[] => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => random.next());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    for (const value of draw(7)) assert.ok(value >= 0 && value < 1);
  });

  void it('keeps int, intBetween, pick and shuffle within their ranges', () => {
    const random = new SeededRandom(1);
    const seen = new Set<number>();
    for (let k = 0; k < 1000; k++) {
      const value = random.intBetween(3, 6);
      assert.ok(value >= 3 && value <= 6);
      seen.add(value);
      assert.ok(random.int(10) < 10);
    }
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
    assert.equal(random.pick(['only']), 'only');
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const shuffled = random.shuffle(items);
    assert.equal(shuffled, items, 'shuffles in place');
    assert.deepEqual([...shuffled].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(random.chance(0), false);
    assert.equal(random.chance(1), true);
  });

  void it('forks independent streams deterministically', () => {
    const parentA = new SeededRandom(9);
    const parentB = new SeededRandom(9);
    const [forkA, forkB] = [parentA.fork(), parentB.fork()];
    assert.equal(forkA.next(), forkB.next());
    assert.notEqual(parentA.fork().next(), forkA.next());
  });

  void it('takes the seed from SEED when set', () => {
    const saved = process.env['SEED'];
    try {
      delete process.env['SEED'];
      assert.deepEqual(seedFromEnv([1, 2, 3]), [1, 2, 3]);
      process.env['SEED'] = '1234';
      assert.deepEqual(seedFromEnv([1, 2, 3]), [1234]);
    } finally {
      if (saved === undefined) delete process.env['SEED'];
      else process.env['SEED'] = saved;
    }
  });
});

void describe('Scheduler', () => {
  void it('runs events in time order, ties in scheduling order', () => {
    const scheduler = new Scheduler();
    const log: string[] = [];
    scheduler.at(10, () => log.push(`b@${scheduler.nowMs}`));
    scheduler.at(5, () => log.push(`a@${scheduler.nowMs}`));
    scheduler.at(10, () => log.push(`c@${scheduler.nowMs}`));
    scheduler.after(10, () => log.push(`d@${scheduler.nowMs}`));
    assert.equal(scheduler.pendingCount, 4);
    scheduler.runUntil(100);
    assert.deepEqual(log, ['a@5', 'b@10', 'c@10', 'd@10']);
    assert.equal(scheduler.nowMs, 100);
    assert.equal(scheduler.pendingCount, 0);
  });

  void it('step runs one event and advances time to it; false when idle', () => {
    const scheduler = new Scheduler();
    let ran = 0;
    scheduler.after(7, () => ran++);
    assert.equal(scheduler.step(), true);
    assert.equal(scheduler.nowMs, 7);
    assert.equal(ran, 1);
    assert.equal(scheduler.step(), false);
  });

  void it('runUntil runs events due exactly at the limit but not after; runFor is relative', () => {
    const scheduler = new Scheduler();
    const log: number[] = [];
    scheduler.at(10, () => log.push(10));
    scheduler.at(11, () => log.push(11));
    scheduler.runUntil(10);
    assert.deepEqual(log, [10]);
    scheduler.runFor(1);
    assert.deepEqual(log, [10, 11]);
    assert.equal(scheduler.nowMs, 11);
  });

  void it('cancel stops a timer and pendingCount forgets it', () => {
    const scheduler = new Scheduler();
    let ran = false;
    const handle = scheduler.after(5, () => (ran = true));
    scheduler.after(6, () => {});
    scheduler.cancel(handle);
    scheduler.cancel(handle);
    assert.equal(handle.cancelled, true);
    assert.equal(scheduler.pendingCount, 1);
    scheduler.runFor(10);
    assert.equal(ran, false);
    assert.equal(scheduler.pendingCount, 0);
  });

  void it('every repeats at its period until cancelled, also from inside its own action', () => {
    const scheduler = new Scheduler();
    const firedAtMs: number[] = [];
    const handle = scheduler.every(10, () => firedAtMs.push(scheduler.nowMs), 3);
    scheduler.runUntil(35);
    assert.deepEqual(firedAtMs, [3, 13, 23, 33]);
    scheduler.cancel(handle);
    scheduler.runFor(100);
    assert.equal(firedAtMs.length, 4);

    let count = 0;
    const selfCancelling = scheduler.every(5, () => {
      if (++count === 3) scheduler.cancel(selfCancelling);
    });
    scheduler.runFor(100);
    assert.equal(count, 3);
    assert.equal(scheduler.pendingCount, 0);
  });

  void it('runUntilTrue returns true as soon as the predicate holds', () => {
    const scheduler = new Scheduler();
    let done = false;
    scheduler.at(40, () => (done = true));
    scheduler.at(50, () => assert.fail('ran past the moment the predicate held'));
    assert.equal(
      scheduler.runUntilTrue(() => done, 1000),
      true,
    );
    assert.equal(scheduler.nowMs, 40);
  });

  void it('runUntilTrue returns false and leaves the clock at the deadline', () => {
    const scheduler = new Scheduler();
    let ticks = 0;
    scheduler.every(10, () => ticks++);
    scheduler.runFor(5);
    assert.equal(
      scheduler.runUntilTrue(() => false, 100),
      false,
    );
    assert.equal(scheduler.nowMs, 105);
    assert.equal(ticks, 10);
  });

  void it('runUntilTrue without checkEveryEvent sees only whole instants', () => {
    const scheduler = new Scheduler();
    let value = 0;
    scheduler.at(10, () => (value = 1));
    scheduler.at(10, () => (value = 2));
    const seen: number[] = [];
    const held = scheduler.runUntilTrue(
      () => {
        seen.push(value);
        return value === 1;
      },
      100,
      false,
    );
    assert.equal(held, false, 'value was 1 only halfway through the instant');
    assert.deepEqual(seen, [0, 2, 2]);
  });

  void it('refuses to schedule in the past', () => {
    const scheduler = new Scheduler();
    scheduler.runUntil(10);
    assert.throws(() => scheduler.at(5, () => {}), /cannot schedule/);
    assert.throws(() => scheduler.after(-1, () => {}), /delay/);
  });

  void it('throws on a livelock instead of spinning forever', () => {
    const scheduler = new Scheduler({ eventsPerRunMax: 1000 });
    const spin = (): void => void scheduler.after(0, spin);
    spin();
    assert.throws(() => scheduler.runFor(1), /stuck \(livelock\)/);
    assert.throws(() => scheduler.runUntilTrue(() => false, 1), /stuck \(livelock\)/);
  });
});
