/**
 * The segment being written ends in zeros written ahead of its records
 * (segmented-log-store.ts, "Preallocation"): recovery must take them for free
 * space, not damage, and still tell a torn write in them from damage no
 * crash explains; the zeros must grow a chunk at a time, and a closed
 * segment must keep only its records.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Entry } from '../../../src/raft/types.js';
import { injectDiskFaults } from '../../../src/storage/disk-fault-injection.js';
import { encodeEntryRecord } from '../../../src/storage/entry-codec.js';
import { DiskWriteError, LogCorruptionError, StoreFailedError } from '../../../src/storage/errors.js';
import { PREALLOCATE_BYTES_DEFAULT } from '../../../src/storage/segmented-log-store.js';
import { command, commands } from './log-store-suite.js';
import { inTempDirectory, onlySegment, openLoaded, segmentFileNames, writeAt, writeLog } from './segment-files.js';

const FIVE = commands(1, 5, 1);

/** Commands whose records are exactly `recordBytes` long each. */
function sizedCommands(first: number, last: number, recordBytes: number): Entry[] {
  const overheadBytes = encodeEntryRecord(command(first, 1, '')).byteLength;
  return commands(first, last, 1).map((entry) => command(entry.index, 1, 'x'.repeat(recordBytes - overheadBytes)));
}

async function fileSize(filePath: string): Promise<number> {
  return (await stat(filePath)).size;
}

describe('SegmentedLogStore preallocation', () => {
  it('a reopened log finds every entry before the zeros, reports no torn tail, and appends where the records end', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, FIVE);
      const { filePath, bytes, fileBytes } = await onlySegment(directory);
      assert.equal(fileBytes, PREALLOCATE_BYTES_DEFAULT, 'the file is a chunk of zeros long, records first');

      const { store, entries } = await openLoaded(directory);
      assert.deepEqual(entries, FIVE);
      assert.equal(store.tornTail, null);
      assert.equal(store.sizeBytes, bytes.byteLength, 'sizeBytes counts records, not zeros');
      await store.append(commands(6, 7, 1));
      await store.close();
      assert.equal(await fileSize(filePath), fileBytes, 'nothing cut, nothing grown: the appends went into the zeros');

      const reopened = await openLoaded(directory);
      assert.deepEqual(reopened.entries, commands(1, 7, 1));
      assert.equal(reopened.store.tornTail, null);
      await reopened.store.close();
    });
  });

  it('a torn write inside the zeros is cut as a torn tail, and appends after the cut survive a restart', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, FIVE);
      const { filePath, bytes } = await onlySegment(directory);
      // The first 30 bytes of the next record: header, entry header and 4 bytes of its command ('v6' and more).
      const next = encodeEntryRecord(command(6, 1, 'v6 and more'));
      await writeAt(filePath, bytes.byteLength, next.subarray(0, 30));

      const { store, entries } = await openLoaded(directory);
      assert.deepEqual(entries, FIVE);
      assert.equal(store.tornTail?.offsetBytes, bytes.byteLength);
      assert.equal(store.tornTail?.bytesDropped, 30);
      assert.match(store.tornTail?.problem ?? '', /checksum mismatch/);
      assert.equal(await fileSize(filePath), bytes.byteLength, 'cut where the torn write began');
      await store.append([command(6, 2, 'after the cut')]);
      await store.close();

      const reopened = await openLoaded(directory);
      assert.deepEqual(reopened.entries, [...FIVE, command(6, 2, 'after the cut')]);
      assert.equal(reopened.store.tornTail, null);
      await reopened.store.close();
    });
  });

  it('refuses a log whose zeros after the last record are followed by other bytes, and leaves the file alone', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, FIVE);
      const { filePath, bytes } = await onlySegment(directory);
      await writeAt(filePath, bytes.byteLength + 100, Buffer.alloc(40, 0xab));
      const damaged = await readFile(filePath);

      await assert.rejects(openLoaded(directory), (error: unknown) => {
        assert.ok(error instanceof LogCorruptionError, `expected a LogCorruptionError, got ${String(error)}`);
        assert.equal(error.path, filePath);
        assert.equal(error.offsetBytes, bytes.byteLength);
        assert.match(error.message, /zeros where the next record should start, then data from byte offset \d+/);
        assert.ok(error.message.includes(`byte offset ${bytes.byteLength + 100}`), error.message);
        assert.match(error.message, /restore this node from its peers/);
        return true;
      });
      assert.deepEqual(await readFile(filePath), damaged, 'a corrupt log is reported, never cut');
    });
  });

  it('grows the zeros a chunk at a time up to the segment limit, and cuts a closed segment to its records', async () => {
    await inTempDirectory(async (directory) => {
      // 120-byte records: 41 fit a 5,000-byte segment (4,920 bytes), the zeros grow 1,500 at a time.
      const options = { segmentBytesMax: 5_000, preallocateBytes: 1_500 };
      const entries = sizedCommands(1, 100, 120);
      const { store } = await openLoaded(directory, options);
      const sizesSeen = new Set<number>();
      for (const entry of entries.slice(0, 41)) {
        await store.append([entry]);
        sizesSeen.add(await fileSize(store.segmentPaths[0]!));
      }
      assert.deepEqual([...sizesSeen], [1_500, 3_000, 4_500, 5_000], 'chunk by chunk, never past segmentBytesMax');
      for (const entry of entries.slice(41)) await store.append([entry]);

      const names = await segmentFileNames(directory);
      assert.equal(names.length, 3, `100 records of 41 a segment: ${names.join(', ')}`);
      const sizes = await Promise.all(store.segmentPaths.map(fileSize));
      assert.deepEqual(sizes.slice(0, 2), [4_920, 4_920], 'closed segments hold their records and nothing else');
      assert.equal(sizes[2], 3_000, '18 records (2,160 bytes) in the last segment, zeros up to its second chunk');
      // One sync an append (the zeros ride along in the write that passes them), one a closed segment's cut.
      assert.equal(store.syncCount, 100 + 2);
      await store.close();

      const reopened = await openLoaded(directory, options);
      assert.deepEqual(reopened.entries, entries);
      assert.equal(reopened.store.tornTail, null);
      await reopened.store.close();
    });
  });

  it('grows the zeros by a batch larger than a chunk, and puts none after a batch larger than a segment', async () => {
    await inTempDirectory(async (directory) => {
      const options = { segmentBytesMax: 5_000, preallocateBytes: 1_000 };
      const { store } = await openLoaded(directory, options);
      await store.append(sizedCommands(1, 3, 120));
      assert.equal(await fileSize(store.segmentPaths[0]!), 1_000);
      await store.append(sizedCommands(4, 33, 120));
      assert.equal(await fileSize(store.segmentPaths[0]!), 1_000 + 3_600, 'grown by the 3,600-byte batch');
      await store.append(sizedCommands(34, 41, 120));
      assert.equal(await fileSize(store.segmentPaths[0]!), 5_000, 'a chunk more would pass segmentBytesMax');
      await store.append(sizedCommands(42, 91, 120));
      const sizes = await Promise.all(store.segmentPaths.map(fileSize));
      assert.deepEqual(sizes, [4_920, 6_000], 'a 6,000-byte batch fills a segment of its own, with no zeros after it');
      await store.close();
      const reopened = await openLoaded(directory, options);
      assert.deepEqual(reopened.entries, sizedCommands(1, 91, 120));
      await reopened.store.close();
    });
  });

  it('refuses zeros at the end of a segment that is not the last: the store cuts those before the next starts', async () => {
    await inTempDirectory(async (directory) => {
      const options = { segmentBytesMax: 300, preallocateBytes: 100 };
      await writeLog(directory, sizedCommands(1, 5, 120), options);
      const names = await segmentFileNames(directory);
      assert.ok(names.length >= 2, names.join(', '));
      const firstPath = path.join(directory, names[0]!);
      const recordsBytes = await fileSize(firstPath);
      await appendFile(firstPath, Buffer.alloc(64));
      await assert.rejects(openLoaded(directory, options), (error: unknown) => {
        assert.ok(error instanceof LogCorruptionError, String(error));
        assert.equal(error.path, firstPath);
        assert.equal(error.offsetBytes, recordsBytes);
        assert.match(error.message, /64 zero bytes follow the last record, but only the last segment file ends in/);
        return true;
      });
    });
  });

  it('a write that fails its sync ("fdatasync", the O_DSYNC part) rejects the append and fails the store', async () => {
    await inTempDirectory(async (directory) => {
      const { store } = await openLoaded(directory);
      await store.append(commands(1, 2, 1));
      injectDiskFaults((step, filePath) =>
        step === 'fdatasync' && filePath.endsWith('.log') ? { errno: 'EIO' } : null,
      );
      try {
        await assert.rejects(store.append(commands(3, 3, 1)), (error: unknown) => {
          assert.ok(error instanceof DiskWriteError, String(error));
          assert.equal(error.step, 'fdatasync');
          assert.equal(error.errno, 'EIO');
          return true;
        });
      } finally {
        injectDiskFaults(null);
      }
      await assert.rejects(store.append(commands(3, 3, 1)), StoreFailedError);
      await store.close();
      const reopened = await openLoaded(directory);
      assert.deepEqual(reopened.entries, commands(1, 2, 1));
      await reopened.store.close();
    });
  });
});
