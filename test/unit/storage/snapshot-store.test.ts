import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { SnapshotMeta } from '../../../src/raft/index.js';
import type { InstallStep } from '../../../src/storage/index.js';
import { SnapshotCorruptionError, SnapshotStore } from '../../../src/storage/index.js';

const membership = { voters: [1, 2, 3], learners: [] };
const directories: string[] = [];

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-snapshots-'));
  directories.push(directory);
  return directory;
}

after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/** Deterministic bytes: snapshot `seed`'s content. */
function bytes(sizeBytes: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: sizeBytes }, (_, k) => (k * 31 + seed * 7) & 0xff);
}

function chunked(data: Uint8Array, chunkBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes)
    out.push(data.subarray(offset, offset + chunkBytes));
  return out;
}

async function readAll(store: SnapshotStore, index: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of store.chunks(index, 1000)) parts.push(chunk);
  return new Uint8Array(Buffer.concat(parts));
}

async function receive(store: SnapshotStore, meta: SnapshotMeta, data: Uint8Array, chunkBytes: number): Promise<void> {
  let offset = 0;
  for (const chunk of chunked(data, chunkBytes)) {
    await store.receiveChunk(meta, offset, chunk);
    offset += chunk.byteLength;
  }
}

describe('SnapshotStore', () => {
  it('writes a snapshot from chunks and reads it back in other chunks, after a reopen too', async () => {
    const directory = await freshDirectory();
    const data = bytes(10_000, 1);
    const store = await SnapshotStore.open(directory);
    const stored = await store.write({ index: 10, term: 2, membership }, chunked(data, 777));
    assert.deepEqual(stored.meta, { index: 10, term: 2, membership, sizeBytes: 10_000 });
    assert.deepEqual(await readAll(store, 10), data);
    assert.deepEqual(await store.readChunk(10, 9_990, 100), data.slice(9_990));
    await store.close();
    const reopened = await SnapshotStore.open(directory);
    assert.deepEqual(reopened.latest?.meta, stored.meta);
    assert.deepEqual(await readAll(reopened, 10), data);
  });

  it('receives a snapshot chunk by chunk, restarts a transfer at offset 0, and installs it as the latest', async () => {
    const store = await SnapshotStore.open(await freshDirectory());
    await store.write({ index: 5, term: 1, membership }, [bytes(100, 5)]);
    const data = bytes(5_000, 2);
    const meta: SnapshotMeta = { index: 40, term: 3, membership, sizeBytes: data.byteLength };
    await store.receiveChunk(meta, 0, data.subarray(0, 1000));
    await receive(store, meta, data, 512); // the leader started over
    const installed = await store.installReceived(meta);
    assert.equal(store.latest, installed);
    assert.deepEqual(await readAll(store, 40), data);
    await assert.rejects(store.receiveChunk(meta, 4096, data.subarray(0, 10)), /without a transfer under way/);
  });

  it('refuses to install a snapshot it did not fully receive', async () => {
    const store = await SnapshotStore.open(await freshDirectory());
    const data = bytes(3_000, 3);
    const meta: SnapshotMeta = { index: 7, term: 1, membership, sizeBytes: data.byteLength };
    await store.receiveChunk(meta, 0, data.subarray(0, 1000));
    await assert.rejects(store.installReceived(meta), /has 1000 of 3000 bytes/);
    await assert.rejects(store.receiveChunk(meta, 2000, data.subarray(2000)), /expected 1000/);
  });

  for (const crashAfter of ['before any step', 'synced', 'renamed', 'metaWritten'] as const) {
    it(`a crash while installing (${crashAfter}) leaves the old snapshot or the new one, whole`, async () => {
      const directory = await freshDirectory();
      const store = await SnapshotStore.open(directory);
      const old = bytes(2_000, 4);
      await store.write({ index: 20, term: 2, membership }, [old]);
      const data = bytes(6_000, 5);
      const meta: SnapshotMeta = { index: 60, term: 4, membership, sizeBytes: data.byteLength };
      await receive(store, meta, data, 1024);
      if (crashAfter !== 'before any step') {
        store.afterInstallStep = (step: InstallStep) => {
          if (step === crashAfter) throw new Error('crash');
        };
        await assert.rejects(store.installReceived(meta), /crash/);
      }
      // The process dies here; a new one opens the directory.
      const reopened = await SnapshotStore.open(directory);
      const expectNew = crashAfter === 'metaWritten';
      assert.equal(reopened.latest?.meta.index, expectNew ? 60 : 20);
      assert.deepEqual(await readAll(reopened, expectNew ? 60 : 20), expectNew ? data : old);
      const names = (await readdir(directory)).sort();
      assert.ok(!names.includes('incoming.part'), `leftovers: ${names.join(' ')}`);
      assert.equal(names.filter((name) => name.endsWith('.snap')).length, expectNew ? 2 : 1, names.join(' '));
      await store.close();
    });
  }

  it('keeps the snapshots a transfer still reads, and prunes the rest', async () => {
    const directory = await freshDirectory();
    const store = await SnapshotStore.open(directory);
    for (const index of [10, 20, 30, 40]) await store.write({ index, term: 1, membership }, [bytes(100, index)]);
    await store.prune([20]);
    assert.deepEqual(store.indexes, [20, 40]);
    assert.equal((await readdir(directory)).length, 4);
  });

  it('detects a damaged snapshot: bytes that fail their checksum, a wrong size, a bad meta file', async () => {
    const directory = await freshDirectory();
    const store = await SnapshotStore.open(directory);
    const stored = await store.write({ index: 9, term: 1, membership }, [bytes(4_000, 9)]);
    const dataPath = path.join(directory, `${String(9).padStart(20, '0')}-1.snap`);
    const damaged = await readFile(dataPath);
    damaged.writeUInt8(damaged.readUInt8(1234) ^ 0x10, 1234);
    await writeFile(dataPath, damaged);
    await assert.rejects(readAll(store, stored.meta.index), (error: unknown) => {
      assert.ok(error instanceof SnapshotCorruptionError);
      assert.match(error.message, /\.snap is corrupt .*restore this node from its peers/);
      return true;
    });
    await writeFile(dataPath, damaged.subarray(0, 100));
    await assert.rejects(SnapshotStore.open(directory), /expected 4000 bytes/);
    await writeFile(`${dataPath}.meta`, '{"version":1}\n123\n');
    await assert.rejects(SnapshotStore.open(directory), /checksum does not match/);
  });
});
