/**
 * The compliance suite every LogStore passes, in the manner of abstract-level's
 * test suite: a backend file calls logStoreSuite() with a factory, and the
 * in-memory store used in simulation is held to exactly what the disk store
 * does, restarts included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigChange, Entry, LogIndex, Term } from '../../../src/raft/types.js';
import { SeededRandom } from '../../../src/sim/random.js';
import type { LoadedLog, LogStore } from '../../../src/storage/log-store.js';

/** The durable state of one store across restarts. */
export interface LogStoreHarness {
  /** Opens a store over this harness's durable state; after close(), opening again is a restart. */
  open(): Promise<LogStore>;
  /** Releases whatever the harness holds, such as a temp directory. */
  destroy(): Promise<void>;
}

const encoder = new TextEncoder();

export function command(index: LogIndex, term: Term, text: string): Entry {
  return { kind: 'command', index, term, data: encoder.encode(text) };
}

export function config(index: LogIndex, term: Term, change: ConfigChange): Entry {
  return { kind: 'config', index, term, change };
}

export function noop(index: LogIndex, term: Term): Entry {
  return { kind: 'noop', index, term };
}

/** Commands `first`..`last` in one term, each with text naming its index and a tag. */
export function commands(first: LogIndex, last: LogIndex, term: Term, tag = 'v'): Entry[] {
  const entries: Entry[] = [];
  for (let index = first; index <= last; index++) entries.push(command(index, term, `${tag}${index}`));
  return entries;
}

/** Every byte value, so that no byte is special to a store. */
function allByteValues(): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, value) => value);
}

export function logStoreSuite(name: string, createHarness: () => Promise<LogStoreHarness>): void {
  /** Runs `body` with a fresh harness and a loaded store, and cleans up whatever happens. */
  function scenario(title: string, body: (context: StoreContext) => Promise<void> | void): void {
    it(title, async () => {
      const harness = await createHarness();
      const context = new StoreContext(harness);
      try {
        await context.start();
        await body(context);
      } finally {
        await context.stop();
        await harness.destroy();
      }
    });
  }

  describe(`${name} passes the LogStore compliance suite`, () => {
    scenario('a fresh store holds nothing and starts at index 1', ({ loaded }) => {
      assert.deepEqual(loaded, { firstIndex: 1, entries: [] });
    });

    scenario('appended entries load back in order, across appends and a restart', async (context) => {
      await context.store.append(commands(1, 3, 1));
      await context.store.append(commands(4, 4, 1));
      await context.store.append([]);
      await context.store.append(commands(5, 6, 2));
      const expected = { firstIndex: 1, entries: [...commands(1, 4, 1), ...commands(5, 6, 2)] };
      assert.deepEqual(await context.store.load(), expected);
      await context.restart();
      assert.deepEqual(context.loaded, expected);
    });

    scenario('an append at an existing index replaces it and drops everything after it', async (context) => {
      await context.store.append(commands(1, 10, 1));
      await context.store.append(commands(4, 5, 2, 'new'));
      const expected = [...commands(1, 3, 1), ...commands(4, 5, 2, 'new')];
      assert.deepEqual((await context.store.load()).entries, expected);
      await context.restart();
      assert.deepEqual(context.loaded.entries, expected);
      await context.store.append(commands(6, 7, 2, 'after'));
      await context.store.append(commands(5, 5, 3, 'last'));
      await context.restart();
      assert.deepEqual(context.loaded.entries, [...expected.slice(0, 4), ...commands(5, 5, 3, 'last')]);
    });

    scenario('overwriting the first entry replaces the whole log', async (context) => {
      await context.store.append(commands(1, 5, 1));
      await context.store.append(commands(1, 2, 2, 'x'));
      await context.restart();
      assert.deepEqual(context.loaded.entries, commands(1, 2, 2, 'x'));
    });

    scenario('entries of every kind, with any bytes, load back exactly', async (context) => {
      const entries: Entry[] = [
        config(1, 1, { type: 'bootstrap', membership: { voters: [1, 2, 3], learners: [7] } }),
        noop(2, 1),
        { kind: 'command', index: 3, term: 1, data: allByteValues() },
        { kind: 'command', index: 4, term: 1, data: new Uint8Array(0) },
        config(5, 2, { type: 'addLearner', node: 4 }),
        config(6, 2, { type: 'promoteLearner', node: 4 }),
        config(7, 2, { type: 'removeNode', node: 1 }),
        { kind: 'command', index: 8, term: 2, data: new Uint8Array(70_000).fill(0xab) },
        noop(9, Number.MAX_SAFE_INTEGER),
      ];
      await context.store.append(entries);
      assert.deepEqual((await context.store.load()).entries, entries);
      await context.restart();
      assert.deepEqual(context.loaded.entries, entries);
    });

    scenario('a caller that reuses its buffer after append does not change the log', async (context) => {
      const data = encoder.encode('original');
      await context.store.append([{ kind: 'command', index: 1, term: 1, data }]);
      data.fill(0);
      const loaded = await context.store.load();
      loaded.entries.length = 0;
      await context.restart();
      assert.deepEqual(context.loaded.entries, [command(1, 1, 'original')]);
    });

    scenario('compaction drops the covered prefix and keeps everything after it', async (context) => {
      for (let index = 1; index <= 20; index++) await context.store.append(commands(index, index, 1));
      await context.store.compact(12);
      assert.deepEqual(await context.store.load(), { firstIndex: 13, entries: commands(13, 20, 1) });
      await context.restart();
      assert.deepEqual(context.loaded, { firstIndex: 13, entries: commands(13, 20, 1) });
      await context.store.append(commands(21, 22, 2));
      await context.store.append(commands(13, 13, 3, 'over'));
      await context.restart();
      assert.deepEqual(context.loaded, { firstIndex: 13, entries: commands(13, 13, 3, 'over') });
    });

    scenario('compacting at or below the compaction point changes nothing', async (context) => {
      await context.store.append(commands(1, 8, 1));
      await context.store.compact(5);
      await context.store.compact(5);
      await context.store.compact(2);
      await context.store.compact(0);
      await context.restart();
      assert.deepEqual(context.loaded, { firstIndex: 6, entries: commands(6, 8, 1) });
    });

    scenario(
      'compacting past the last entry empties the log, and appends continue after that point',
      async (context) => {
        await context.store.append(commands(1, 4, 1));
        await context.store.compact(9);
        assert.deepEqual(await context.store.load(), { firstIndex: 10, entries: [] });
        await assert.rejects(context.store.append(commands(5, 5, 1)), /below the compaction point/);
        await context.store.append(commands(10, 11, 2));
        await context.restart();
        assert.deepEqual(context.loaded, { firstIndex: 10, entries: commands(10, 11, 2) });
      },
    );

    scenario('reset discards the whole log, and the next append starts after the snapshot', async (context) => {
      await context.store.append(commands(1, 30, 1));
      await context.store.compact(10);
      await context.store.reset(25);
      assert.deepEqual(await context.store.load(), { firstIndex: 26, entries: [] });
      await context.restart();
      assert.deepEqual(context.loaded, { firstIndex: 26, entries: [] });
      await assert.rejects(context.store.append(commands(25, 25, 2)), /below the compaction point/);
      await context.store.append(commands(26, 28, 3, 'fresh'));
      await context.restart();
      assert.deepEqual(context.loaded, { firstIndex: 26, entries: commands(26, 28, 3, 'fresh') });
    });

    scenario('reset may move the log back before its old compaction point', async (context) => {
      await context.store.append(commands(1, 10, 1));
      await context.store.compact(8);
      await context.store.reset(3);
      await context.store.append(commands(4, 5, 2));
      await context.restart();
      assert.deepEqual(context.loaded, { firstIndex: 4, entries: commands(4, 5, 2) });
    });

    scenario('appends that would break the log are refused and change nothing', async (context) => {
      await context.store.append(commands(1, 5, 1));
      await context.store.compact(2);
      await assert.rejects(context.store.append(commands(7, 8, 1)), /gap/);
      await assert.rejects(context.store.append(commands(2, 3, 1)), /below the compaction point/);
      await assert.rejects(context.store.append([command(6, 1, 'a'), command(8, 1, 'b')]), /not contiguous/);
      await assert.rejects(context.store.compact(-1), /non-negative integer/);
      await assert.rejects(context.store.reset(1.5), /non-negative integer/);
      await context.restart();
      assert.deepEqual(context.loaded, { firstIndex: 3, entries: commands(3, 5, 1) });
    });

    scenario('operations take effect in call order without waiting for each other', async (context) => {
      await Promise.all([
        context.store.append(commands(1, 5, 1)),
        context.store.append(commands(3, 4, 2, 'second')),
        context.store.compact(1),
        context.store.append(commands(5, 6, 2, 'third')),
        context.store.append(commands(4, 4, 3, 'fourth')),
      ]);
      const expected = {
        firstIndex: 2,
        entries: [command(2, 1, 'v2'), command(3, 2, 'second3'), command(4, 3, 'fourth4')],
      };
      assert.deepEqual(await context.store.load(), expected);
      await context.restart();
      assert.deepEqual(context.loaded, expected);
    });

    scenario('many concurrent appends all become durable', async (context) => {
      await Promise.all(commands(1, 100, 1).map((entry) => context.store.append([entry])));
      await context.restart();
      assert.deepEqual(context.loaded.entries, commands(1, 100, 1));
    });

    scenario('a closed store refuses every call', async (context) => {
      await context.store.close();
      await assert.rejects(context.store.append(commands(1, 1, 1)), /after close/);
      await assert.rejects(context.store.load(), /after close/);
      context.markClosed();
    });

    it('refuses writes before load()', async () => {
      const harness = await createHarness();
      try {
        const store = await harness.open();
        await assert.rejects(store.append(commands(1, 1, 1)), /load\(\)/);
        await assert.rejects(store.compact(1), /load\(\)/);
        await assert.rejects(store.reset(1), /load\(\)/);
        await store.close();
      } finally {
        await harness.destroy();
      }
    });

    scenario(
      'a seeded random run of appends, overwrites, compactions, resets and restarts matches a model',
      async (context) => {
        const seed = 20_240_611;
        const random = new SeededRandom(seed);
        const model = new ModelLog();
        for (let step = 0; step < 150; step++) {
          const what = random.next();
          const lastIndex = model.lastIndex();
          if (what < 0.6) {
            const first = random.chance(0.7) ? lastIndex + 1 : random.intBetween(model.firstIndex, lastIndex + 1);
            const entries = commands(first, first + random.int(4), step + 1, `s${step}-`);
            await context.store.append(entries);
            model.append(entries);
          } else if (what < 0.75) {
            const index = random.intBetween(Math.max(0, model.firstIndex - 2), lastIndex + 2);
            await context.store.compact(index);
            model.compact(index);
          } else if (what < 0.8) {
            const index = random.intBetween(Math.max(0, model.firstIndex - 2), lastIndex + 5);
            await context.store.reset(index);
            model.reset(index);
          } else if (what < 0.9) {
            await context.restart();
            assert.deepEqual(context.loaded, model.loaded(), `after a restart at step ${step} of seed ${seed}`);
            continue;
          }
          assert.deepEqual(await context.store.load(), model.loaded(), `at step ${step} of seed ${seed}`);
        }
      },
    );
  });
}

/** A loaded store and how to restart it. */
class StoreContext {
  private current: LogStore | null = null;
  private lastLoaded: LoadedLog | null = null;

  constructor(private readonly harness: LogStoreHarness) {}

  get store(): LogStore {
    assert.ok(this.current !== null, 'the store is not open');
    return this.current;
  }

  /** What the latest start or restart loaded. */
  get loaded(): LoadedLog {
    assert.ok(this.lastLoaded !== null, 'nothing was loaded');
    return this.lastLoaded;
  }

  async start(): Promise<void> {
    const store = await this.harness.open();
    this.current = store;
    this.lastLoaded = await store.load();
  }

  /** Closes the store and opens a new one over the same durable state. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The scenario closed the store itself. */
  markClosed(): void {
    this.current = null;
  }

  async stop(): Promise<void> {
    const store = this.current;
    this.current = null;
    await store?.close();
  }
}

/** The obvious log, to compare a store with. */
class ModelLog {
  firstIndex = 1;
  private entries: Entry[] = [];

  lastIndex(): LogIndex {
    return this.firstIndex + this.entries.length - 1;
  }

  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    this.entries = [...this.entries.slice(0, first.index - this.firstIndex), ...entries];
  }

  compact(index: LogIndex): void {
    if (index < this.firstIndex) return;
    this.entries = this.entries.slice(index + 1 - this.firstIndex);
    this.firstIndex = index + 1;
  }

  reset(index: LogIndex): void {
    this.entries = [];
    this.firstIndex = index + 1;
  }

  loaded(): LoadedLog {
    return { firstIndex: this.firstIndex, entries: [...this.entries] };
  }
}
