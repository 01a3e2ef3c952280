/**
 * A LogStore in memory, for simulation and tests. Its "disk" is a plain
 * object the caller may keep: a new store over the same disk is a node that
 * restarted, with everything earlier stores made durable and nothing else.
 *
 * Entries are copied in and out, so that a caller that reuses a buffer after
 * append() cannot change what is "on disk", as with a real disk.
 */
import type { Entry, LogIndex } from '../raft/types.js';
import { LogBounds } from './log-bounds.js';
import type { LoadedLog, LogStore } from './log-store.js';

/** What a MemoryLogStore keeps durably. */
export interface MemoryLogDisk {
  firstIndex: LogIndex;
  /** Contiguous from firstIndex. */
  entries: Entry[];
}

export function emptyMemoryLogDisk(): MemoryLogDisk {
  return { firstIndex: 1, entries: [] };
}

export class MemoryLogStore implements LogStore {
  private bounds: LogBounds | null = null;
  private closed = false;

  constructor(readonly disk: MemoryLogDisk = emptyMemoryLogDisk()) {}

  load(): Promise<LoadedLog> {
    return this.run(() => {
      const { firstIndex, entries } = this.disk;
      this.bounds = new LogBounds(firstIndex, firstIndex + entries.length - 1);
      return { firstIndex, entries: entries.map(copyEntry) };
    });
  }

  append(entries: readonly Entry[]): Promise<void> {
    return this.run(() => {
      const bounds = this.loadedBounds();
      bounds.checkAppend(entries);
      const first = entries[0];
      if (first === undefined) return;
      this.disk.entries.splice(first.index - this.disk.firstIndex, Infinity, ...entries.map(copyEntry));
      bounds.appended(entries);
    });
  }

  compact(index: LogIndex): Promise<void> {
    return this.run(() => {
      const bounds = this.loadedBounds();
      if (!bounds.compacts(index)) return;
      this.disk.entries.splice(0, index + 1 - this.disk.firstIndex);
      this.disk.firstIndex = index + 1;
      bounds.compacted(index);
    });
  }

  reset(snapshotIndex: LogIndex): Promise<void> {
    return this.run(() => {
      const bounds = this.loadedBounds();
      bounds.reset(snapshotIndex);
      this.disk.entries = [];
      this.disk.firstIndex = snapshotIndex + 1;
    });
  }

  close(): Promise<void> {
    return this.run(() => {
      this.closed = true;
    });
  }

  /** Runs `operation` now, so that calls take effect in call order, and reports its outcome as a promise. */
  private run<T>(operation: () => T): Promise<T> {
    try {
      if (this.closed) throw new Error('memory log store: used after close()');
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private loadedBounds(): LogBounds {
    if (this.bounds === null) throw new Error('memory log store: call load() before writing');
    return this.bounds;
  }
}

/** A copy that shares nothing mutable with `entry`. */
export function copyEntry(entry: Entry): Entry {
  const { index, term } = entry;
  switch (entry.kind) {
    case 'command':
      return { kind: 'command', index, term, data: new Uint8Array(entry.data) };
    case 'config':
      return { kind: 'config', index, term, change: structuredClone(entry.change) };
    case 'noop':
      return { kind: 'noop', index, term };
  }
}
