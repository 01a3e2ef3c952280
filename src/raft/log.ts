/**
 * The replicated log as one member sees it: the latest snapshot, the entries
 * kept in memory, and three positions that only move forward (except
 * `stable`, which a conflicting append can pull back):
 *
 *   offset <= snapshot.index <= applied <= committed <= last
 *   stable: entries up to here are durable on this member's disk.
 *
 * Entries after `offset` are in memory. A snapshot lets the prefix go, but a
 * tail of entries before the snapshot may be kept (`compact(.., keepEntries)`)
 * so that a follower slightly behind catches up from the log instead of
 * needing the whole snapshot.
 */
import type { Entry, LogIndex, Membership, SnapshotMeta, Term } from './types.js';
import { entrySizeBytes } from './types.js';

export class RaftLog {
  private entries: Entry[];
  private snapshotMeta: SnapshotMeta;
  /** The index just before the first entry held, and its term. */
  private offset: LogIndex;
  private offsetTerm: Term;
  committed: LogIndex;
  applied: LogIndex;
  stable: LogIndex;

  /** `snapshot` null means a fresh log whose "snapshot" is the empty state before index 1. */
  constructor(snapshot: SnapshotMeta | null, entries: readonly Entry[], commit: LogIndex, bootstrap: Membership) {
    this.snapshotMeta = snapshot ?? { index: 0, term: 0, membership: bootstrap, sizeBytes: 0 };
    this.offset = this.snapshotMeta.index;
    this.offsetTerm = this.snapshotMeta.term;
    // Entries the snapshot covers were kept only for followers' sake: a restart lets them go.
    this.entries = entries.filter((entry) => entry.index > this.snapshotMeta.index);
    this.entries.forEach((entry, k) => {
      if (entry.index !== this.offset + 1 + k) {
        throw new Error(`raft log: restored entry ${k} has index ${entry.index}, expected ${this.offset + 1 + k}`);
      }
    });
    this.stable = this.lastIndex();
    this.committed = Math.min(Math.max(commit, this.snapshotMeta.index), this.lastIndex());
    this.applied = this.snapshotMeta.index;
  }

  get snapshot(): SnapshotMeta {
    return this.snapshotMeta;
  }

  firstIndex(): LogIndex {
    return this.offset + 1;
  }

  lastIndex(): LogIndex {
    return this.offset + this.entries.length;
  }

  lastTerm(): Term {
    return this.termAt(this.lastIndex())!;
  }

  /** The term of the entry at `index`; null when it is compacted away or not there yet. */
  termAt(index: LogIndex): Term | null {
    if (index === this.offset) return this.offsetTerm;
    if (index === this.snapshotMeta.index) return this.snapshotMeta.term;
    return this.entryAt(index)?.term ?? null;
  }

  entryAt(index: LogIndex): Entry | undefined {
    if (index <= this.offset) return undefined;
    return this.entries[index - this.offset - 1];
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.termAt(index) === term;
  }

  /** Entries from `from` up to and including `to`, at most `bytesMax` of them but always at least one. */
  slice(from: LogIndex, to: LogIndex, bytesMax: number): Entry[] {
    if (from <= this.offset) throw new Error(`raft log: slice from compacted index ${from}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = from; index <= Math.min(to, this.lastIndex()); index++) {
      const entry = this.entryAt(index)!;
      bytes += entrySizeBytes(entry);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  /** Is a log ending at (lastIndex, lastTerm) at least as up to date as this one (§5.4.1)? */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    const myLastTerm = this.lastTerm();
    return lastTerm > myLastTerm || (lastTerm === myLastTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The largest index at or before `index` whose term is at most `term`:
   * every entry after it cannot match a log whose entry at `index` has `term`.
   * Both sides of a conflict use it to skip whole terms at once.
   */
  lastIndexWithTermAtMost(index: LogIndex, term: Term): LogIndex {
    let probe = Math.min(index, this.lastIndex());
    while (probe > this.offset) {
      if (this.termAt(probe)! <= term) return probe;
      probe--;
    }
    return this.offset;
  }

  /** Appends at the end of the log; entries[0] may overwrite an uncommitted suffix. */
  append(newEntries: readonly Entry[]): void {
    const first = newEntries[0];
    if (first === undefined) return;
    if (first.index <= this.committed) {
      throw new Error(`raft log: overwriting committed entry ${first.index} (committed ${this.committed})`);
    }
    if (first.index > this.lastIndex() + 1) {
      throw new Error(`raft log: gap appending ${first.index} after ${this.lastIndex()}`);
    }
    this.entries.length = first.index - this.offset - 1;
    this.stable = Math.min(this.stable, first.index - 1);
    for (const entry of newEntries) this.entries.push(entry);
  }

  /**
   * A follower's append: keep entries it already has, cut the log at the first
   * conflict, add the rest. Returns the last index now known to match the
   * leader, or null when (prevIndex, prevTerm) does not match.
   */
  appendFromLeader(prevIndex: LogIndex, prevTerm: Term, entries: readonly Entry[]): LogIndex | null {
    if (prevIndex < this.offset) {
      // The prefix is compacted away, hence committed and equal to the leader's: skip it.
      const skip = this.offset - prevIndex;
      if (skip > entries.length) return this.offset;
      const boundary = entries[skip - 1];
      if (boundary !== undefined && boundary.term !== this.offsetTerm) {
        throw new Error(`raft log: leader disagrees with the compacted log at ${this.offset}`);
      }
      return this.appendFromLeader(this.offset, this.offsetTerm, entries.slice(skip));
    }
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    let k = 0;
    while (k < entries.length && this.matchTerm(entries[k]!.index, entries[k]!.term)) k++;
    if (k < entries.length) this.append(entries.slice(k));
    return prevIndex + entries.length;
  }

  /** Committed entries not yet handed to the application, at most `bytesMax` (but at least one). */
  nextToApply(bytesMax: number): Entry[] {
    if (this.committed <= this.applied) return [];
    return this.slice(this.applied + 1, this.committed, bytesMax);
  }

  /** Like nextToApply, but only entries durable here (up to `stable`). */
  nextDurableToApply(bytesMax: number): Entry[] {
    const upTo = Math.min(this.committed, this.stable);
    if (upTo <= this.applied) return [];
    return this.slice(this.applied + 1, upTo, bytesMax);
  }

  unstableEntries(): Entry[] {
    if (this.stable < this.offset) {
      throw new Error(`raft log: durable index ${this.stable} is behind the compacted log at ${this.offset}`);
    }
    return this.entries.slice(this.stable - this.offset);
  }

  /** The entries up to (index, term) are durable, if that entry is still the one written. */
  stableTo(index: LogIndex, term: Term): void {
    if (this.matchTerm(index, term) && index > this.stable) this.stable = index;
  }

  /**
   * Records a snapshot the application has taken (index <= applied) and drops
   * the entries it covers, except the last `keepEntries` of them.
   */
  compact(snapshot: SnapshotMeta, keepEntries = 0): void {
    if (snapshot.index > this.applied) {
      throw new Error(`raft log: compacting to ${snapshot.index} beyond applied ${this.applied}`);
    }
    if (snapshot.index <= this.snapshotMeta.index) return;
    this.snapshotMeta = snapshot;
    // Everything the snapshot covers is durable in it.
    this.stable = Math.max(this.stable, snapshot.index);
    const newOffset = Math.max(this.offset, snapshot.index - keepEntries);
    if (newOffset === this.offset) return;
    this.offsetTerm = this.termAt(newOffset)!;
    this.entries = this.entries.slice(newOffset - this.offset);
    this.offset = newOffset;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  restore(snapshot: SnapshotMeta): void {
    this.snapshotMeta = snapshot;
    this.offset = snapshot.index;
    this.offsetTerm = snapshot.term;
    this.entries = [];
    this.committed = snapshot.index;
    this.applied = snapshot.index;
    this.stable = snapshot.index;
  }
}
