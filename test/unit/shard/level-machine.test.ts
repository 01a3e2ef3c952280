import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LevelKvEngine } from '../../../src/kv/level-engine.js';
import { shardMachineSuite } from './machine-suite.js';

shardMachineSuite('LevelKvEngine', async () => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-shard-'));
  return {
    open: () => LevelKvEngine.open(path.join(directory, 'kv')),
    destroy: () => rm(directory, { recursive: true, force: true }),
  };
});
