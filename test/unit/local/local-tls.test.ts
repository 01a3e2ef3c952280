/** `raftkv local --tls`: certificates made once in DIR/tls, and a directory that has them stays TLS. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { localTls, tlsFlags } from '../../../src/local/local-tls.js';

describe('raftkv local --tls certificates', () => {
  it('are made on the first --tls start, kept after, and used without --tls too', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-local-tls-'));
    try {
      assert.equal(await localTls(directory, false, '127.0.0.1'), null, 'a plaintext cluster stays plaintext');
      const files = await localTls(directory, true, '127.0.0.1');
      assert.ok(files !== null);
      assert.equal(path.dirname(files.ca), path.join(directory, 'tls'));
      const certificate = await readFile(files.cert, 'utf8');
      assert.deepEqual(await localTls(directory, true, '127.0.0.1'), files);
      assert.deepEqual(await localTls(directory, false, '127.0.0.1'), files, 'resumed without --tls: still TLS');
      assert.equal(await readFile(files.cert, 'utf8'), certificate, 'the same certificate, not a new one');
      assert.deepEqual(tlsFlags(files), ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
