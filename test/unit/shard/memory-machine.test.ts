import { emptyMemoryKvDisk, MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { shardMachineSuite } from './machine-suite.js';

shardMachineSuite('MemoryKvEngine', () => {
  // The disk outlives each engine, as a real disk outlives a process.
  const disk = emptyMemoryKvDisk();
  return Promise.resolve({
    open: () => Promise.resolve(new MemoryKvEngine(disk)),
    destroy: () => Promise.resolve(),
  });
});
