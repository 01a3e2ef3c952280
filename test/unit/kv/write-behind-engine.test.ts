import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { utf8 } from '../../../src/kv/commands.js';
import type { EngineEntry, EngineWrite, EngineWriteOptions, KeyRange } from '../../../src/kv/engine.js';
import { LevelKvEngine } from '../../../src/kv/level-engine.js';
import { releasingIterator } from '../../../src/kv/releasing-iterator.js';
import type { MemoryKvDisk } from '../../../src/kv/memory-engine.js';
import { emptyMemoryKvDisk, MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { KvStateMachine } from '../../../src/kv/state-machine.js';
import type { WriteBehindOptions } from '../../../src/kv/write-behind-engine.js';
import { WriteBehindEngine } from '../../../src/kv/write-behind-engine.js';
import { bigEndianKey, bytes, collect, engineSuite } from './engine-suite.js';
import { applyNext, TestClient, textOf } from './kv-fixtures.js';

/** Held writes go down only when a test says so (flush) or past a bound, never on a timer. */
const NO_TIMER: WriteBehindOptions = { intervalMs: 3_600_000 };

function memoryHarness(options: WriteBehindOptions) {
  return () => {
    const disk = emptyMemoryKvDisk();
    return Promise.resolve({
      open: () => Promise.resolve(new WriteBehindEngine(new MemoryKvEngine(disk), options)),
      destroy: () => Promise.resolve(),
    });
  };
}

engineSuite('WriteBehindEngine over MemoryKvEngine', memoryHarness(NO_TIMER));
// Bounds this low send most writes down at once or as they are: the other paths, through the same suite.
engineSuite(
  'WriteBehindEngine over MemoryKvEngine, flushing past 3 keys or 4 bytes',
  memoryHarness({ keysMax: 3, directBatchBytesMin: 4 }),
);
engineSuite('WriteBehindEngine over LevelKvEngine', async () => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-write-behind-'));
  return {
    open: async () => new WriteBehindEngine(await LevelKvEngine.open(path.join(directory, 'kv')), NO_TIMER),
    destroy: () => rm(directory, { recursive: true, force: true }),
  };
});

/** A memory engine that records each batch it is given, and fails them on demand. */
class RecordingEngine extends MemoryKvEngine {
  readonly batches: { keys: number[]; sync: boolean }[] = [];
  /** Views of entries() given out and not released yet. */
  openViews = 0;

  override entries(range?: KeyRange): AsyncIterableIterator<EngineEntry> {
    const view = super.entries(range);
    this.openViews += 1;
    const release = async (): Promise<void> => {
      this.openViews -= 1;
      await view.return?.();
    };
    return releasingIterator(viewWithRelease(view, release), release);
  }
  failWith: Error | null = null;
  /** While set, a write waits for it: an engine below that is slow. */
  stall: Promise<void> | null = null;

  override async write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
    if (this.stall !== null) await this.stall;
    if (this.failWith !== null) throw this.failWith;
    this.batches.push({ keys: batch.map((write) => write.key[0]!), sync: options.sync });
    return super.write(batch, options);
  }
}

/** The entries of `view`, calling `release` once its end is reached or it is left. */
async function* viewWithRelease(
  view: AsyncIterableIterator<EngineEntry>,
  release: () => Promise<void>,
): AsyncGenerator<EngineEntry, void, undefined> {
  try {
    yield* view;
  } finally {
    await release();
  }
}

function put(key: number, value: number): EngineWrite {
  return { type: 'put', key: bytes(key), value: bytes(value) };
}

function setUp(options: WriteBehindOptions = NO_TIMER): {
  disk: MemoryKvDisk;
  below: RecordingEngine;
  engine: WriteBehindEngine;
} {
  const disk = emptyMemoryKvDisk();
  const below = new RecordingEngine(disk);
  return { disk, below, engine: new WriteBehindEngine(below, options) };
}

describe('WriteBehindEngine', () => {
  it('holds unsynced writes until a flush, which hands them down as one batch; a crash before it loses them whole', async () => {
    const { disk, below, engine } = setUp();
    await engine.write([put(1, 1), put(2, 1)], { sync: false });
    await engine.write([put(2, 2), { type: 'delete', key: bytes(1) }], { sync: false });
    assert.deepEqual(below.batches, []);
    assert.equal(engine.get(bytes(1)), null);
    assert.deepEqual(engine.get(bytes(2)), bytes(2));

    await engine.flush();
    assert.deepEqual(below.batches, [{ keys: [1, 2], sync: false }]);
    await engine.write([put(3, 3)], { sync: false });
    // A process crash now: a new engine over the same disk finds the state after the flush, exactly.
    const restarted = new MemoryKvEngine(disk);
    assert.deepEqual(await collect(restarted.entries()), [[[2], [2]]]);
  });

  it('flushes on its own once the interval has passed', async () => {
    const { below, engine } = setUp({ intervalMs: 5 });
    await engine.write([put(1, 1)], { sync: false });
    await engine.write([put(2, 2)], { sync: false });
    assert.deepEqual(below.batches, []);
    // Real time, briefly: no flush is asked for here, so only the timer can bring this about.
    for (let waitedMs = 0; below.batches.length === 0 && waitedMs < 5_000; waitedMs += 5) await sleep(5);
    assert.deepEqual(below.batches, [{ keys: [1, 2], sync: false }]);
  });

  it('a synced write takes every held write down with it, in one synced batch', async () => {
    const { below, engine } = setUp();
    await engine.write([put(1, 1)], { sync: false });
    await engine.write([put(2, 2)], { sync: true });
    assert.deepEqual(below.batches, [{ keys: [1, 2], sync: true }]);
  });

  it('past its bound of held keys, a write waits until they are all below', async () => {
    const { below, engine } = setUp({ ...NO_TIMER, keysMax: 3 });
    await engine.write([put(1, 1), put(2, 2)], { sync: false });
    await engine.write([put(1, 3)], { sync: false });
    assert.deepEqual(below.batches, [], 'two distinct keys are held');
    await engine.write([put(3, 3)], { sync: false });
    assert.deepEqual(below.batches, [{ keys: [1, 2, 3], sync: false }]);
  });

  it('its bound counts what a slow flush still holds: a write past it waits for the engine below', async () => {
    const { below, engine } = setUp({ ...NO_TIMER, keysMax: 3 });
    let unstall: () => void = () => undefined;
    below.stall = new Promise((resolve) => (unstall = resolve));
    await engine.write([put(1, 1)], { sync: false });
    const stalled = engine.flush();
    await engine.write([put(2, 2)], { sync: false });
    let written = false;
    const third = engine.write([put(3, 3)], { sync: false }).then(() => (written = true));
    await sleep(0);
    assert.equal(written, false, 'three keys held, one of them in a flush that has not landed');
    unstall();
    await Promise.all([stalled, third]);
    assert.deepEqual(below.batches, [
      { keys: [1], sync: false },
      { keys: [2, 3], sync: false },
    ]);
  });

  it('a clear asked for while a flush is slow leaves alone the writes made after it', async () => {
    const { below, engine } = setUp();
    let unstall: () => void = () => undefined;
    below.stall = new Promise((resolve) => (unstall = resolve));
    await engine.write([put(1, 1), put(2, 1)], { sync: false });
    const stalled = engine.flush();
    const cleared = engine.clear({ gte: bytes(2), lt: bytes(3) });
    await engine.write([put(2, 2)], { sync: false });
    const flushed = engine.flush();
    unstall();
    await Promise.all([stalled, cleared, flushed]);
    assert.deepEqual(engine.get(bytes(2)), bytes(2));
    assert.deepEqual(await collect(below.entries()), [
      [[1], [1]],
      [[2], [2]],
    ]);
  });

  it('a large batch goes down as it is, after the held writes, so the later write of a key wins', async () => {
    const { below, engine } = setUp({ ...NO_TIMER, directBatchBytesMin: 6 });
    await engine.write([put(1, 1), put(9, 1)], { sync: false });
    await engine.write([put(1, 2), put(2, 2), put(3, 2)], { sync: false });
    assert.deepEqual(below.batches, [
      { keys: [1, 9], sync: false },
      { keys: [1, 2, 3], sync: false },
    ]);
    assert.deepEqual(engine.get(bytes(1)), bytes(2));
  });

  it('entries lays the held writes over the engine below, as of the call', async () => {
    const { engine } = setUp();
    await engine.write([put(1, 1), put(2, 1), put(3, 1)], { sync: false });
    await engine.flush();
    // Held: a replaced value, a delete of a key below, a new key, and a delete of a key nowhere.
    await engine.write([put(2, 2), { type: 'delete', key: bytes(3) }, put(4, 4), { type: 'delete', key: bytes(5) }], {
      sync: false,
    });
    const view = engine.entries();
    const ranged = engine.entries({ gte: bytes(2), lt: bytes(4) });
    // Later writes, held or below, are not seen.
    await engine.write([{ type: 'delete', key: bytes(1) }, put(6, 6)], { sync: false });
    await engine.flush();
    await engine.write([put(0, 0)], { sync: false });
    assert.deepEqual(await collect(view), [
      [[1], [1]],
      [[2], [2]],
      [[4], [4]],
    ]);
    assert.deepEqual(await collect(ranged), [[[2], [2]]]);
  });

  it('entries starts a flush, so that a snapshot read through it soon has its state below too', async () => {
    const { below, engine } = setUp();
    await engine.write([put(1, 1)], { sync: false });
    const view = engine.entries();
    await sleep(0);
    assert.deepEqual(below.batches, [{ keys: [1], sync: false }]);
    assert.deepEqual(await collect(view), [[[1], [1]]]);
  });

  it('releases the view below when its merged iterator is left, before its first step too', async () => {
    const { below, engine } = setUp();
    await engine.write([put(1, 1), put(2, 2)], { sync: false });
    await engine.entries().return!();
    assert.equal(below.openViews, 0);
    const midway = engine.entries();
    await midway.next();
    await midway.return!();
    assert.equal(below.openViews, 0);
  });

  it('clear removes the held writes in its range along with those below', async () => {
    const { engine } = setUp();
    await engine.write([put(1, 1), put(2, 2)], { sync: false });
    await engine.flush();
    await engine.write([put(1, 3), put(3, 3)], { sync: false });
    await engine.clear({ gte: bytes(1), lt: bytes(3) });
    assert.equal(engine.get(bytes(1)), null);
    assert.equal(engine.get(bytes(2)), null);
    assert.deepEqual(engine.get(bytes(3)), bytes(3));
  });

  it('after a failed write below, every later call fails with it, and close still closes the engine below', async () => {
    const { below, engine } = setUp();
    await engine.write([put(1, 1)], { sync: false });
    const diskFull = new Error('No space left on device');
    below.failWith = diskFull;
    await assert.rejects(engine.flush(), diskFull);
    await assert.rejects(engine.write([put(2, 2)], { sync: false }), diskFull);
    assert.throws(() => engine.entries(), diskFull);
    await assert.rejects(engine.close(), diskFull);
    assert.throws(() => below.get(bytes(1)), /used after close/);
  });

  it('a flush on the interval that fails is told to its owner at once, without waiting for a later call', async () => {
    const { below, engine } = setUp({ intervalMs: 5 });
    const told: unknown[] = [];
    engine.onBackgroundFailure = (error) => told.push(error);
    const diskFull = new Error('No space left on device');
    below.failWith = diskFull;
    await engine.write([put(1, 1)], { sync: false });
    // Real time, briefly: nothing is called after the write, so only the interval's flush can fail.
    for (let waitedMs = 0; told.length === 0 && waitedMs < 5_000; waitedMs += 5) await sleep(5);
    assert.deepEqual(told, [diskFull]);
    // Told once: later calls fail with it, and the owner hears nothing more.
    await assert.rejects(engine.write([put(2, 2)], { sync: false }), diskFull);
    await sleep(20);
    assert.deepEqual(told, [diskFull]);
    const late: unknown[] = [];
    engine.onBackgroundFailure = (error) => late.push(error);
    assert.deepEqual(late, [diskFull], 'a handler set after the failure is told at once');
    // A shutdown after it does not look clean, and still closes the engine below.
    await assert.rejects(engine.close(), diskFull);
    assert.throws(() => below.get(bytes(1)), /used after close/);
  });

  it("a flush a caller waits for that fails is the caller's to report, not the owner's", async () => {
    const { below, engine } = setUp();
    const told: unknown[] = [];
    engine.onBackgroundFailure = (error) => told.push(error);
    await engine.write([put(1, 1)], { sync: false });
    below.failWith = new Error('Input/output error');
    await assert.rejects(engine.flush(), /Input\/output error/);
    assert.deepEqual(told, []);
  });

  it("a clear that fails while the interval's flush is due is the caller's to report: the refused flush tells nothing", async () => {
    const { below, engine } = setUp({ intervalMs: 5 });
    const told: unknown[] = [];
    engine.onBackgroundFailure = (error) => told.push(error);
    await engine.write([put(1, 1)], { sync: false });
    const ioError = new Error('Input/output error');
    const clearOnly = below.clear.bind(below);
    below.clear = () => Promise.reject(ioError);
    // The clear writes what was held, then fails; a write after it arms the interval's flush again.
    await assert.rejects(engine.clear(), ioError);
    await assert.rejects(engine.write([put(2, 2)], { sync: false }), ioError);
    await sleep(30);
    assert.deepEqual(told, []);
    below.clear = clearOnly;
  });

  it('under the KV state machine, a crash loses only whole applies: a restart resumes at the last flushed index', async () => {
    const disk = emptyMemoryKvDisk();
    const engine = new WriteBehindEngine(new MemoryKvEngine(disk), NO_TIMER);
    const machine = await KvStateMachine.open(engine);
    const client = new TestClient('alice');
    await applyNext(machine, client.put('a', '1'));
    await applyNext(machine, client.put('b', '2'));
    await engine.flush();
    await applyNext(machine, client.put('a', '3'));
    assert.equal(textOf(machine.get(utf8('a'))), '3');

    const restarted = await KvStateMachine.open(new MemoryKvEngine(disk));
    assert.equal(restarted.appliedIndex, 2);
    assert.equal(textOf(restarted.get(utf8('a'))), '1');
    assert.equal(restarted.dedupEntry('alice')?.lastSequence, 2);
  });

  it('copies what it is given: a caller that reuses its arrays changes nothing held', async () => {
    const { engine } = setUp();
    const key = bigEndianKey(7);
    const value = bytes(1, 2, 3);
    await engine.write([{ type: 'put', key, value }], { sync: false });
    key.fill(0);
    value.fill(0);
    assert.deepEqual(engine.get(bigEndianKey(7)), bytes(1, 2, 3));
    engine.get(bigEndianKey(7))!.fill(9);
    assert.deepEqual(engine.get(bigEndianKey(7)), bytes(1, 2, 3));
  });
});
