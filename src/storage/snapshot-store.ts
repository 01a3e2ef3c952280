/**
 * The snapshot files of one Raft group. A snapshot's bytes never have to be
 * in memory whole: they are written from chunks, read back in chunks (to
 * send to a follower or to restore the state machine), and received from the
 * leader chunk by chunk.
 *
 * Files in the directory:
 *   <index>-<term>.snap        the bytes of a complete snapshot;
 *   <index>-<term>.snap.meta   its SnapshotMeta, size and CRC32, written atomically
 *                              and last: a .snap without its .meta is an
 *                              unfinished write, removed when the store opens;
 *   incoming.part              a snapshot being received from the leader. The core
 *                              restarts a transfer after a restart, so it is removed
 *                              when the store opens.
 *
 * Installing a received snapshot is: fsync incoming.part, rename it to its
 * final name, write the .meta atomically, fsync the directory. A crash between
 * any two steps leaves either the old latest snapshot or the new one.
 */
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { LogIndex, Membership, SnapshotMeta, Term } from '../raft/types.js';
import { isNotFound, readFileIfExists, removeStaleTempFiles, writeFileAtomic } from './atomic-file.js';
import { diskStep, syncDirectory, syncFile, writeFully } from './durable-io.js';
import { SnapshotCorruptionError } from './errors.js';

const DATA_SUFFIX = '.snap';
const META_SUFFIX = '.snap.meta';
const INCOMING = 'incoming.part';
const META_VERSION = 1;

/** A snapshot on disk: Raft's metadata plus what the store checks the bytes against. */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly crc32: number;
}

/** Steps of installing a received snapshot, for tests that crash between them. */
export type InstallStep = 'synced' | 'renamed' | 'metaWritten';

export class SnapshotStore {
  private latestSnapshot: StoredSnapshot | null;
  private readonly kept = new Map<LogIndex, StoredSnapshot>();
  private incoming: { meta: SnapshotMeta; handle: FileHandle; sizeBytes: number; crc: number } | null = null;
  /** Test hook: runs after each step of installReceived(); a throw there simulates a crash. */
  afterInstallStep: ((step: InstallStep) => void) | null = null;

  private constructor(
    readonly directory: string,
    snapshots: StoredSnapshot[],
  ) {
    for (const snapshot of snapshots) this.kept.set(snapshot.meta.index, snapshot);
    this.latestSnapshot = snapshots.reduce<StoredSnapshot | null>(
      (latest, s) => (latest === null || s.meta.index > latest.meta.index ? s : latest),
      null,
    );
  }

  /** Opens the directory (creating nothing but what is needed), removing unfinished writes. */
  static async open(directory: string): Promise<SnapshotStore> {
    const names = await readdir(directory);
    const snapshots: StoredSnapshot[] = [];
    let removed = false;
    for (const name of names) {
      if (name === INCOMING || name.endsWith(`${DATA_SUFFIX}.part`)) {
        // A transfer or a local write that a crash interrupted.
        await unlink(path.join(directory, name));
        removed = true;
      } else if (name.endsWith(DATA_SUFFIX)) {
        const metaPath = path.join(directory, `${name.slice(0, -DATA_SUFFIX.length)}${META_SUFFIX}`);
        await removeStaleTempFiles(metaPath);
        const stored = await readMeta(metaPath);
        if (stored === null) {
          // Renamed into place, but the crash came before its meta: not a snapshot yet.
          await unlink(path.join(directory, name));
          removed = true;
          continue;
        }
        const { size } = await stat(path.join(directory, name));
        if (size !== stored.meta.sizeBytes) {
          throw new SnapshotCorruptionError(
            path.join(directory, name),
            size,
            `expected ${stored.meta.sizeBytes} bytes`,
          );
        }
        snapshots.push(stored);
      }
    }
    if (removed) await syncDirectory(directory);
    return new SnapshotStore(directory, snapshots);
  }

  /** The newest complete snapshot, or null. */
  get latest(): StoredSnapshot | null {
    return this.latestSnapshot;
  }

  /** Indexes of the snapshots on disk, oldest first. */
  get indexes(): LogIndex[] {
    return [...this.kept.keys()].sort((a, b) => a - b);
  }

  /**
   * Writes a snapshot taken locally from `chunks`, durably, and makes it the
   * latest. `sizeBytes` is counted while writing.
   */
  async write(
    position: { index: LogIndex; term: Term; membership: Membership },
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<StoredSnapshot> {
    const partPath = path.join(this.directory, `${fileStem(position.index, position.term)}${DATA_SUFFIX}.part`);
    const handle = await diskStep('create', partPath, () => open(partPath, 'w'));
    let sizeBytes = 0;
    let crc = 0;
    try {
      for await (const chunk of chunks) {
        await writeFully(handle, chunk, sizeBytes, partPath);
        crc = crc32(chunk, crc);
        sizeBytes += chunk.byteLength;
      }
      await syncFile(handle, partPath, 'fsync');
    } finally {
      await handle.close();
    }
    const meta: SnapshotMeta = { ...position, sizeBytes };
    return this.publish(partPath, { meta, crc32: crc >>> 0 }, null);
  }

  /** Up to `sizeBytesMax` bytes of snapshot `index` from `offset` (fewer at the end). */
  async readChunk(index: LogIndex, offset: number, sizeBytesMax: number): Promise<Uint8Array> {
    const stored = this.stored(index);
    const length = Math.max(0, Math.min(sizeBytesMax, stored.meta.sizeBytes - offset));
    const handle = await open(this.dataPath(stored.meta), 'r');
    try {
      const buffer = new Uint8Array(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
        if (bytesRead === 0)
          throw new SnapshotCorruptionError(this.dataPath(stored.meta), offset + read, 'file ends early');
        read += bytesRead;
      }
      return buffer;
    } finally {
      await handle.close();
    }
  }

  /** All bytes of snapshot `index` in chunks, checked against its CRC at the end. */
  async *chunks(index: LogIndex, chunkBytes: number): AsyncGenerator<Uint8Array> {
    const stored = this.stored(index);
    let crc = 0;
    for (let offset = 0; offset < stored.meta.sizeBytes; offset += chunkBytes) {
      const chunk = await this.readChunk(index, offset, chunkBytes);
      crc = crc32(chunk, crc);
      yield chunk;
    }
    if (crc >>> 0 !== stored.crc32) {
      throw new SnapshotCorruptionError(this.dataPath(stored.meta), 0, 'its bytes do not match their checksum');
    }
  }

  /**
   * Stages a chunk received from the leader. Offset 0 starts a new transfer;
   * any other offset must continue the one under way (the core checks this).
   * Resolves once the chunk is durable.
   */
  async receiveChunk(meta: SnapshotMeta, offset: number, data: Uint8Array): Promise<void> {
    if (offset === 0) {
      await this.dropIncoming();
      const incomingPath = path.join(this.directory, INCOMING);
      const handle = await diskStep('create', incomingPath, () => open(incomingPath, 'w'));
      this.incoming = { meta, handle, sizeBytes: 0, crc: 0 };
    }
    const incoming = this.incoming;
    if (incoming === null || incoming.meta.index !== meta.index || incoming.meta.term !== meta.term) {
      throw new Error(`snapshot store: chunk at ${offset} of snapshot ${meta.index} without a transfer under way`);
    }
    if (offset !== incoming.sizeBytes) {
      throw new Error(`snapshot store: chunk at ${offset}, expected ${incoming.sizeBytes}`);
    }
    const incomingPath = path.join(this.directory, INCOMING);
    await writeFully(incoming.handle, data, offset, incomingPath);
    await syncFile(incoming.handle, incomingPath, 'fdatasync');
    incoming.sizeBytes += data.byteLength;
    incoming.crc = crc32(data, incoming.crc);
  }

  /** Makes the fully received snapshot `meta` the latest, atomically. */
  async installReceived(meta: SnapshotMeta): Promise<StoredSnapshot> {
    const incoming = this.incoming;
    if (incoming === null || incoming.meta.index !== meta.index || incoming.meta.term !== meta.term) {
      throw new Error(`snapshot store: installing snapshot ${meta.index} that was not received`);
    }
    if (incoming.sizeBytes !== meta.sizeBytes) {
      throw new Error(`snapshot store: snapshot ${meta.index} has ${incoming.sizeBytes} of ${meta.sizeBytes} bytes`);
    }
    await syncFile(incoming.handle, path.join(this.directory, INCOMING), 'fsync');
    await incoming.handle.close();
    this.incoming = null;
    this.afterInstallStep?.('synced');
    return this.publish(
      path.join(this.directory, INCOMING),
      { meta, crc32: incoming.crc >>> 0 },
      this.afterInstallStep,
    );
  }

  /** Deletes every snapshot but the latest and those in `keep` (transfers still read them). */
  async prune(keep: readonly LogIndex[]): Promise<void> {
    const latest = this.latestSnapshot?.meta.index;
    let removed = false;
    for (const [index, stored] of [...this.kept]) {
      if (index === latest || keep.includes(index)) continue;
      for (const filePath of [this.metaPath(stored.meta), this.dataPath(stored.meta)]) {
        await diskStep('delete', filePath, () => unlink(filePath));
      }
      this.kept.delete(index);
      removed = true;
    }
    if (removed) await syncDirectory(this.directory);
  }

  async close(): Promise<void> {
    await this.dropIncoming();
  }

  private async publish(
    fromPath: string,
    stored: StoredSnapshot,
    afterStep: ((step: InstallStep) => void) | null,
  ): Promise<StoredSnapshot> {
    const dataPath = this.dataPath(stored.meta);
    await diskStep('rename', dataPath, () => rename(fromPath, dataPath));
    afterStep?.('renamed');
    await writeFileAtomic(this.metaPath(stored.meta), encodeMeta(stored));
    afterStep?.('metaWritten');
    this.kept.set(stored.meta.index, stored);
    if (this.latestSnapshot === null || stored.meta.index > this.latestSnapshot.meta.index) {
      this.latestSnapshot = stored;
    }
    return stored;
  }

  private async dropIncoming(): Promise<void> {
    if (this.incoming === null) return;
    await this.incoming.handle.close();
    this.incoming = null;
    await unlink(path.join(this.directory, INCOMING)).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  private stored(index: LogIndex): StoredSnapshot {
    const stored = this.kept.get(index);
    if (stored === undefined) throw new Error(`snapshot store: no snapshot at index ${index}`);
    return stored;
  }

  private dataPath(meta: SnapshotMeta): string {
    return path.join(this.directory, `${fileStem(meta.index, meta.term)}${DATA_SUFFIX}`);
  }

  private metaPath(meta: SnapshotMeta): string {
    return path.join(this.directory, `${fileStem(meta.index, meta.term)}${META_SUFFIX}`);
  }
}

function fileStem(index: LogIndex, term: Term): string {
  return `${String(index).padStart(20, '0')}-${term}`;
}

/** The meta file: one JSON line, then the CRC32 of that line. */
function encodeMeta(stored: StoredSnapshot): Uint8Array {
  const json = JSON.stringify({ version: META_VERSION, ...stored });
  return new TextEncoder().encode(`${json}\n${crc32(json) >>> 0}\n`);
}

async function readMeta(metaPath: string): Promise<StoredSnapshot | null> {
  const bytes = await readFileIfExists(metaPath);
  if (bytes === null) return null;
  const [json, checksum] = bytes.toString('utf8').split('\n');
  if (json === undefined || checksum === undefined || String(crc32(json) >>> 0) !== checksum) {
    throw new SnapshotCorruptionError(metaPath, 0, 'its checksum does not match');
  }
  const parsed = JSON.parse(json) as { version: number } & StoredSnapshot;
  if (parsed.version !== META_VERSION) {
    throw new SnapshotCorruptionError(metaPath, 0, `unknown version ${parsed.version}`);
  }
  return { meta: parsed.meta, crc32: parsed.crc32 };
}
