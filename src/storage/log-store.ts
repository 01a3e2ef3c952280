/**
 * The contract of every Raft log store: the in-memory one used in simulation
 * and the segmented one on disk pass the same compliance suite
 * (test/unit/storage/log-store-suite.ts).
 *
 * The log is the entries after a compaction point: `firstIndex` is the index
 * right after it, and the entries are contiguous from there. A fresh store has
 * firstIndex 1 and no entries.
 *
 * Rules every implementation keeps:
 *  - load() is called once, and has resolved, before the first append,
 *    compact or reset: a store validates indices against what it loaded, and
 *    the disk store repairs a torn tail while loading.
 *  - Operations take effect in the order they are called, even when the
 *    caller does not await one before starting the next. Concurrent appends
 *    are how a caller gets group commit: they may share one fsync.
 *  - A promise resolves only once its effect is durable (fsynced for the disk
 *    store); it never resolves earlier, so a caller may acknowledge what an
 *    append holds as soon as that append resolves.
 *  - Indices that break the log's shape (a gap, an entry at or below the
 *    compaction point) are programmer errors: the call rejects at once and
 *    the log is unchanged.
 *  - After a failed write the store rejects everything with StoreFailedError:
 *    only a restart can tell what reached the disk.
 */
import type { Entry, LogIndex } from '../raft/types.js';

/** What a store holds durably. */
export interface LoadedLog {
  /** The index right after the compaction point: the index `entries[0]` has, or the next append starts at. */
  readonly firstIndex: LogIndex;
  /** Contiguous from firstIndex, oldest first. */
  readonly entries: Entry[];
}

export interface LogStore {
  /**
   * Reads what is durable. The disk store also recovers here: it cuts off a
   * torn tail and rejects with LogCorruptionError on damage a crash cannot
   * explain.
   */
  load(): Promise<LoadedLog>;
  /**
   * Appends `entries`, which are contiguous. The first may overwrite: an
   * entry at index i replaces the entry at i and drops everything after it.
   * Needs firstIndex <= entries[0].index <= last index + 1. Resolves once
   * the entries are durable; an empty batch resolves at once.
   */
  append(entries: readonly Entry[]): Promise<void>;
  /**
   * Drops every entry at or below `index`, because a snapshot covers them.
   * The disk may keep them for a while (whole files are deleted), but load()
   * never returns them again, and entries above `index` are never lost.
   * An index at or below the current compaction point changes nothing; one
   * at or past the last entry empties the log and the next append starts
   * at index + 1.
   */
  compact(index: LogIndex): Promise<void>;
  /**
   * Discards the whole log, because a snapshot from the leader replaces it:
   * afterwards firstIndex is snapshotIndex + 1 and there are no entries.
   */
  reset(snapshotIndex: LogIndex): Promise<void>;
  /** Waits for every pending operation, then releases files. Every later call rejects. */
  close(): Promise<void>;
}
