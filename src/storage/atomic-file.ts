/**
 * Small files replaced whole and atomically: after a crash a reader finds
 * either the old content or the new one, never a mix. Used for the hard
 * state and the log's meta file.
 *
 * The steps, and why each: write a temp file in the same directory (rename is
 * only atomic within one file system), fsync it (so the rename cannot
 * become durable before the data), rename it over the target, fsync the
 * directory (so the rename itself survives a crash).
 */
import path from 'node:path';
import { open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { SyncObserver } from './durable-io.js';
import { DiskWriteError } from './errors.js';
import { diskStep, syncDirectory, syncFile, writeFully } from './durable-io.js';

const TEMP_MARKER = '.tmp-';
let tempFilesCreated = 0;

/** `onSync` is told how long the fsync of the file's data took (not the directory's). */
export async function writeFileAtomic(filePath: string, data: Uint8Array, onSync?: SyncObserver): Promise<void> {
  tempFilesCreated += 1;
  const tempPath = `${filePath}${TEMP_MARKER}${process.pid}-${tempFilesCreated}`;
  try {
    const handle = await diskStep('create', tempPath, () => open(tempPath, 'wx'));
    try {
      await writeFully(handle, data, 0, tempPath);
      await syncFile(handle, tempPath, 'fsync', onSync);
    } finally {
      await handle.close();
    }
    await diskStep('rename', filePath, () => rename(tempPath, filePath));
  } catch (error) {
    // The write's own error says what went wrong; a temp file we cannot remove is only litter.
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
  await syncDirectory(path.dirname(filePath));
}

/** The file's bytes, or null when it does not exist. */
export async function readFileIfExists(filePath: string): Promise<Buffer | null> {
  try {
    return await readFile(filePath);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Whether something exists at `filePath` (without reading it). */
export async function fileExists(filePath: string): Promise<boolean> {
  try {
    await stat(filePath);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Deletes temp files that writeFileAtomic left beside `filePath` when a crash
 * interrupted it. Call it while opening, before anything writes `filePath`:
 * a write in progress has a temp file too.
 */
export async function removeStaleTempFiles(filePath: string): Promise<void> {
  const directory = path.dirname(filePath);
  const prefix = `${path.basename(filePath)}${TEMP_MARKER}`;
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const stale = names.filter((name) => name.startsWith(prefix));
  for (const name of stale) {
    const stalePath = path.join(directory, name);
    await diskStep('delete', stalePath, () => unlink(stalePath));
  }
  if (stale.length > 0) await syncDirectory(directory);
}

/** Whether `error` says a file does not exist, whether from Node's fs or a DiskWriteError wrapping one. */
export function isNotFound(error: unknown): boolean {
  if (error instanceof DiskWriteError) return error.errno === 'ENOENT';
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
