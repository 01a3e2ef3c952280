/**
 * The disk stores when the disk fails under them, through the fault seam
 * (storage/disk-fault-injection.ts): a failed fdatasync (EIO), a full disk
 * (ENOSPC, with the write's first bytes on disk), a failed directory fsync.
 * Each must reject with a DiskWriteError that names the step, the file and
 * what to do; the log store must touch the file no more after a failure
 * (fsyncgate), and reopening must recover every append that resolved.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { DiskStep } from '../../../src/storage/errors.js';
import type { DiskFault } from '../../../src/storage/disk-fault-injection.js';
import { injectDiskFaults } from '../../../src/storage/disk-fault-injection.js';
import { DiskWriteError, StoreFailedError } from '../../../src/storage/errors.js';
import { HardStateStore } from '../../../src/storage/hard-state-store.js';
import { SegmentedLogStore } from '../../../src/storage/segmented-log-store.js';
import { SnapshotStore } from '../../../src/storage/snapshot-store.js';
import { commands } from './log-store-suite.js';

interface StepSeen {
  readonly step: DiskStep;
  readonly filePath: string;
}

/**
 * Fails every `step` on a file under `directory` with `fault` from the
 * moment it is armed, and records every step the stores take after the
 * first failure: a store that failed must take none on the log again.
 */
class FaultyDisk {
  readonly stepsAfterFailure: StepSeen[] = [];
  private failed = false;
  private armed: { step: DiskStep; fault: DiskFault } | null = null;

  constructor(private readonly directory: string) {
    injectDiskFaults((step, filePath) => this.decide(step, filePath));
  }

  fail(step: DiskStep, fault: DiskFault): void {
    this.armed = { step, fault };
  }

  heal(): void {
    this.armed = null;
  }

  private decide(step: DiskStep, filePath: string): DiskFault | null {
    if (!filePath.startsWith(this.directory)) return null;
    if (this.failed) this.stepsAfterFailure.push({ step, filePath });
    if (this.armed === null || this.armed.step !== step) return null;
    this.failed = true;
    return this.armed.fault;
  }
}

const directories: string[] = [];

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-disk-faults-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  injectDiskFaults(null);
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

function isDiskWriteError(step: DiskStep, errno: string, filePath: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DiskWriteError, `expected a DiskWriteError, got ${String(error)}`);
    assert.equal(error.step, step);
    assert.equal(error.errno, errno);
    assert.match(error.path, filePath);
    assert.ok(error.message.includes(error.path), 'the message names the file');
    return true;
  };
}

/** A pattern that matches `text` and nothing else. */
function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

describe('SegmentedLogStore when the disk fails', () => {
  it('a failed fdatasync rejects the append, then the store refuses everything without touching the file again', async () => {
    const directory = await freshDirectory();
    const disk = new FaultyDisk(directory);
    const store = await SegmentedLogStore.open(directory);
    await store.load();
    await store.append(commands(1, 3, 1));
    disk.fail('fdatasync', { errno: 'EIO' });

    await assert.rejects(store.append(commands(4, 4, 1)), isDiskWriteError('fdatasync', 'EIO', /\.log$/));
    await assert.rejects(store.append(commands(4, 4, 1)), StoreFailedError);
    await assert.rejects(store.compact(2), StoreFailedError);
    await assert.rejects(store.append(commands(5, 5, 1)), (error: Error) =>
      /restart the node so that recovery reads back what is really on disk/.test(error.message),
    );
    assert.deepEqual(disk.stepsAfterFailure, [], 'no write, fsync or delete after the failed fdatasync');
    await store.close();

    disk.heal();
    const reopened = await SegmentedLogStore.open(directory);
    const loaded = await reopened.load();
    assert.deepEqual(loaded.entries.slice(0, 3), commands(1, 3, 1), 'every append that resolved is there');
    await reopened.close();
  });

  it('the advice of a failed fsync says the file is unknown now and to check the disk', async () => {
    const directory = await freshDirectory();
    const disk = new FaultyDisk(directory);
    const store = await SegmentedLogStore.open(directory);
    await store.load();
    disk.fail('fdatasync', { errno: 'EIO' });
    await assert.rejects(store.append(commands(1, 1, 1)), (error: Error) => {
      assert.match(error.message, /^could not fdatasync .*00000000000000000001-000001\.log: EIO/);
      assert.match(error.message, /check the disk .*start the node again/);
      return true;
    });
    await store.close();
  });

  it('a full disk leaves half a batch in the file: the error says to free space, and reopening cuts it and keeps the rest', async () => {
    const directory = await freshDirectory();
    const disk = new FaultyDisk(directory);
    const store = await SegmentedLogStore.open(directory);
    await store.load();
    await store.append(commands(1, 5, 1));
    const sizeBytes = store.sizeBytes;
    // 10 bytes: a record's length, checksum, version and kind; its index would begin with zeros, and zeros at
    // the end of a torn write cannot be told from the preallocated ones after it.
    disk.fail('write', { errno: 'ENOSPC', bytesWritten: 10 });

    await assert.rejects(store.append(commands(6, 8, 1)), (error: unknown) => {
      isDiskWriteError('write', 'ENOSPC', /\.log$/)(error);
      assert.ok((error as DiskWriteError).isDiskFull);
      assert.match((error as Error).message, new RegExp(`file system holding ${directory} is full`));
      assert.match((error as Error).message, /free space there, then start the node again/);
      return true;
    });
    assert.deepEqual(disk.stepsAfterFailure, []);
    await store.close();

    disk.heal();
    const reopened = await SegmentedLogStore.open(directory);
    const loaded = await reopened.load();
    assert.deepEqual(loaded.entries, commands(1, 5, 1));
    assert.equal(reopened.tornTail?.offsetBytes, sizeBytes, 'the torn write is cut where it began');
    assert.equal(reopened.tornTail?.bytesDropped, 10);
    await reopened.append(commands(6, 8, 1));
    await reopened.close();
    const again = await SegmentedLogStore.open(directory);
    assert.deepEqual((await again.load()).entries, commands(1, 8, 1), 'appends after the cut survive a restart');
    await again.close();
  });

  it('a failed fsync of the directory when a new segment starts rejects the append', async () => {
    const directory = await freshDirectory();
    const disk = new FaultyDisk(directory);
    const store = await SegmentedLogStore.open(directory, { segmentBytesMax: 1 });
    await store.load();
    await store.append(commands(1, 1, 1));
    disk.fail('fsyncDirectory', { errno: 'EIO' });
    // The directory itself, not a segment file in it.
    await assert.rejects(
      store.append(commands(2, 2, 1)),
      isDiskWriteError('fsyncDirectory', 'EIO', exactly(directory)),
    );
    await assert.rejects(store.append(commands(2, 2, 1)), StoreFailedError);
    await store.close();
  });
});

describe('HardStateStore and SnapshotStore when the disk fails', () => {
  it('a hard state whose fsync fails is not saved: the file still holds the state before', async () => {
    const directory = await freshDirectory();
    const disk = new FaultyDisk(directory);
    const store = new HardStateStore(path.join(directory, 'hard-state'));
    await store.save({ term: 3, votedFor: 2, commit: 7 });
    disk.fail('fsync', { errno: 'EIO' });
    await assert.rejects(
      store.save({ term: 4, votedFor: 1, commit: 9 }),
      isDiskWriteError('fsync', 'EIO', /hard-state/),
    );
    disk.heal();
    assert.deepEqual(await new HardStateStore(path.join(directory, 'hard-state')).load(), {
      term: 3,
      votedFor: 2,
      commit: 7,
    });
    assert.deepEqual((await readdir(directory)).sort(), ['hard-state'], 'the temp file of the failed save is removed');
  });

  it('a snapshot that does not fit on the disk is not published; the previous one stays the latest', async () => {
    const directory = await freshDirectory();
    const disk = new FaultyDisk(directory);
    const store = await SnapshotStore.open(directory);
    const membership = { voters: [1, 2, 3], learners: [] };
    await store.write({ index: 10, term: 2, membership }, [new Uint8Array(100).fill(1)]);
    disk.fail('write', { errno: 'ENOSPC', bytesWritten: 50 });
    await assert.rejects(
      store.write({ index: 20, term: 2, membership }, [new Uint8Array(100).fill(2)]),
      isDiskWriteError('write', 'ENOSPC', /\.part$/),
    );
    disk.heal();
    const reopened = await SnapshotStore.open(directory);
    assert.equal(reopened.latest?.meta.index, 10);
    assert.deepEqual(reopened.indexes, [10]);
    assert.ok(!(await readdir(directory)).some((name) => name.endsWith('.part')), 'the part file is removed on open');
  });
});
