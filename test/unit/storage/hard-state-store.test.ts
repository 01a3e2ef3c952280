import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EMPTY_HARD_STATE } from '../../../src/raft/types.js';
import { HardStateCorruptionError } from '../../../src/storage/errors.js';
import { encodeHardState, HardStateStore } from '../../../src/storage/hard-state-store.js';

async function inTempDirectory(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-hard-state-'));
  try {
    await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function rejectsAsCorrupt(store: HardStateStore, problem: RegExp): Promise<void> {
  await assert.rejects(store.load(), (error: unknown) => {
    assert.ok(error instanceof HardStateCorruptionError, `expected a HardStateCorruptionError, got ${String(error)}`);
    assert.equal(error.path, store.filePath);
    assert.ok(error.message.includes(store.filePath), error.message);
    assert.match(error.message, /restore this node from its peers/);
    assert.match(error.message, problem);
    return true;
  });
}

describe('HardStateStore', () => {
  it('loads the empty hard state when nothing was ever saved', async () => {
    await inTempDirectory(async (directory) => {
      assert.deepEqual(await new HardStateStore(path.join(directory, 'hard-state')).load(), EMPTY_HARD_STATE);
    });
  });

  it('round-trips term, vote and commit, with and without a vote, across store instances', async () => {
    await inTempDirectory(async (directory) => {
      const filePath = path.join(directory, 'hard-state');
      const states = [
        { term: 1, votedFor: 3, commit: 0 },
        { term: 2, votedFor: null, commit: 17 },
        { term: Number.MAX_SAFE_INTEGER, votedFor: 0, commit: 2 ** 40 },
      ];
      for (const state of states) {
        await new HardStateStore(filePath).save(state);
        assert.deepEqual(await new HardStateStore(filePath).load(), state);
      }
    });
  });

  it('applies concurrent saves in call order', async () => {
    await inTempDirectory(async (directory) => {
      const store = new HardStateStore(path.join(directory, 'hard-state'));
      await Promise.all([1, 2, 3, 4, 5].map((term) => store.save({ term, votedFor: term, commit: term })));
      assert.deepEqual(await store.load(), { term: 5, votedFor: 5, commit: 5 });
    });
  });

  it('detects a flipped bit and names the file', async () => {
    await inTempDirectory(async (directory) => {
      const store = new HardStateStore(path.join(directory, 'hard-state'));
      await store.save({ term: 9, votedFor: 2, commit: 4 });
      const bytes = await readFile(store.filePath);
      bytes[15] = (bytes[15] ?? 0) ^ 0x10;
      await writeFile(store.filePath, bytes);
      await rejectsAsCorrupt(store, /checksum mismatch/);
    });
  });

  it('detects a truncated file and one with bytes after the record', async () => {
    await inTempDirectory(async (directory) => {
      const store = new HardStateStore(path.join(directory, 'hard-state'));
      const bytes = encodeHardState({ term: 3, votedFor: null, commit: 1 });
      await writeFile(store.filePath, bytes.subarray(0, bytes.byteLength - 1));
      await rejectsAsCorrupt(store, /runs past the end/);
      await writeFile(store.filePath, Buffer.alloc(0));
      await rejectsAsCorrupt(store, /header needs 8 bytes/);
      await writeFile(store.filePath, Buffer.concat([bytes, Buffer.from([0])]));
      await rejectsAsCorrupt(store, /unexpected bytes follow/);
    });
  });

  it('leaves no temp files behind, and removes those a crash left', async () => {
    await inTempDirectory(async (directory) => {
      const store = new HardStateStore(path.join(directory, 'hard-state'));
      for (let term = 1; term <= 5; term++) await store.save({ term, votedFor: null, commit: 0 });
      assert.deepEqual(await readdir(directory), ['hard-state']);
      await writeFile(path.join(directory, 'hard-state.tmp-999-1'), 'half a write');
      assert.deepEqual(await store.load(), { term: 5, votedFor: null, commit: 0 });
      assert.deepEqual(await readdir(directory), ['hard-state']);
    });
  });
});
