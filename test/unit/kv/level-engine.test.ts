import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LevelKvEngine } from '../../../src/kv/level-engine.js';
import { engineSuite } from './engine-suite.js';

engineSuite('LevelKvEngine', async () => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-kv-engine-'));
  return {
    open: () => LevelKvEngine.open(path.join(directory, 'kv')),
    destroy: () => rm(directory, { recursive: true, force: true }),
  };
});

describe('LevelKvEngine', () => {
  it('says which directory it could not open and what to do when another engine holds it', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-kv-engine-'));
    const engine = await LevelKvEngine.open(directory);
    try {
      await assert.rejects(LevelKvEngine.open(directory), (error: Error) => {
        assert.match(error.message, new RegExp(`could not open the kv store in ${directory}`));
        assert.match(error.message, /stop it first/);
        return true;
      });
    } finally {
      await engine.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
