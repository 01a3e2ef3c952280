import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyMemoryKvDisk, MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import type { BucketMove, BucketState } from '../../../src/shard/bucket-state.js';
import { bucketMoves, SERVING } from '../../../src/shard/bucket-state.js';
import { TestClient } from '../kv/kv-fixtures.js';
import { BUCKET_COUNT, configOf, keysInBucket, Members } from './shard-fixtures.js';

function memoryMembers(): Members {
  return new Members(() => {
    const disk = emptyMemoryKvDisk();
    return Promise.resolve({
      open: () => Promise.resolve(new MemoryKvEngine(disk)),
      destroy: () => Promise.resolve(),
    });
  });
}

describe('bucket moves', () => {
  it('a pulled bucket that starts serving moved in; a handed-off bucket that is forgotten moved out', () => {
    const before = new Map<number, BucketState>([
      [0, SERVING],
      [1, { type: 'pulling', fromGid: 2, pairsReceived: 3 }],
      [2, { type: 'pulling', fromGid: 2, pairsReceived: 0 }],
      [3, { type: 'handingOff', toGid: 2 }],
      [4, { type: 'handingOff', toGid: 2 }],
    ]);
    const after = new Map<number, BucketState>([
      [0, SERVING],
      [1, SERVING],
      [2, { type: 'pulling', fromGid: 2, pairsReceived: 7 }],
      [4, { type: 'handingOff', toGid: 2 }],
      // Served at once, since no group had it: nothing moved.
      [5, SERVING],
    ]);
    assert.deepEqual(bucketMoves(before, after), [
      { bucket: 1, direction: 'in' },
      { bucket: 3, direction: 'out' },
    ]);
  });

  it('the shard machine reports each bucket once as it arrives in parts and once as it is deleted', async () => {
    const members = memoryMembers();
    try {
      const moves = new Map<number, BucketMove[]>([
        [1, []],
        [2, []],
      ]);
      const group1 = await members.start(1, { onBucketMoved: (move) => moves.get(1)!.push(move) });
      const group2 = await members.start(2, { onBucketMoved: (move) => moves.get(2)!.push(move) });
      const join1 = configOf(1, Array<number>(BUCKET_COUNT).fill(1));
      await group1.config(join1);
      await group2.config(join1);
      const client = new TestClient('metrics');
      for (const key of keysInBucket(7, 20)) await group1.kv(client.put(key, `value of ${key}`));
      assert.deepEqual([...moves.values()].flat(), [], 'the first config moves nothing: nobody held the buckets');

      const join2 = configOf(2, [1, 1, 1, 1, 1, 1, 1, 2, 2, 1]);
      await group1.config(join2);
      await group2.config(join2);
      const parts = await group2.pull(group1, 7, { partBytesMax: 64 });
      assert.ok(parts.length > 2, `bucket 7 came in ${parts.length} parts; the test wants several`);
      await group2.pull(group1, 8);
      for (const bucket of [7, 8]) await group1.deleteBucket(bucket, 2);

      assert.deepEqual(moves.get(2), [
        { bucket: 7, direction: 'in' },
        { bucket: 8, direction: 'in' },
      ]);
      assert.deepEqual(moves.get(1), [
        { bucket: 7, direction: 'out' },
        { bucket: 8, direction: 'out' },
      ]);
    } finally {
      await members.stopAll();
    }
  });
});
