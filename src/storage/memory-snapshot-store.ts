/**
 * Snapshot files in memory, for simulation and tests. Like MemoryLogStore,
 * its "disk" is a plain object a caller can keep across a simulated crash:
 * complete snapshots survive, a transfer in progress does not.
 */
import { crc32 } from 'node:zlib';
import type { LogIndex, Membership, SnapshotMeta, Term } from '../raft/types.js';
import type { StoredSnapshot } from './snapshot-store.js';

export interface MemorySnapshotDisk {
  readonly snapshots: Map<LogIndex, { stored: StoredSnapshot; data: Uint8Array }>;
}

export function emptyMemorySnapshotDisk(): MemorySnapshotDisk {
  return { snapshots: new Map() };
}

export class MemorySnapshotStore {
  private incoming: { meta: SnapshotMeta; parts: Uint8Array[]; sizeBytes: number } | null = null;

  constructor(readonly disk: MemorySnapshotDisk = emptyMemorySnapshotDisk()) {}

  get latest(): StoredSnapshot | null {
    let latest: StoredSnapshot | null = null;
    for (const { stored } of this.disk.snapshots.values()) {
      if (latest === null || stored.meta.index > latest.meta.index) latest = stored;
    }
    return latest;
  }

  async write(
    position: { index: LogIndex; term: Term; membership: Membership },
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<StoredSnapshot> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(Uint8Array.from(chunk));
    const data = concat(parts);
    return this.keep({ ...position, sizeBytes: data.byteLength }, data);
  }

  readChunk(index: LogIndex, offset: number, sizeBytesMax: number): Promise<Uint8Array> {
    return Promise.resolve(this.data(index).slice(offset, offset + sizeBytesMax));
  }

  async *chunks(index: LogIndex, chunkBytes: number): AsyncGenerator<Uint8Array> {
    const data = this.data(index);
    for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
      yield await Promise.resolve(data.slice(offset, offset + chunkBytes));
    }
  }

  receiveChunk(meta: SnapshotMeta, offset: number, data: Uint8Array): Promise<void> {
    if (offset === 0) this.incoming = { meta, parts: [], sizeBytes: 0 };
    const incoming = this.incoming;
    if (incoming === null || incoming.meta.index !== meta.index || offset !== incoming.sizeBytes) {
      return Promise.reject(new Error(`memory snapshots: chunk at ${offset} of ${meta.index} out of order`));
    }
    incoming.parts.push(Uint8Array.from(data));
    incoming.sizeBytes += data.byteLength;
    return Promise.resolve();
  }

  installReceived(meta: SnapshotMeta): Promise<StoredSnapshot> {
    const incoming = this.incoming;
    if (incoming === null || incoming.meta.index !== meta.index || incoming.sizeBytes !== meta.sizeBytes) {
      return Promise.reject(new Error(`memory snapshots: snapshot ${meta.index} was not fully received`));
    }
    this.incoming = null;
    return Promise.resolve(this.keep(meta, concat(incoming.parts)));
  }

  prune(keep: readonly LogIndex[]): Promise<void> {
    const latest = this.latest?.meta.index;
    for (const index of [...this.disk.snapshots.keys()]) {
      if (index !== latest && !keep.includes(index)) this.disk.snapshots.delete(index);
    }
    return Promise.resolve();
  }

  private keep(meta: SnapshotMeta, data: Uint8Array): StoredSnapshot {
    const stored: StoredSnapshot = { meta, crc32: crc32(data) >>> 0 };
    this.disk.snapshots.set(meta.index, { stored, data });
    return stored;
  }

  private data(index: LogIndex): Uint8Array {
    const snapshot = this.disk.snapshots.get(index);
    if (snapshot === undefined) throw new Error(`memory snapshots: no snapshot at index ${index}`);
    return snapshot.data;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
