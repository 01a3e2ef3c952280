import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import type { BucketExport } from '../../../src/shard/bucket-transfer.js';
import { installParts } from '../../../src/shard/bucket-transfer.js';
import { encodedDedupBytes, encodedPairBytes } from '../../../src/shard/command-codec.js';
import type { BucketPair, InstallBucketCommand } from '../../../src/shard/commands.js';

// eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the simplest AsyncIterableIterator
async function* pairsOf(pairs: readonly BucketPair[]): AsyncGenerator<BucketPair> {
  yield* pairs;
}

function exportOf(pairCount: number, dedupCount = 0, valueBytes = 10): BucketExport {
  const pairs = Array.from({ length: pairCount }, (_, n): BucketPair => [
    utf8(`key-${String(n).padStart(3, '0')}`),
    new Uint8Array(valueBytes).fill(n),
  ]);
  const dedup = Array.from(
    { length: dedupCount },
    (_, n) =>
      [`client-${n}`, { lastSequence: n + 1, lastReply: { ok: true as const }, stampMsMax: 1_000 + n }] as const,
  );
  return { bucket: 4, configVersion: 7, dedup, pairs: pairsOf(pairs) };
}

async function partsOf(exported: BucketExport, options = {}): Promise<InstallBucketCommand[]> {
  const parts: InstallBucketCommand[] = [];
  for await (const part of installParts(exported, options)) parts.push(part);
  return parts;
}

function partBytes(part: InstallBucketCommand): number {
  let sizeBytes = 0;
  for (const [clientId, entry] of part.dedup) sizeBytes += encodedDedupBytes(clientId, entry);
  for (const pair of part.pairs) sizeBytes += encodedPairBytes(pair);
  return sizeBytes;
}

describe('installParts', () => {
  it('carries the dedup entries, then every pair in order, in parts no larger than the limit', async () => {
    const parts = await partsOf(exportOf(50, 6), { partBytesMax: 200 });
    assert.ok(parts.length > 5);
    assert.ok(parts.every((part) => partBytes(part) <= 200));
    assert.deepEqual(
      parts.map((part) => part.last),
      parts.map((_, n) => n === parts.length - 1),
    );
    assert.deepEqual(
      parts.flatMap((part) => part.dedup.map(([clientId]) => clientId)),
      Array.from({ length: 6 }, (_, n) => `client-${n}`),
    );
    let firstPairIndex = 0;
    for (const part of parts) {
      assert.equal(part.firstPairIndex, firstPairIndex);
      assert.equal(part.bucket, 4);
      assert.equal(part.configVersion, 7);
      firstPairIndex += part.pairs.length;
    }
    assert.equal(firstPairIndex, 50);
    assert.deepEqual(
      parts.flatMap((part) => part.pairs.map(([key]) => Buffer.from(key).toString())),
      Array.from({ length: 50 }, (_, n) => `key-${String(n).padStart(3, '0')}`),
    );
  });

  it('sends an empty bucket as one empty last part, and a pair over the limit alone', async () => {
    assert.deepEqual(await partsOf(exportOf(0)), [
      { type: 'installBucket', bucket: 4, configVersion: 7, firstPairIndex: 0, pairs: [], dedup: [], last: true },
    ]);
    const large = await partsOf(exportOf(3, 0, 500), { partBytesMax: 100 });
    assert.deepEqual(
      large.map((part) => part.pairs.length),
      [1, 1, 1],
    );
  });

  it('resumes after the pairs the receiver has, and refuses an export shorter than that', async () => {
    const parts = await partsOf(exportOf(10, 2), { firstPairIndex: 7 });
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.firstPairIndex, 7);
    assert.equal(parts[0]!.dedup.length, 2, 'dedup entries are sent again: merging them twice is harmless');
    assert.deepEqual(
      parts[0]!.pairs.map(([key]) => Buffer.from(key).toString()),
      ['key-007', 'key-008', 'key-009'],
    );
    await assert.rejects(partsOf(exportOf(3), { firstPairIndex: 5 }), /the export has 3 pairs, fewer than the 5/);
  });
});
