/**
 * The file-system steps durability rests on: writing every byte (a write may
 * be partial), making a directory's entries durable (a new, renamed or
 * deleted file is only durable once its directory is fsynced), and timing
 * the fsyncs that a write waits for, for whoever watches (metrics).
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

/** Writes all of `bytes` at `positionBytes`, however many write calls that takes. */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, positionBytes: number): Promise<void> {
  let writtenBytes = 0;
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
}

/** fsyncs a directory, so that the files created, renamed or deleted in it stay so after a crash. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Told how long one fsync (or fdatasync) of a file took; for metrics, so it must be cheap. */
export type SyncObserver = (durationSeconds: number) => void;

/**
 * Runs `sync` and tells `observe` how long it took. Without an observer it
 * only runs `sync`: the clock is read only when someone listens. An observer
 * that throws is ignored, since a metrics bug must not fail a write that
 * reached the disk.
 */
export async function timedSync(sync: () => Promise<void>, observe: SyncObserver | undefined): Promise<void> {
  if (observe === undefined) return sync();
  const startMs = performance.now();
  await sync();
  try {
    observe((performance.now() - startMs) / 1000);
  } catch {
    // See above: the sync succeeded, which is all the caller needs.
  }
}
