/**
 * A KvEngine in memory, for simulation and fast tests: a sorted array of
 * entries, searched by bisection. Its durable state lives in a MemoryKvDisk
 * that outlives each engine, as a real disk outlives a process, so a
 * simulator can "restart" a node by opening a new engine over the same disk.
 *
 * Entries are replaced, never changed in place, so an iterator can hold a
 * shallow copy of the array as its point-in-time view. Bytes are copied in
 * and out, so that no caller can change the engine's state by aliasing (the
 * disk engine cannot be changed that way either).
 */
import type { EngineEntry, EngineWrite, EngineWriteOptions, KeyRange, KvEngine } from './engine.js';
import { compareKeys, inRange } from './engine.js';

export interface MemoryKvDisk {
  /** Sorted by key, no duplicates. */
  entries: EngineEntry[];
}

export function emptyMemoryKvDisk(): MemoryKvDisk {
  return { entries: [] };
}

export class MemoryKvEngine implements KvEngine {
  private closed = false;

  constructor(private readonly disk: MemoryKvDisk = emptyMemoryKvDisk()) {}

  get(key: Uint8Array): Uint8Array | null {
    this.assertOpen();
    const position = this.search(key);
    return position.found ? copy(this.disk.entries[position.index]!.value) : null;
  }

  write(batch: readonly EngineWrite[], _options: EngineWriteOptions): Promise<void> {
    this.assertOpen();
    // Copy everything before changing anything, so that a bad argument leaves the state as it was.
    const copied = batch.map((write) =>
      write.type === 'put' ? { ...write, key: copy(write.key), value: copy(write.value) } : write,
    );
    for (const write of copied) {
      const { found, index } = this.search(write.key);
      if (write.type === 'put') {
        const entry = { key: write.key, value: write.value };
        if (found) this.disk.entries[index] = entry;
        else this.disk.entries.splice(index, 0, entry);
      } else if (found) {
        this.disk.entries.splice(index, 1);
      }
    }
    return Promise.resolve();
  }

  entries(range: KeyRange = {}): AsyncIterableIterator<EngineEntry> {
    this.assertOpen();
    const start = range.gte === undefined ? 0 : this.search(range.gte).index;
    const view = this.disk.entries.slice(start);
    return iterateView(view, range);
  }

  clear(range: KeyRange = {}): Promise<void> {
    this.assertOpen();
    this.disk.entries = this.disk.entries.filter((entry) => !inRange(entry.key, range));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Where `key` is, or where it would go. */
  private search(key: Uint8Array): { found: boolean; index: number } {
    const entries = this.disk.entries;
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareKeys(entries[middle]!.key, key);
      if (order === 0) return { found: true, index: middle };
      if (order < 0) low = middle + 1;
      else high = middle;
    }
    return { found: false, index: low };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryKvEngine: used after close(); open a new engine over the disk');
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the simplest AsyncIterableIterator
async function* iterateView(view: readonly EngineEntry[], range: KeyRange): AsyncIterableIterator<EngineEntry> {
  for (const entry of view) {
    if (range.lt !== undefined && compareKeys(entry.key, range.lt) >= 0) return;
    yield { key: copy(entry.key), value: copy(entry.value) };
  }
}

function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
