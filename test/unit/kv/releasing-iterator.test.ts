import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releasingIterator } from '../../../src/kv/releasing-iterator.js';

/** A generator over `values` that counts its releases, as an engine's iterator closes its view. */
function counted(values: number[]): { iterator: AsyncIterableIterator<number>; releases: () => number } {
  let releases = 0;
  const release = (): Promise<void> => {
    releases += 1;
    return Promise.resolve();
  };
  async function* generate(): AsyncGenerator<number, void, undefined> {
    try {
      yield* values;
    } finally {
      await release();
    }
  }
  return { iterator: releasingIterator(generate(), release), releases: () => releases };
}

describe('releasingIterator', () => {
  it('releases once when it is left before its first step, where a bare generator would not', async () => {
    const { iterator, releases } = counted([1, 2]);
    await iterator.return!();
    assert.equal(releases(), 1);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
    await iterator.return!();
    assert.equal(releases(), 1);
  });

  it('releases once when it is left midway, and once when it runs to the end', async () => {
    const midway = counted([1, 2, 3]);
    assert.deepEqual(await midway.iterator.next(), { done: false, value: 1 });
    await midway.iterator.return!();
    assert.equal(midway.releases(), 1);

    const whole = counted([1, 2]);
    const seen: number[] = [];
    for await (const value of whole.iterator) seen.push(value);
    assert.deepEqual(seen, [1, 2]);
    await whole.iterator.return!();
    assert.equal(whole.releases(), 1);
  });
});
