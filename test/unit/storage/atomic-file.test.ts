import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readFileIfExists, writeFileAtomic } from '../../../src/storage/atomic-file.js';

async function inTempDirectory(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-atomic-'));
  try {
    await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

describe('writeFileAtomic', () => {
  it('creates and replaces a file whole, leaving no temp file behind', async () => {
    await inTempDirectory(async (directory) => {
      const filePath = path.join(directory, 'state');
      await writeFileAtomic(filePath, Buffer.from('first, and longer than the second'));
      await writeFileAtomic(filePath, Buffer.from('second'));
      assert.equal(await readFile(filePath, 'utf8'), 'second');
      await Promise.all([1, 2, 3].map((n) => writeFileAtomic(path.join(directory, `file-${n}`), Buffer.from([n]))));
      assert.deepEqual((await readdir(directory)).sort(), ['file-1', 'file-2', 'file-3', 'state']);
    });
  });

  it('removes its temp file when the rename fails, and reports why', async () => {
    await inTempDirectory(async (directory) => {
      // A directory with content cannot be replaced by a file.
      const target = path.join(directory, 'occupied');
      await mkdir(path.join(target, 'inside'), { recursive: true });
      await assert.rejects(writeFileAtomic(target, Buffer.from('x')), /EISDIR|ENOTEMPTY|EEXIST/);
      assert.deepEqual(await readdir(directory), ['occupied']);
    });
  });
});

describe('readFileIfExists', () => {
  it('returns null for a missing file and the bytes of an existing one', async () => {
    await inTempDirectory(async (directory) => {
      assert.equal(await readFileIfExists(path.join(directory, 'missing')), null);
      await writeFileAtomic(path.join(directory, 'present'), Buffer.from([1, 2, 3]));
      assert.deepEqual(await readFileIfExists(path.join(directory, 'present')), Buffer.from([1, 2, 3]));
    });
  });
});
