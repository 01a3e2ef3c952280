/**
 * The in-memory mirror of the dedup table (client id -> last sequence, last
 * reply, last seen index), kept in order of last seen index so that expiry
 * looks only at the oldest entries.
 *
 * Expiry counts log entries, never wall-clock time: every replica applies the
 * same entries, so every replica drops the same clients at the same index, and
 * a replayed log or a restored snapshot gives the same table. A client's entry
 * is dropped at index lastSeenIndex + idleEntriesMax + 1. Each index touches at
 * most one client, so last seen indexes are distinct and at most one entry
 * expires per applied index (more only if idleEntriesMax was lowered).
 */
import type { LogIndex } from '../raft/types.js';
import type { DedupEntry } from './keyspace.js';

export class DedupTable {
  /** Insertion order is last-seen order: record() moves a client to the end. */
  private readonly byClient = new Map<string, DedupEntry>();
  /** The largest last seen index recorded: a new record may not go back before it. */
  private newestSeenIndex: LogIndex = 0;

  constructor(
    /** Log entries a client may stay silent before its entry is dropped; the same on every replica. */
    readonly idleEntriesMax: number,
    entries: Iterable<readonly [string, DedupEntry]> = [],
  ) {
    if (!Number.isSafeInteger(idleEntriesMax) || idleEntriesMax < 1) {
      throw new Error(`dedup idleEntriesMax must be a positive integer, got ${idleEntriesMax}`);
    }
    const sorted = [...entries].sort(([, a], [, b]) => a.lastSeenIndex - b.lastSeenIndex);
    for (const [clientId, entry] of sorted) this.record(clientId, entry);
  }

  get size(): number {
    return this.byClient.size;
  }

  get(clientId: string): DedupEntry | undefined {
    return this.byClient.get(clientId);
  }

  /** Every entry, least recently seen first. */
  entries(): IterableIterator<[string, DedupEntry]> {
    return this.byClient.entries();
  }

  /** Removes and returns the clients idle for more than idleEntriesMax entries as of `index`, oldest first. */
  expire(index: LogIndex): string[] {
    const expired: string[] = [];
    for (const [clientId, entry] of this.byClient) {
      if (index - entry.lastSeenIndex <= this.idleEntriesMax) break;
      expired.push(clientId);
    }
    for (const clientId of expired) this.byClient.delete(clientId);
    return expired;
  }

  /** Records the client's latest request; it becomes the most recently seen. */
  record(clientId: string, entry: DedupEntry): void {
    // The order invariant expiry relies on: entries are appended in last-seen order.
    if (entry.lastSeenIndex < this.newestSeenIndex) {
      throw new Error(
        `dedup table: client ${clientId} seen at index ${entry.lastSeenIndex}, ` +
          `before the newest entry's ${this.newestSeenIndex}`,
      );
    }
    this.newestSeenIndex = entry.lastSeenIndex;
    this.byClient.delete(clientId);
    this.byClient.set(clientId, entry);
  }
}
