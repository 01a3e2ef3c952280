/**
 * The index range a log store covers, and the rules that keep it a log:
 * every store checks its calls here, so that the in-memory store used in
 * simulation refuses exactly what the disk store refuses.
 */
import type { Entry, LogIndex } from '../raft/types.js';

export class LogBounds {
  /** `lastIndex` is firstIndex - 1 while the log is empty. */
  constructor(
    public firstIndex: LogIndex,
    public lastIndex: LogIndex,
  ) {}

  /** Throws when `entries` would leave a gap, reach into the compacted prefix, or are not contiguous. */
  checkAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    if (first.index < this.firstIndex) {
      throw new Error(
        `log store: append at ${first.index} reaches below the compaction point (first ${this.firstIndex})`,
      );
    }
    if (first.index > this.lastIndex + 1) {
      throw new Error(`log store: append at ${first.index} leaves a gap after the last index ${this.lastIndex}`);
    }
    entries.forEach((entry, k) => {
      if (!Number.isSafeInteger(entry.index) || entry.index !== first.index + k) {
        throw new Error(`log store: appended entries are not contiguous: ${entry.index} at position ${k}`);
      }
      if (!Number.isSafeInteger(entry.term) || entry.term < 0) {
        throw new Error(`log store: entry ${entry.index} has an invalid term ${entry.term}`);
      }
    });
  }

  /** Call after checkAppend(entries) passed. */
  appended(entries: readonly Entry[]): void {
    const last = entries[entries.length - 1];
    if (last !== undefined) this.lastIndex = last.index;
  }

  /** Whether compact(index) changes anything. */
  compacts(index: LogIndex): boolean {
    checkIndex('compact', index);
    return index >= this.firstIndex;
  }

  compacted(index: LogIndex): void {
    if (!this.compacts(index)) return;
    this.firstIndex = index + 1;
    this.lastIndex = Math.max(this.lastIndex, index);
  }

  reset(snapshotIndex: LogIndex): void {
    checkIndex('reset', snapshotIndex);
    this.firstIndex = snapshotIndex + 1;
    this.lastIndex = snapshotIndex;
  }
}

function checkIndex(operation: string, index: LogIndex): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new Error(`log store: ${operation} needs a non-negative integer index, got ${index}`);
  }
}
