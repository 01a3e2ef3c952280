import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import { bucketOf } from '../../../src/shard/bucket.js';

describe('bucketOf', () => {
  it('is the IEEE CRC-32 of the key bytes, unsigned, modulo the bucket count (pinned)', () => {
    // CRC-32 of "123456789" is 0xCBF43926, the standard check value; of "a", 0xE8B7BE43, above 2^31.
    const pinned: [string | Uint8Array, number, number][] = [
      ['123456789', 10, 3421780262 % 10],
      ['123456789', 1024, 294],
      ['a', 10, 7],
      ['a', 1024, 579],
      ['hello', 10, 0],
      ['key-1', 10, 8],
      ['user:1000', 3, 0],
      ['', 10, 0],
      [Uint8Array.of(0xff, 0x00, 0x80), 1024, 735],
    ];
    for (const [key, bucketCount, bucket] of pinned) {
      const bytes = typeof key === 'string' ? utf8(key) : key;
      assert.equal(bucketOf(bytes, bucketCount), bucket, `${JSON.stringify(key)} mod ${bucketCount}`);
    }
  });

  it('spreads keys evenly over the buckets', () => {
    const bucketCount = 10;
    const keyCount = 10_000;
    const counts = new Array<number>(bucketCount).fill(0);
    for (let n = 0; n < keyCount; n++) counts[bucketOf(utf8(`user:${n}`), bucketCount)]!++;
    const expected = keyCount / bucketCount;
    for (const [bucket, count] of counts.entries()) {
      assert.ok(Math.abs(count - expected) < expected * 0.1, `bucket ${bucket} got ${count} of ${keyCount} keys`);
    }
  });

  it('refuses a bucket count no config can have', () => {
    for (const bucketCount of [0, -1, 1.5, 1025, Number.NaN]) {
      assert.throws(() => bucketOf(utf8('k'), bucketCount), /the bucket count must be an integer in 1\.\.1024/);
    }
    assert.equal(bucketOf(utf8('anything'), 1), 0);
  });
});
