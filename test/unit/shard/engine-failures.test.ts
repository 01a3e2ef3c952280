import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import type { EngineWrite, EngineWriteOptions, KeyRange } from '../../../src/kv/engine.js';
import { emptyMemoryKvDisk, MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import type { MemoryKvDisk } from '../../../src/kv/memory-engine.js';
import { encodeShardCommand } from '../../../src/shard/command-codec.js';
import type { ShardCommand } from '../../../src/shard/commands.js';
import { ShardStateMachine } from '../../../src/shard/state-machine.js';
import { StoreFailedError } from '../../../src/storage/errors.js';
import { dumpEngine, TestClient } from '../kv/kv-fixtures.js';
import { BUCKET_COUNT, configOf, errorCode, keysInBucket, textOf } from './shard-fixtures.js';

/** A memory engine whose writes fail, or whose clears stop halfway, as a full or failing disk would make them. */
class FailingEngine extends MemoryKvEngine {
  failWrites = false;
  failClears = false;

  constructor(private readonly shared: MemoryKvDisk) {
    super(shared);
  }

  override write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error('ENOSPC: no space left on device'));
    return super.write(batch, options);
  }

  override async clear(range?: KeyRange): Promise<void> {
    if (!this.failClears) return super.clear(range);
    // Half of the range goes, then the disk fails: what LevelDB's batched clear can leave.
    const inRange: Uint8Array[] = [];
    for await (const { key } of this.entries(range)) inRange.push(key);
    const half = inRange.slice(0, Math.ceil(inRange.length / 2));
    await super.write(
      half.map((key) => ({ type: 'delete', key })),
      { sync: false },
    );
    throw new Error('EIO: input/output error');
  }

  get sharedDisk(): MemoryKvDisk {
    return this.shared;
  }
}

async function applyNext(machine: ShardStateMachine, command: ShardCommand) {
  return machine.apply(machine.appliedIndex + 1, encodeShardCommand(command));
}

/** Group 1 at version 2, handing off buckets 5..9, four keys in each bucket. */
async function handingOff(engine: FailingEngine): Promise<ShardStateMachine> {
  const machine = await ShardStateMachine.open(engine, { gid: 1 });
  await applyNext(machine, { type: 'config', config: configOf(1, Array<number>(BUCKET_COUNT).fill(1)) });
  const alice = new TestClient('alice');
  for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
    for (const key of keysInBucket(bucket, 4)) await applyNext(machine, { type: 'kv', command: alice.put(key, 'v') });
  }
  await applyNext(machine, { type: 'config', config: configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]) });
  return machine;
}

describe('ShardStateMachine when the engine fails', () => {
  it('a failed write stops the machine until a restart reads back the disk', async () => {
    const engine = new FailingEngine(emptyMemoryKvDisk());
    const machine = await handingOff(engine);
    const indexBefore = machine.appliedIndex;
    engine.failWrites = true;
    const [key] = keysInBucket(0, 1);
    await assert.rejects(
      applyNext(machine, { type: 'kv', command: new TestClient('bob').put(key!, 'w') }),
      StoreFailedError,
    );
    engine.failWrites = false;
    assert.throws(() => machine.get(utf8(key!)), StoreFailedError);
    assert.throws(() => machine.exportBucket(5, 2), StoreFailedError);
    const restarted = await ShardStateMachine.open(new FailingEngine(engine.sharedDisk), { gid: 1 });
    assert.equal(restarted.appliedIndex, indexBefore);
    assert.equal(restarted.dedupEntry('bob'), undefined);
    assert.equal(textOf(restarted.get(utf8(key!))), 'v');
  });

  it('a bucket clear that fails halfway is finished by the restart, at the deleteBucket index', async () => {
    const engine = new FailingEngine(emptyMemoryKvDisk());
    const machine = await handingOff(engine);
    engine.failClears = true;
    const deleteIndex = machine.appliedIndex + 1;
    await assert.rejects(
      machine.applyBatch([
        {
          index: deleteIndex,
          term: 1,
          command: encodeShardCommand({ type: 'deleteBucket', bucket: 5, configVersion: 2 }),
        },
        { index: deleteIndex + 1, term: 1, command: null },
      ]),
      (error: Error) => error instanceof StoreFailedError && /clear of deleted bucket 5/.test(error.message),
    );
    const bucket5 = (entries: [string, string][]) => entries.filter(([key]) => key.startsWith('010005'));
    assert.equal(bucket5(await dumpEngine(engine)).length, 2, 'half of the bucket should be left');

    const restartedEngine = new FailingEngine(engine.sharedDisk);
    const restarted = await ShardStateMachine.open(restartedEngine, { gid: 1 });
    assert.equal(restarted.appliedIndex, deleteIndex, 'the write before the clear holds the deleteBucket');
    assert.equal(restarted.bucketStates().has(5), false);
    assert.deepEqual(bucket5(await dumpEngine(restartedEngine)), []);
    assert.ok(!(await dumpEngine(restartedEngine)).some(([key]) => key.startsWith('0005')), 'the pending key stayed');
    assert.equal(errorCode(await applyNext(restarted, { type: 'deleteBucket', bucket: 6, configVersion: 2 })), null);
  });
});
