/**
 * The file-system steps durability rests on: writing every byte (a write may
 * be partial), fsyncing a file, making a directory's entries durable (a new,
 * renamed or deleted file is only durable once its directory is fsynced), and
 * timing the fsyncs that a write waits for, for whoever watches (metrics).
 *
 * Every step that changes the disk goes through here, so that its failure
 * comes out as one DiskWriteError naming the step and the file (Node's own
 * errors for a write or fsync on an open handle name neither), and so that
 * tests can fail it (disk-fault-injection.ts).
 */
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

/** Told how long one fsync (or fdatasync) of a file took; for metrics, so it must be cheap. */
export type SyncObserver = (durationSeconds: number) => void;

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
