/**
 * The compliance suite every KvEngine passes, in the manner of abstract-level's
 * test suite: a backend's test file calls engineSuite() with a factory, and the
 * memory engine used in simulation is held to exactly what the disk engine
 * does, reopening included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEntry, KvEngine } from '../../../src/kv/engine.js';
import { SeededRandom } from '../../../src/sim/random.js';

/** The durable state of one engine across reopens. */
export interface EngineHarness {
  /** Opens an engine over this harness's durable state; after close(), opening again is a restart. */
  open(): Promise<KvEngine>;
  /** Releases whatever the harness holds, such as a temp directory. */
  destroy(): Promise<void>;
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export async function collect(iterator: AsyncIterable<EngineEntry>): Promise<[number[], number[]][]> {
  const entries: [number[], number[]][] = [];
  for await (const entry of iterator) entries.push([[...entry.key], [...entry.value]]);
  return entries;
}

export function engineSuite(name: string, createHarness: () => Promise<EngineHarness>): void {
  /** Runs `body` with a fresh harness and an open engine, and cleans up whatever happens. */
  function scenario(title: string, body: (context: EngineContext) => Promise<void>): void {
    it(title, async () => {
      const harness = await createHarness();
      const context = new EngineContext(harness);
      try {
        await context.start();
        await body(context);
      } finally {
        await context.stop();
        await harness.destroy();
      }
    });
  }

  describe(`${name} passes the KvEngine compliance suite`, () => {
    scenario('a fresh engine holds nothing', async ({ engine }) => {
      assert.equal(engine.get(bytes(1)), null);
      assert.deepEqual(await collect(engine.entries()), []);
    });

    scenario('a value reads back byte for byte, every byte value and the empty value included', async (context) => {
      const every = Uint8Array.from({ length: 256 }, (_, value) => value);
      await context.engine.write(
        [
          { type: 'put', key: bytes(1), value: every },
          { type: 'put', key: bytes(2), value: new Uint8Array(0) },
        ],
        { sync: false },
      );
      assert.deepEqual(context.engine.get(bytes(1)), every);
      assert.deepEqual(context.engine.get(bytes(2)), new Uint8Array(0));
      assert.equal(context.engine.get(bytes(3)), null);
    });

    scenario('a batch applies in order: a later write to the same key wins', async ({ engine }) => {
      await engine.write(
        [
          { type: 'put', key: bytes(1), value: bytes(10) },
          { type: 'put', key: bytes(2), value: bytes(20) },
          { type: 'delete', key: bytes(1) },
          { type: 'put', key: bytes(2), value: bytes(21) },
          { type: 'delete', key: bytes(9) },
        ],
        { sync: true },
      );
      assert.deepEqual(await collect(engine.entries()), [[[2], [21]]]);
    });

    scenario(
      "a batch of many keys and values of one small length keeps each one, and leaves the caller's bytes alone",
      async ({ engine }) => {
        // Small arrays are what the disk engine stages through one buffer (level-engine.ts): each must still land whole.
        const keyOf = (n: number): Uint8Array => Uint8Array.from({ length: 8 }, (_, at) => (n * 7 + at) & 0xff);
        const valueOf = (n: number, length: number): Uint8Array =>
          Uint8Array.from({ length }, (_, at) => (n + at) & 0xff);
        const writes = Array.from({ length: 120 }, (_, n) => ({
          type: 'put' as const,
          key: keyOf(n),
          value: valueOf(n, n % 3 === 0 ? 64 : n % 3 === 1 ? 65 : 16),
        }));
        const deleted = [...writes[5]!.key];
        const given = writes.map((write) => [[...write.key], [...write.value]]);
        await engine.write([...writes, { type: 'delete', key: keyOf(5) }], { sync: false });
        assert.deepEqual(
          writes.map((write) => [[...write.key], [...write.value]]),
          given,
        );
        for (const [n, write] of writes.entries()) {
          assert.deepEqual(engine.get(write.key), n === 5 ? null : write.value, `key ${n}`);
        }
        assert.deepEqual([...keyOf(5)], deleted);
      },
    );

    scenario('entries come in bytewise key order, a prefix before its extensions', async ({ engine }) => {
      const keys = [bytes(0xff, 0), bytes(0x80), bytes(0), bytes(0x7f), bytes(0, 0), bytes(0xff), bytes(1)];
      await engine.write(
        keys.map((key, index) => ({ type: 'put', key, value: bytes(index) })),
        { sync: false },
      );
      const ordered = (await collect(engine.entries())).map(([key]) => key);
      assert.deepEqual(ordered, [[0], [0, 0], [1], [0x7f], [0x80], [0xff], [0xff, 0]]);
    });

    scenario('a range yields keys from gte up to, not including, lt', async ({ engine }) => {
      await engine.write(
        [1, 2, 3, 4, 5].map((key) => ({ type: 'put', key: bytes(key), value: bytes(key) })),
        { sync: false },
      );
      const keysIn = async (range: Parameters<KvEngine['entries']>[0]): Promise<number[]> =>
        (await collect(engine.entries(range))).map(([key]) => key[0]!);
      assert.deepEqual(await keysIn({ gte: bytes(2), lt: bytes(4) }), [2, 3]);
      assert.deepEqual(await keysIn({ gte: bytes(3, 0) }), [4, 5]);
      assert.deepEqual(await keysIn({ lt: bytes(2) }), [1]);
      assert.deepEqual(await keysIn({ gte: bytes(9) }), []);
    });

    scenario(
      'an iterator sees the state of when it was made, not writes made before its first step',
      async (context) => {
        const { engine } = context;
        await engine.write(
          [
            { type: 'put', key: bytes(1), value: bytes(1) },
            { type: 'put', key: bytes(2), value: bytes(2) },
          ],
          { sync: false },
        );
        const iterator = engine.entries();
        await engine.write(
          [
            { type: 'delete', key: bytes(1) },
            { type: 'put', key: bytes(2), value: bytes(22) },
            { type: 'put', key: bytes(3), value: bytes(3) },
          ],
          { sync: false },
        );
        assert.deepEqual(await collect(iterator), [
          [[1], [1]],
          [[2], [2]],
        ]);
        assert.deepEqual(await collect(engine.entries()), [
          [[2], [22]],
          [[3], [3]],
        ]);
      },
    );

    scenario('many entries iterate in order, also when the iterator is left early', async ({ engine }) => {
      const keys = new SeededRandom(7).shuffle(Array.from({ length: 3000 }, (_, index) => index));
      await engine.write(
        keys.map((key) => ({ type: 'put', key: bigEndianKey(key), value: bigEndianKey(key * 2) })),
        { sync: false },
      );
      let expected = 0;
      for await (const entry of engine.entries()) {
        assert.deepEqual(entry.key, bigEndianKey(expected));
        assert.deepEqual(entry.value, bigEndianKey(expected * 2));
        expected++;
      }
      assert.equal(expected, 3000);
      for await (const entry of engine.entries({ gte: bigEndianKey(10) })) {
        assert.deepEqual(entry.key, bigEndianKey(10));
        break;
      }
    });

    scenario('the engine keeps its own copy of the bytes it is given and hands out', async ({ engine }) => {
      const key = bytes(1);
      const value = bytes(1, 2, 3);
      await engine.write([{ type: 'put', key, value }], { sync: false });
      key[0] = 9;
      value[0] = 9;
      const read = engine.get(bytes(1));
      assert.deepEqual(read, bytes(1, 2, 3));
      assert.ok(read !== null);
      read[1] = 9;
      assert.deepEqual(engine.get(bytes(1)), bytes(1, 2, 3));
      assert.equal(engine.get(bytes(9)), null);
    });

    scenario('clear removes a range, or everything', async ({ engine }) => {
      await engine.write(
        [1, 2, 3, 4].map((key) => ({ type: 'put', key: bytes(key), value: bytes(key) })),
        { sync: false },
      );
      await engine.clear({ gte: bytes(2), lt: bytes(4) });
      assert.deepEqual(
        (await collect(engine.entries())).map(([key]) => key[0]),
        [1, 4],
      );
      await engine.clear();
      assert.deepEqual(await collect(engine.entries()), []);
    });

    scenario('a large value and a large batch survive a reopen, synced or not', async (context) => {
      const large = Uint8Array.from({ length: 1024 * 1024 }, (_, index) => (index * 7) % 251);
      await context.engine.write([{ type: 'put', key: bytes(0), value: large }], { sync: false });
      await context.engine.write(
        Array.from({ length: 1000 }, (_, index) => ({
          type: 'put' as const,
          key: bigEndianKey(index + 1),
          value: bigEndianKey(index),
        })),
        { sync: true },
      );
      await context.engine.write([{ type: 'delete', key: bigEndianKey(1) }], { sync: false });
      await context.reopen();
      assert.deepEqual(context.engine.get(bytes(0)), large);
      assert.equal(context.engine.get(bigEndianKey(1)), null);
      assert.deepEqual(context.engine.get(bigEndianKey(1000)), bigEndianKey(999));
      assert.equal((await collect(context.engine.entries())).length, 1000);
    });

    scenario('a clear survives a reopen', async (context) => {
      await context.engine.write([{ type: 'put', key: bytes(1), value: bytes(1) }], { sync: true });
      await context.engine.clear();
      await context.engine.write([{ type: 'put', key: bytes(2), value: bytes(2) }], { sync: true });
      await context.reopen();
      assert.deepEqual(await collect(context.engine.entries()), [[[2], [2]]]);
    });
  });
}

export function bigEndianKey(value: number): Uint8Array {
  const key = Buffer.alloc(4);
  key.writeUInt32BE(value);
  return new Uint8Array(key);
}

class EngineContext {
  private current: KvEngine | null = null;

  constructor(private readonly harness: EngineHarness) {}

  get engine(): KvEngine {
    assert.ok(this.current !== null, 'the engine is not open');
    return this.current;
  }

  async start(): Promise<void> {
    this.current = await this.harness.open();
  }

  async reopen(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const engine = this.current;
    this.current = null;
    await engine?.close();
  }
}
