import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Entry } from '../../../src/raft/types.js';
import { encodeEntryRecord } from '../../../src/storage/entry-codec.js';
import { LogCorruptionError } from '../../../src/storage/errors.js';
import { encodeRecord } from '../../../src/storage/record.js';
import { parseSegmentFileName, segmentFileName } from '../../../src/storage/segment-file.js';
import type { SegmentedLogStoreOptions } from '../../../src/storage/segmented-log-store.js';
import { SegmentedLogStore } from '../../../src/storage/segmented-log-store.js';
import type { LogStoreHarness } from './log-store-suite.js';
import { command, commands, config, logStoreSuite } from './log-store-suite.js';
import { inTempDirectory, onlySegment, openLoaded, segmentFileNames, writeAt, writeLog } from './segment-files.js';

function diskHarness(options: SegmentedLogStoreOptions): () => Promise<LogStoreHarness> {
  return async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-log-suite-'));
    return {
      open: () => SegmentedLogStore.open(path.join(directory, 'log'), options),
      destroy: () => rm(directory, { recursive: true, force: true }),
    };
  };
}

logStoreSuite('SegmentedLogStore', diskHarness({}));
// Segments of a record or two, so that every suite scenario also rolls over and deletes files.
logStoreSuite('SegmentedLogStore with tiny segments', diskHarness({ segmentBytesMax: 64 }));

/** The length of `bytes` without its trailing zeros: how much of a torn write recovery can tell from zeros. */
function withoutTrailingZeros(bytes: Buffer): number {
  let endBytes = bytes.byteLength;
  while (endBytes > 0 && bytes[endBytes - 1] === 0) endBytes -= 1;
  return endBytes;
}

/** Byte offset of each entry's record in a segment holding `entries` from its start. */
function recordOffsets(entries: readonly Entry[]): number[] {
  const offsets: number[] = [];
  let offsetBytes = 0;
  for (const entry of entries) {
    offsets.push(offsetBytes);
    offsetBytes += encodeEntryRecord(entry).byteLength;
  }
  return offsets;
}

function withBitFlipped(bytes: Buffer, offsetBytes: number, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offsetBytes] = (copy[offsetBytes] ?? 0) ^ (1 << bit);
  return copy;
}

async function rejectsWithCorruption(
  loading: Promise<unknown>,
  filePath: string,
  offsetBytes: number,
  problem: RegExp,
): Promise<void> {
  await assert.rejects(loading, (error: unknown) => {
    assert.ok(error instanceof LogCorruptionError, `expected a LogCorruptionError, got ${String(error)}`);
    assert.equal(error.path, filePath);
    assert.equal(error.offsetBytes, offsetBytes);
    assert.ok(error.message.includes(filePath), error.message);
    assert.ok(error.message.includes(`byte offset ${offsetBytes}`), error.message);
    assert.match(error.message, /restore this node from its peers/);
    assert.match(error.message, problem);
    return true;
  });
}

const FIVE = commands(1, 5, 1);
const LAST_RECORD_START = recordOffsets(FIVE)[4] ?? -1;

describe('SegmentedLogStore recovery', () => {
  it('cuts a torn tail at every byte offset of the last record, appends after it and survives a restart', async () => {
    await inTempDirectory(async (root) => {
      const template = path.join(root, 'template');
      await writeLog(template, FIVE);
      const { filePath, bytes } = await onlySegment(template);
      const fileName = path.basename(filePath);
      assert.equal(bytes.byteLength, LAST_RECORD_START + encodeEntryRecord(command(5, 1, 'v5')).byteLength);
      for (let cutBytes = LAST_RECORD_START; cutBytes < bytes.byteLength; cutBytes++) {
        const directory = path.join(root, `cut-${cutBytes}`);
        await mkdir(directory);
        await writeFile(path.join(directory, fileName), bytes.subarray(0, cutBytes));

        const { store, entries } = await openLoaded(directory);
        assert.deepEqual(entries, FIVE.slice(0, 4), `file cut to ${cutBytes} bytes`);
        const tornBytes = withoutTrailingZeros(bytes.subarray(0, cutBytes)) - LAST_RECORD_START;
        if (tornBytes <= 0) {
          // Nothing, or only the zero high bytes of the record's length: that reads as preallocated space.
          assert.equal(store.tornTail, null, 'a file that ends between records, or in zeros after them, is not torn');
          assert.equal((await stat(path.join(directory, fileName))).size, cutBytes, 'the zeros are kept for appends');
        } else {
          assert.equal(store.tornTail?.offsetBytes, LAST_RECORD_START);
          assert.equal(store.tornTail?.bytesDropped, tornBytes);
          assert.equal((await stat(path.join(directory, fileName))).size, LAST_RECORD_START);
        }
        await store.append([command(5, 2, 'again')]);
        await store.close();

        const reopened = await openLoaded(directory);
        assert.deepEqual(reopened.entries, [...FIVE.slice(0, 4), command(5, 2, 'again')], `cut ${cutBytes}, reopened`);
        assert.equal(reopened.store.tornTail, null);
        await reopened.store.close();
      }
    });
  });

  it('treats a flipped bit anywhere in the last record as a torn tail', async () => {
    await inTempDirectory(async (root) => {
      const template = path.join(root, 'template');
      await writeLog(template, FIVE);
      const { filePath, bytes } = await onlySegment(template);
      for (let offsetBytes = LAST_RECORD_START; offsetBytes < bytes.byteLength; offsetBytes++) {
        const directory = path.join(root, `flip-${offsetBytes}`);
        await mkdir(directory);
        await writeFile(
          path.join(directory, path.basename(filePath)),
          withBitFlipped(bytes, offsetBytes, offsetBytes % 8),
        );
        const { store, entries } = await openLoaded(directory);
        assert.deepEqual(entries, FIVE.slice(0, 4), `bit flipped at byte ${offsetBytes}`);
        assert.equal(store.tornTail?.offsetBytes, LAST_RECORD_START);
        await store.close();
      }
    });
  });

  it('refuses to load a log with a flipped bit in a record that intact records follow, naming file and offset', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, FIVE);
      const { filePath, bytes } = await onlySegment(directory);
      const damagedOffset = recordOffsets(FIVE)[1] ?? -1;
      for (const flippedAt of [damagedOffset + 2, damagedOffset + 5, damagedOffset + 20]) {
        const damaged = withBitFlipped(bytes, flippedAt, 3);
        await writeFile(filePath, damaged);
        const store = await SegmentedLogStore.open(directory);
        await rejectsWithCorruption(store.load(), filePath, damagedOffset, /an intact record follows/);
        await store.close();
        assert.deepEqual(await readFile(filePath), damaged, 'a corrupt log is reported, never cut');
      }
    });
  });

  it('refuses to load a log whose damage is at the end of a segment that is not the last', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, commands(1, 6, 1), { segmentBytesMax: 60 });
      const names = await segmentFileNames(directory);
      assert.ok(names.length >= 2, `expected several segments, found ${names.join(', ')}`);
      const firstPath = path.join(directory, names[0] ?? '');
      const bytes = await readFile(firstPath);
      await writeFile(firstPath, bytes.subarray(0, bytes.byteLength - 3));
      const store = await SegmentedLogStore.open(directory);
      const lastRecordStart = bytes.byteLength - encodeEntryRecord(command(2, 1, 'v2')).byteLength;
      await rejectsWithCorruption(
        store.load(),
        firstPath,
        lastRecordStart,
        /not the last segment|can only be at the end/,
      );
      await store.close();
    });
  });

  it('refuses a record that passes its checksum but holds no entry, even at the tail', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, FIVE);
      const { filePath, bytes } = await onlySegment(directory);
      await writeAt(filePath, bytes.byteLength, encodeRecord(Buffer.from('this payload is not a log entry at all')));
      const store = await SegmentedLogStore.open(directory);
      await rejectsWithCorruption(store.load(), filePath, bytes.byteLength, /passes its checksum/);
      await store.close();
    });
  });

  it('takes zeros after the last record of a file without them for preallocated space, and appends there', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, FIVE);
      const { filePath, bytes } = await onlySegment(directory);
      // A file as an older version wrote it, then zeros (what a crash past its last write may leave).
      await writeFile(filePath, Buffer.concat([bytes, Buffer.alloc(4096)]));
      const { store, entries } = await openLoaded(directory);
      assert.deepEqual(entries, FIVE);
      assert.equal(store.tornTail, null);
      assert.equal((await stat(filePath)).size, bytes.byteLength + 4096, 'nothing is cut');
      await store.append([command(6, 1, 'v6')]);
      await store.close();
      const reopened = await openLoaded(directory);
      assert.deepEqual(reopened.entries, [...FIVE, command(6, 1, 'v6')]);
      await reopened.store.close();
    });
  });

  it('removes a last segment that a crash left without one whole record, and names the next one right', async () => {
    await inTempDirectory(async (directory) => {
      await writeLog(directory, commands(1, 4, 1), { segmentBytesMax: 60 });
      const names = await segmentFileNames(directory);
      const lastName = names[names.length - 1] ?? '';
      const lastPath = path.join(directory, lastName);
      await writeFile(lastPath, (await readFile(lastPath)).subarray(0, 5));
      const { store, entries } = await openLoaded(directory, { segmentBytesMax: 60 });
      assert.deepEqual(entries, commands(1, 2, 1));
      assert.deepEqual(await segmentFileNames(directory), names.slice(0, -1));
      await store.append([command(3, 2, 'x')]);
      await store.close();
      const reopened = await openLoaded(directory, { segmentBytesMax: 60 });
      assert.deepEqual(reopened.entries, [...commands(1, 2, 1), command(3, 2, 'x')]);
      await reopened.store.close();
    });
  });

  it('refuses a corrupt log meta file, naming it', async () => {
    await inTempDirectory(async (directory) => {
      const { store } = await openLoaded(directory);
      await store.append(commands(1, 5, 1));
      await store.compact(2);
      await store.close();
      const metaPath = path.join(directory, 'log-meta');
      await writeFile(metaPath, withBitFlipped(await readFile(metaPath), 12, 0));
      await assert.rejects(SegmentedLogStore.open(directory), (error: unknown) => {
        assert.ok(error instanceof LogCorruptionError);
        assert.equal(error.path, metaPath);
        assert.match(error.message, /checksum mismatch/);
        return true;
      });
    });
  });

  it('keeps every append that resolved when the process dies without close()', async () => {
    await inTempDirectory(async (directory) => {
      const crashed = await openLoaded(directory);
      await crashed.store.append(commands(1, 3, 1));
      const restarted = await openLoaded(directory);
      assert.deepEqual(restarted.entries, commands(1, 3, 1));
      await restarted.store.close();
      await crashed.store.close();
    });
  });
});

describe('SegmentedLogStore segments', () => {
  const options: SegmentedLogStoreOptions = { segmentBytesMax: 100 };

  it('rolls over to a new segment file at the size threshold, and compaction deletes covered files', async () => {
    await inTempDirectory(async (directory) => {
      const { store } = await openLoaded(directory, options);
      for (const entry of commands(1, 30, 1)) await store.append([entry]);
      const before = await segmentFileNames(directory);
      const parsed = before.map((name) => parseSegmentFileName(name) ?? assert.fail(`unparsable ${name}`));
      assert.ok(before.length >= 5, `expected many segments, found ${before.join(', ')}`);
      assert.deepEqual(
        parsed.map((name) => name.sequence),
        before.map((_, position) => position + 1),
      );
      assert.equal(parsed[0]?.firstIndex, 1);
      for (const name of before) assert.ok((await stat(path.join(directory, name))).size <= 100, name);

      await store.compact(15);
      // A file may go once the next one starts at or below 16: all its entries are then at or below 15.
      const expected = before.filter((_, position) => {
        const next = parsed[position + 1];
        return next === undefined || next.firstIndex > 16;
      });
      assert.deepEqual(await segmentFileNames(directory), expected);
      assert.ok(expected.length < before.length);
      assert.deepEqual(
        store.segmentPaths,
        expected.map((name) => path.join(directory, name)),
      );
      assert.deepEqual(await store.load(), { firstIndex: 16, entries: commands(16, 30, 1) });
      await store.close();

      const reopened = await openLoaded(directory, options);
      assert.deepEqual(reopened.entries, commands(16, 30, 1));
      assert.equal(reopened.firstIndex, 16);
      await reopened.store.close();
    });
  });

  it('never deletes a segment whose entries a later overwrite did not cover', async () => {
    await inTempDirectory(async (directory) => {
      const { store } = await openLoaded(directory, options);
      for (const entry of commands(1, 12, 1)) await store.append([entry]);
      await store.append(commands(4, 5, 2, 'over'));
      await store.compact(4);
      await store.close();
      const reopened = await openLoaded(directory, options);
      assert.deepEqual(reopened.entries, commands(5, 5, 2, 'over'));
      await reopened.store.close();
    });
  });

  it('ignores and removes segments that a compaction interrupted by a crash left behind', async () => {
    await inTempDirectory(async (root) => {
      const directory = path.join(root, 'log');
      const backup = path.join(root, 'backup');
      await writeLog(directory, commands(1, 30, 1), options);
      await mkdir(backup);
      const before = await segmentFileNames(directory);
      for (const name of before) await copyFile(path.join(directory, name), path.join(backup, name));

      const { store } = await openLoaded(directory, options);
      await store.compact(20);
      await store.close();
      const after = await segmentFileNames(directory);
      // The crash: the meta file was replaced, but the old files were never unlinked.
      for (const name of before) await copyFile(path.join(backup, name), path.join(directory, name));

      const reopened = await openLoaded(directory, options);
      assert.deepEqual(await segmentFileNames(directory), after);
      assert.deepEqual(reopened.entries, commands(21, 30, 1));
      await reopened.store.close();
    });
  });

  it('ignores and removes segments that a reset interrupted by a crash left behind', async () => {
    await inTempDirectory(async (root) => {
      const directory = path.join(root, 'log');
      const backup = path.join(root, 'backup');
      await writeLog(directory, commands(1, 10, 1), options);
      await mkdir(backup);
      const before = await segmentFileNames(directory);
      for (const name of before) await copyFile(path.join(directory, name), path.join(backup, name));

      const { store } = await openLoaded(directory, options);
      await store.reset(40);
      await store.close();
      assert.deepEqual(await segmentFileNames(directory), []);
      for (const name of before) await copyFile(path.join(backup, name), path.join(directory, name));

      const reopened = await openLoaded(directory, options);
      assert.deepEqual(await segmentFileNames(directory), []);
      assert.deepEqual({ firstIndex: reopened.firstIndex, entries: reopened.entries }, { firstIndex: 41, entries: [] });
      await reopened.store.append(commands(41, 41, 5));
      const names = await segmentFileNames(directory);
      assert.deepEqual(names, [segmentFileName({ firstIndex: 41, sequence: before.length + 1 })]);
      await reopened.store.close();
    });
  });
});

describe('SegmentedLogStore group commit', () => {
  it('100 concurrent appends share a handful of fdatasync calls', async () => {
    await inTempDirectory(async (directory) => {
      const { store } = await openLoaded(directory);
      const entries = commands(1, 100, 1);
      await Promise.all(entries.map((entry) => store.append([entry])));
      assert.ok(store.syncCount <= 5, `100 appends took ${store.syncCount} fdatasync calls`);
      await store.close();
      const reopened = await openLoaded(directory);
      assert.deepEqual(reopened.entries, entries);
      await reopened.store.close();
    });
  });

  it('a batch is bounded by writeBatchBytesMax', async () => {
    await inTempDirectory(async (directory) => {
      const recordBytes = encodeEntryRecord(command(1, 1, 'v1')).byteLength;
      const { store } = await openLoaded(directory, { writeBatchBytesMax: recordBytes * 10 });
      await Promise.all(commands(1, 9, 1).map((entry) => store.append([entry])));
      const syncsBefore = store.syncCount;
      await Promise.all(commands(10, 99, 1).map((entry) => store.append([entry])));
      // 90 appends of at most 10 records a batch, so at least 9 writes.
      assert.ok(store.syncCount - syncsBefore >= 9, `90 appends took ${store.syncCount - syncsBefore} syncs`);
      await store.close();
    });
  });
});

describe('SegmentedLogStore on-disk format', () => {
  it('names segment files by first index and sequence number', () => {
    assert.equal(segmentFileName({ firstIndex: 1, sequence: 1 }), '00000000000000000001-000001.log');
    assert.deepEqual(parseSegmentFileName('00000000000000012345-1234567.log'), {
      firstIndex: 12345,
      sequence: 1234567,
    });
    assert.equal(parseSegmentFileName('log-meta'), null);
    assert.equal(parseSegmentFileName('00000000000000000001-000001.log.tmp-1-1'), null);
  });

  it('writes entry records byte for byte as format version 1 says', () => {
    // Checksums computed independently (Python's zlib.crc32). [u32 length][u32 crc32][u8 version][u8 kind][u64 index][u64 term][body]: a change here breaks every disk.
    assert.equal(
      encodeEntryRecord(command(1, 2, 'hi')).toString('hex'),
      '00000014' + 'e610136e' + '01' + '01' + '0000000000000001' + '0000000000000002' + '6869',
    );
    assert.equal(
      encodeEntryRecord({ kind: 'noop', index: 2 ** 40, term: 7 }).toString('hex'),
      '00000012' + 'd8b856fd' + '01' + '03' + '0000010000000000' + '0000000000000007',
    );
    assert.equal(
      encodeEntryRecord(config(3, 1, { type: 'addLearner', node: 4 }))
        .subarray(26)
        .toString('utf8'),
      '{"type":"addLearner","node":4}',
    );
  });
});
