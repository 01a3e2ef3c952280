import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import type { KvEngine } from '../../../src/kv/engine.js';
import { KvSnapshotCorruptionError } from '../../../src/kv/errors.js';
import { LevelKvEngine } from '../../../src/kv/level-engine.js';
import { MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { KvStateMachine } from '../../../src/kv/state-machine.js';
import { SeededRandom } from '../../../src/sim/random.js';
import { applyNext, collectChunks, dumpEngine, inTempDirectory, streamOf, TestClient, textOf } from './kv-fixtures.js';

const CHUNK_BYTES_MAX = 64 * 1024;

/** Fills `machine` with `keyCount` keys from several clients, a few values large enough to span chunks. */
async function populate(machine: KvStateMachine, keyCount: number, seed: number): Promise<void> {
  const random = new SeededRandom(seed);
  const clients = Array.from({ length: 20 }, (_, index) => new TestClient(`client-${index}`));
  for (let key = 0; key < keyCount; key++) {
    const valueBytes = key % 1000 === 0 ? 150 * 1024 : random.int(200);
    const value = Uint8Array.from({ length: valueBytes }, () => random.int(256));
    await applyNext(machine, random.pick(clients).put(`key-${key}`, value), 2);
  }
  await applyNext(machine, clients[0]!.delete('key-1'), 3);
  await applyNext(machine, clients[1]!.append('key-2', 'tail'), 3);
  await machine.skip(machine.appliedIndex + 1, 3);
}

async function snapshotOf(machine: KvStateMachine): Promise<Uint8Array[]> {
  return collectChunks(machine.snapshot());
}

/** The whole state two machines must agree on. */
async function stateOf(machine: KvStateMachine, engine: KvEngine) {
  return {
    appliedIndex: machine.appliedIndex,
    appliedTerm: machine.appliedTerm,
    dedup: machine.dedupEntries(),
    engine: await dumpEngine(engine),
  };
}

function corruptOneByte(chunks: readonly Uint8Array[], streamOffsetBytes: number): Uint8Array[] {
  let offsetBytes = streamOffsetBytes;
  return chunks.map((chunk) => {
    const copy = new Uint8Array(chunk);
    if (offsetBytes >= 0 && offsetBytes < copy.byteLength) copy[offsetBytes] = copy[offsetBytes]! ^ 0x5a;
    offsetBytes -= chunk.byteLength;
    return copy;
  });
}

function rechunk(chunks: readonly Uint8Array[], chunkBytes: number): Uint8Array[] {
  const stream = Buffer.concat(chunks);
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < stream.byteLength; offset += chunkBytes) {
    pieces.push(stream.subarray(offset, offset + chunkBytes));
  }
  return pieces;
}

describe('KV snapshots', () => {
  it('10k keys stream out in chunks of at most 64 KiB and restore into fresh engines, memory and disk', async () => {
    await inTempDirectory(async (directory) => {
      const sourceEngine = await LevelKvEngine.open(path.join(directory, 'source'));
      const targetDirectory = path.join(directory, 'target');
      let diskTarget = await LevelKvEngine.open(targetDirectory);
      try {
        const source = await KvStateMachine.open(sourceEngine, { snapshotChunkBytesMax: CHUNK_BYTES_MAX });
        await populate(source, 10_000, 1);
        const chunks = await snapshotOf(source);
        assert.ok(chunks.length > 30, `expected many chunks, got ${chunks.length}`);
        for (const chunk of chunks) assert.ok(chunk.byteLength <= CHUNK_BYTES_MAX);
        const expected = await stateOf(source, sourceEngine);
        assert.equal(expected.appliedIndex, 10_003);
        assert.equal(expected.appliedTerm, 3);
        assert.equal(expected.dedup.length, 20);

        const memoryTarget = new MemoryKvEngine();
        const inMemory = await KvStateMachine.open(memoryTarget);
        assert.deepEqual(await inMemory.restoreFromSnapshot(chunks, 10_003), { index: 10_003, term: 3 });
        assert.deepEqual(await stateOf(inMemory, memoryTarget), expected);

        await (await KvStateMachine.open(diskTarget)).restore(streamOf(chunks), 10_003);
        await diskTarget.close();
        diskTarget = await LevelKvEngine.open(targetDirectory);
        const reopened = await KvStateMachine.open(diskTarget);
        assert.deepEqual(await stateOf(reopened, diskTarget), expected);
        // The restored dedup table works: a retry of a client's last request is answered, not applied.
        const [clientId, entry] = expected.dedup.at(-1)!;
        assert.equal(clientId, 'client-1');
        assert.deepEqual(
          await applyNext(reopened, {
            type: 'append',
            clientId,
            sequence: entry.lastSequence,
            key: utf8('key-2'),
            value: utf8('x'),
          }),
          entry.lastReply,
        );
        assert.equal(textOf(reopened.get(utf8('key-2')))?.endsWith('tail'), true);
      } finally {
        await sourceEngine.close();
        await diskTarget.close();
      }
    });
  });

  it('is the engine state of the moment snapshot() is called, whatever is applied while it streams', async () => {
    const engine = new MemoryKvEngine();
    const machine = await KvStateMachine.open(engine, { snapshotChunkBytesMax: 100 });
    const client = new TestClient('alice');
    await applyNext(machine, client.put('a', '1'));
    const before = await stateOf(machine, engine);
    const chunks = machine.snapshot();
    await applyNext(machine, client.put('a', '2'));
    await applyNext(machine, client.put('b', '3'));
    const restoredEngine = new MemoryKvEngine();
    const restored = await KvStateMachine.open(restoredEngine);
    await restored.restoreFromSnapshot(chunks);
    assert.deepEqual(await stateOf(restored, restoredEngine), before);
  });

  it('refuses reads, applies and snapshots while a restore runs', async () => {
    const source = await KvStateMachine.open(new MemoryKvEngine());
    await applyNext(source, new TestClient('alice').put('k', 'v'));
    const chunks = await snapshotOf(source);
    const target = await KvStateMachine.open(new MemoryKvEngine());
    const restoring = target.restoreFromSnapshot(streamOf(chunks));
    assert.throws(() => target.get(utf8('k')), /get called while restore is still running/);
    assert.throws(() => target.snapshot(), /snapshot called while restore is still running/);
    await assert.rejects(target.skip(1), /while restore is still running/);
    await restoring;
    assert.equal(textOf(target.get(utf8('k'))), 'v');
  });

  it('chunks of any size restore the same state, down to one byte each', async () => {
    const engine = new MemoryKvEngine();
    const source = await KvStateMachine.open(engine);
    await populate(source, 50, 2);
    const expected = await stateOf(source, engine);
    for (const chunkBytes of [1, 7, 1000]) {
      const target = new MemoryKvEngine();
      const machine = await KvStateMachine.open(target);
      await machine.restoreFromSnapshot(rechunk(await snapshotOf(source), chunkBytes));
      assert.deepEqual(await stateOf(machine, target), expected, `chunks of ${chunkBytes} bytes`);
    }
  });

  it('an empty machine snapshots to a stream that restores to index 0 and nothing', async () => {
    const source = await KvStateMachine.open(new MemoryKvEngine());
    const engine = new MemoryKvEngine();
    const target = await KvStateMachine.open(engine);
    await applyNext(target, new TestClient('alice').put('k', 'v'));
    await target.restoreFromSnapshot(await snapshotOf(source));
    assert.equal(target.appliedIndex, 0);
    assert.deepEqual(target.dedupEntries(), []);
    assert.deepEqual(await dumpEngine(engine), [['0001', '01' + '00'.repeat(16)]]);
  });

  it('keeps its format: the stream of a one-key state is pinned byte for byte', async () => {
    const machine = await KvStateMachine.open(new MemoryKvEngine());
    await applyNext(machine, new TestClient('alice').put('k', 'v'), 2);
    const stream = Buffer.concat(await snapshotOf(machine)).toString('hex');
    const header = '00000016' + '20a72329' + '01' + '524b5653' + '01' + '0000000000000001' + '0000000000000002';
    const dedup =
      '00000023' +
      '1410de3f' +
      '02' +
      '05' +
      '616c696365' +
      '02' + // dedup entry version 2: with the client's newest clock (0 here: the test client sends none)
      '0000000000000001' +
      '0000000000000001' +
      '0000000000000000' +
      '010100';
    const pair = '00000007' + '9229c9b1' + '03' + '00000001' + '6b' + '76';
    const end = '00000011' + 'da9bf2a7' + '04' + '0000000000000001' + '0000000000000001';
    assert.equal(stream, header + dedup + pair + end);
  });
});

describe('KV snapshot damage', () => {
  async function sourceChunks(): Promise<{ chunks: Uint8Array[]; streamBytes: number }> {
    const source = await KvStateMachine.open(new MemoryKvEngine(), { snapshotChunkBytesMax: 4096 });
    await populate(source, 500, 3);
    const chunks = await snapshotOf(source);
    return { chunks, streamBytes: chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0) };
  }

  /** A target that already holds some state, so that a failed restore shows what it leaves. */
  async function occupiedTarget(): Promise<{ machine: KvStateMachine; engine: MemoryKvEngine }> {
    const engine = new MemoryKvEngine();
    const machine = await KvStateMachine.open(engine);
    await applyNext(machine, new TestClient('old').put('old', 'state'));
    return { machine, engine };
  }

  it('a corrupted byte in a middle chunk is detected, and the machine is left empty at index 0', async () => {
    const { chunks } = await sourceChunks();
    const middle = Math.floor(chunks.length / 2);
    const offset = chunks.slice(0, middle).reduce((sum, chunk) => sum + chunk.byteLength, 0) + 100;
    const { machine, engine } = await occupiedTarget();
    await assert.rejects(machine.restoreFromSnapshot(corruptOneByte(chunks, offset)), (error: Error) => {
      assert.ok(error instanceof KvSnapshotCorruptionError);
      assert.match(error.message, /kv snapshot stream is corrupt at byte offset \d+: .*fetch it again from the leader/);
      return true;
    });
    assert.equal(machine.appliedIndex, 0);
    assert.deepEqual(machine.dedupEntries(), []);
    assert.deepEqual(await dumpEngine(engine), []);
  });

  it('every one of 200 seeded single-byte corruptions anywhere in the stream is detected', async () => {
    const { chunks, streamBytes } = await sourceChunks();
    const random = new SeededRandom(11);
    for (let round = 0; round < 200; round++) {
      const offset = random.int(streamBytes);
      const machine = await KvStateMachine.open(new MemoryKvEngine());
      await assert.rejects(
        machine.restoreFromSnapshot(corruptOneByte(chunks, offset)),
        KvSnapshotCorruptionError,
        `corruption at stream offset ${offset} (seed 11, round ${round})`,
      );
    }
  });

  it('a stream cut short is detected, at a chunk boundary or inside a record', async () => {
    const { chunks } = await sourceChunks();
    const machine = await KvStateMachine.open(new MemoryKvEngine());
    await assert.rejects(machine.restoreFromSnapshot(chunks.slice(0, -1)), /ends inside a record|cut short/);
    // The end record is 8 + 17 bytes: without it, the stream stops cleanly between records.
    const bytes = rechunk(chunks, 1);
    await assert.rejects(machine.restoreFromSnapshot(bytes.slice(0, -25)), /before its end record: it was cut short/);
    await assert.rejects(machine.restoreFromSnapshot(bytes.slice(0, -17)), /ends inside a record \(8 bytes of it/);
    const withoutMiddle = [...chunks.slice(0, 3), ...chunks.slice(4)];
    await assert.rejects(machine.restoreFromSnapshot(withoutMiddle), KvSnapshotCorruptionError);
  });

  it('a stream damaged in its header, or for another index than expected, leaves the old state as it was', async () => {
    const { chunks } = await sourceChunks();
    const { machine, engine } = await occupiedTarget();
    const before = await stateOf(machine, engine);
    await assert.rejects(machine.restoreFromSnapshot(corruptOneByte(chunks, 12)), /checksum mismatch/);
    await assert.rejects(
      machine.restoreFromSnapshot(chunks, 42),
      /the snapshot ends at log index 503, but the node installs it as index 42/,
    );
    await assert.rejects(machine.restoreFromSnapshot([utf8('this is not a snapshot')]), KvSnapshotCorruptionError);
    assert.deepEqual(await stateOf(machine, engine), before);
  });
});
