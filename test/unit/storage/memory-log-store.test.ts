import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyMemoryLogDisk, MemoryLogStore } from '../../../src/storage/memory-log-store.js';
import { commands, logStoreSuite } from './log-store-suite.js';

logStoreSuite('MemoryLogStore', () => {
  // The disk outlives each store, as a real disk outlives a process.
  const disk = emptyMemoryLogDisk();
  return Promise.resolve({
    open: () => Promise.resolve(new MemoryLogStore(disk)),
    destroy: () => Promise.resolve(),
  });
});

describe('MemoryLogStore', () => {
  it('keeps its durable state in the disk object a simulator holds across crashes', async () => {
    const disk = emptyMemoryLogDisk();
    const store = new MemoryLogStore(disk);
    await store.load();
    await store.append(commands(1, 3, 1));
    await store.compact(1);
    // A crash: the store is dropped without close(), and a new one starts over the same disk.
    assert.deepEqual(await new MemoryLogStore(disk).load(), { firstIndex: 2, entries: commands(2, 3, 1) });
  });
});
