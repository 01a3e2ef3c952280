/**
 * The file-system steps durability rests on: writing every byte (a write may
 * be partial), fsyncing a file, writing through a file opened with O_DSYNC
 * (each write durable when it returns, its own fdatasync), making a
 * directory's entries durable (a new, renamed or deleted file is only durable
 * once its directory is fsynced), and timing the syncs that a write waits
 * for, for whoever watches (metrics).
 *
 * Every step that changes the disk goes through here, so that its failure
 * comes out as one DiskWriteError naming the step and the file (Node's own
 * errors for a write or fsync on an open handle name neither), and so that
 * tests can fail it (disk-fault-injection.ts).
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { injectedFault, errnoError } from './disk-fault-injection.js';
import type { DiskStep } from './errors.js';
import { DiskWriteError } from './errors.js';

/** Runs one step that changes the disk; a failure becomes a DiskWriteError naming `step` and `filePath`. */
export async function diskStep<T>(step: DiskStep, filePath: string, run: () => Promise<T>): Promise<T> {
  try {
    const fault = injectedFault(step, filePath);
    if (fault !== null) throw errnoError(fault.errno, step, filePath);
    return await run();
  } catch (error) {
    throw asDiskWriteError(step, filePath, error);
  }
}

/** Writes all of `bytes` at `positionBytes` of `filePath` (open as `handle`), however many write calls that takes. */
export async function writeFully(
  handle: FileHandle,
  bytes: Uint8Array,
  positionBytes: number,
  filePath: string,
): Promise<void> {
  let writtenBytes = 0;
  try {
    const fault = injectedFault('write', filePath, bytes.byteLength);
    if (fault !== null) {
      const partBytes = Math.min(fault.bytesWritten ?? 0, bytes.byteLength);
      if (partBytes > 0) await handle.write(bytes, 0, partBytes, positionBytes);
      throw errnoError(fault.errno, 'write', filePath);
    }
    while (writtenBytes < bytes.byteLength) {
      const { bytesWritten } = await handle.write(
        bytes,
        writtenBytes,
        bytes.byteLength - writtenBytes,
        positionBytes + writtenBytes,
      );
      if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${positionBytes + writtenBytes}`);
      writtenBytes += bytesWritten;
    }
  } catch (error) {
    throw asDiskWriteError('write', filePath, error);
  }
}

/**
 * Told how long one sync of a file took: an fsync or fdatasync, or a write to
 * a file opened with O_DSYNC, which is the write and its fdatasync in one
 * call (writeDurably). For metrics, so it must be cheap.
 */
export type SyncObserver = (durationSeconds: number) => void;

/**
 * Opens `filePath` so that every write through the handle is durable when it
 * returns (O_DSYNC: the data, and the size when the write extends the file,
 * as if each write were followed by fdatasync), saving the fdatasync call
 * and its trip through the thread pool. 'create' makes a new file and fails
 * if one exists; 'existing' opens one for reading and writing.
 */
export function openForDurableWrites(filePath: string, how: 'create' | 'existing'): Promise<FileHandle> {
  if (how === 'existing') return open(filePath, constants.O_RDWR | constants.O_DSYNC);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC;
  return diskStep('create', filePath, () => open(filePath, flags));
}

/**
 * Writes all of `bytes` at `positionBytes` through `handle`, which
 * openForDurableWrites opened: durable once this resolves. Tells `observe`
 * how long it took, because this write is the sync a caller waits for. A
 * failure is final for the file, as for syncFile.
 */
export function writeDurably(
  handle: FileHandle,
  bytes: Uint8Array,
  positionBytes: number,
  filePath: string,
  observe?: SyncObserver,
): Promise<void> {
  // The write is its own fdatasync, so a test that fails 'fdatasync' on this file fails it (before any byte
  // lands: one of the states a failed sync can leave). A real failure comes out of the write, as the kernel
  // reports it: a 'write' step, with EIO when the sync part failed.
  return diskStep('fdatasync', filePath, () =>
    timedSync(() => writeFully(handle, bytes, positionBytes, filePath), observe),
  );
}

/**
 * fsyncs `filePath` (open as `handle`): its data and metadata, or with
 * 'fdatasync' its data and what reading it back needs (its size). Tells
 * `observe` how long it took. A failure is final for this file: see
 * DiskWriteError on why no caller may retry it.
 */
export function syncFile(
  handle: FileHandle,
  filePath: string,
  step: 'fsync' | 'fdatasync',
  observe?: SyncObserver,
): Promise<void> {
  return diskStep(step, filePath, () =>
    timedSync(() => (step === 'fsync' ? handle.sync() : handle.datasync()), observe),
  );
}

/** fsyncs a directory, so that the files created, renamed or deleted in it stay so after a crash. */
export function syncDirectory(directory: string): Promise<void> {
  return diskStep('fsyncDirectory', directory, async () => {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/**
 * Runs `sync` and tells `observe` how long it took. Without an observer it
 * only runs `sync`: the clock is read only when someone listens. An observer
 * that throws is ignored, since a metrics bug must not fail a write that
 * reached the disk.
 */
async function timedSync(sync: () => Promise<void>, observe: SyncObserver | undefined): Promise<void> {
  if (observe === undefined) return sync();
  const startMs = performance.now();
  await sync();
  try {
    observe((performance.now() - startMs) / 1000);
  } catch {
    // See above: the sync succeeded, which is all the caller needs.
  }
}

function asDiskWriteError(step: DiskStep, filePath: string, error: unknown): DiskWriteError {
  if (error instanceof DiskWriteError) return error;
  const errno = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return new DiskWriteError(step, filePath, typeof errno === 'string' ? errno : null, error);
}
