import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyMemoryKvDisk, MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { bytes, engineSuite } from './engine-suite.js';

engineSuite('MemoryKvEngine', () => {
  // The disk outlives each engine, as a real disk outlives a process.
  const disk = emptyMemoryKvDisk();
  return Promise.resolve({
    open: () => Promise.resolve(new MemoryKvEngine(disk)),
    destroy: () => Promise.resolve(),
  });
});

describe('MemoryKvEngine', () => {
  it('refuses to be used after close, as the disk engine does', async () => {
    const engine = new MemoryKvEngine();
    await engine.close();
    assert.throws(() => engine.get(bytes(1)), /used after close/);
  });
});
