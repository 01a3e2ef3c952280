/**
 * Which exit code a server process ends with when its node stops: a
 * supervisor tells a disk to check (74) from corrupt files to restore (65)
 * from a bug (70), however deep the cause sits in the error's chain.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyNodeFailure, EXIT_CODES } from '../../../src/cli/node-failure.js';
import { DiskWriteError, LogCorruptionError, StoreFailedError } from '../../../src/storage/errors.js';

const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });

describe('the exit code of a node that stopped', () => {
  it('is 74 for a failed write or fsync, also when the state machine wrapped it', () => {
    const disk = new DiskWriteError('fdatasync', '/data/raft/log/1.log', 'EIO', eio);
    assert.equal(classifyNodeFailure(disk), 'diskFailure');
    const wrapped = new StoreFailedError('the kv engine write of put at log index 9', disk);
    assert.equal(classifyNodeFailure(wrapped), 'diskFailure');
    assert.equal(EXIT_CODES[classifyNodeFailure(wrapped)], 74);
  });

  it('is 65 for corrupt files, 70 for anything else', () => {
    const corrupt = new LogCorruptionError('/data/raft/log/1.log', 0, 'checksum mismatch');
    assert.equal(EXIT_CODES[classifyNodeFailure(new Error('opening failed', { cause: corrupt }))], 65);
    assert.equal(EXIT_CODES[classifyNodeFailure(new Error('a bug'))], 70);
    assert.equal(
      EXIT_CODES[classifyNodeFailure(eio)],
      70,
      'an errno the stores did not wrap is no disk fault of theirs',
    );
  });

  it('says what to do for each errno: free space when full, check the disk otherwise', () => {
    const full = new DiskWriteError('write', '/data/raft/log/1.log', 'ENOSPC', new Error('ENOSPC'));
    assert.ok(full.isDiskFull);
    assert.match(
      full.message,
      /^could not write \/data\/raft\/log\/1\.log: ENOSPC; the file system holding \/data\/raft\/log is full/,
    );
    const readOnly = new DiskWriteError('rename', '/data/raft/hard-state', 'EROFS', new Error('EROFS'));
    assert.match(readOnly.message, /is read-only/);
    assert.match(new DiskWriteError('fsync', '/data/x', 'EIO', eio).message, /check the disk/);
  });
});
