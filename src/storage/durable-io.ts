/**
 * The two file-system steps durability rests on, besides fdatasync: writing
 * every byte (a write may be partial) and making a directory's entries
 * durable (a new, renamed or deleted file is only durable once its directory
 * is fsynced).
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
