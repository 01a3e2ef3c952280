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
import type { ClientStamp, KvReply } from './commands.js';
import { failed, staleSequence } from './commands.js';
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

/**
 * A write, applied at most once per (client id, sequence): a retry of the
 * client's latest request gets that request's reply again, an older one is
 * refused as stale, and a new one is run (`run` does its writes and gives its
 * reply). Failures are remembered too: a retried append over the size limit
 * must not succeed later. Answers the reply and the client's new entry.
 */
export function applyOnce(
  known: DedupEntry | undefined,
  command: ClientStamp,
  index: LogIndex,
  run: () => KvReply,
): { reply: KvReply; entry: DedupEntry } {
  if (known !== undefined && command.sequence <= known.lastSequence) {
    const reply =
      command.sequence === known.lastSequence
        ? known.lastReply
        : failed(staleSequence(command.sequence, known.lastSequence));
    return { reply, entry: { ...known, lastSeenIndex: index } };
  }
  const reply = run();
  return { reply, entry: { lastSequence: command.sequence, lastReply: reply, lastSeenIndex: index } };
}
