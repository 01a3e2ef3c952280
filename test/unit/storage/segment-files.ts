/**
 * Helpers for tests that look at a disk log's segment files, or damage them
 * by hand as a crash or a failing disk would.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Entry } from '../../../src/raft/types.js';
import { parseSegmentFileName, scanSegment } from '../../../src/storage/segment-file.js';
import type { SegmentedLogStoreOptions } from '../../../src/storage/segmented-log-store.js';
import { SegmentedLogStore } from '../../../src/storage/segmented-log-store.js';

/** Runs `body` in a fresh temp directory and removes it afterwards, whatever happens. */
export async function inTempDirectory(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-log-'));
  try {
    await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

export async function openLoaded(
  directory: string,
  options: SegmentedLogStoreOptions = {},
): Promise<{ store: SegmentedLogStore; entries: Entry[]; firstIndex: number }> {
  const store = await SegmentedLogStore.open(directory, options);
  const loaded = await store.load();
  return { store, ...loaded };
}

/** Writes `entries` one append each into a new log in `directory`, and closes it. */
export async function writeLog(directory: string, entries: readonly Entry[], options: SegmentedLogStoreOptions = {}) {
  const { store } = await openLoaded(directory, options);
  for (const entry of entries) await store.append([entry]);
  await store.close();
}

export async function segmentFileNames(directory: string): Promise<string[]> {
  const names = (await readdir(directory)).filter((name) => parseSegmentFileName(name) !== null);
  return names.sort((a, b) => (parseSegmentFileName(a)?.sequence ?? 0) - (parseSegmentFileName(b)?.sequence ?? 0));
}

/**
 * The only segment file in `directory`, and its records: the bytes before the
 * zeros the store keeps ahead of them. Written back alone, those make the
 * file an older version (or a cut) leaves.
 */
export async function onlySegment(directory: string): Promise<{ filePath: string; bytes: Buffer; fileBytes: number }> {
  const names = await segmentFileNames(directory);
  assert.equal(names.length, 1, `expected one segment file, found ${names.join(', ')}`);
  const filePath = path.join(directory, names[0] ?? '');
  const file = await readFile(filePath);
  const recordsBytes = scanSegment(file).intactBytes;
  assert.ok(
    file.subarray(recordsBytes).every((byte) => byte === 0),
    'only zeros follow the records',
  );
  return { filePath, bytes: file.subarray(0, recordsBytes), fileBytes: file.byteLength };
}

/** Writes `bytes` at `offsetBytes` of `filePath`, in place: what a write the store did not finish leaves. */
export async function writeAt(filePath: string, offsetBytes: number, bytes: Uint8Array): Promise<void> {
  const handle = await open(filePath, 'r+');
  try {
    await handle.write(bytes, 0, bytes.byteLength, offsetBytes);
  } finally {
    await handle.close();
  }
}
