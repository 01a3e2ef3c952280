/**
 * Exactly-once for admin clients: client id -> last sequence, the reply it
 * got, and the log index it was last seen at, expiring idle clients by log
 * entries exactly as the KV state machine does.
 *
 * The sequence and expiry bookkeeping is kv's DedupTable, reused as is. Its
 * entries are typed for KV replies, so the table holds a fixed placeholder
 * there and the meta replies live beside it, keyed by the same client ids
 * and dropped when DedupTable expires them. (A generic DedupTable<Reply> in
 * kv/ would remove the placeholder; kv/ is not this layer's to change.)
 *
 * An ok reply holds a config of the version chain, shared with it, so a
 * remembered reply costs a reference, not a copy of the config.
 */
import { DedupTable } from '../kv/dedup-table.js';
import type { DedupEntry } from '../kv/keyspace.js';
import type { LogIndex } from '../raft/types.js';
import type { MetaReply } from './commands.js';

/** Stands in for the reply in DedupTable's entries; the real one is in ClientTable.replies. */
const PLACEHOLDER_KV_REPLY = Object.freeze({ ok: true as const });

/** What the table remembers of one client. */
export interface ClientRecord {
  readonly lastSequence: number;
  readonly lastReply: MetaReply;
  readonly lastSeenIndex: LogIndex;
}

export class ClientTable {
  private readonly sequences: DedupTable;
  private readonly replies = new Map<string, MetaReply>();

  constructor(
    /** Log entries a client may stay silent before it is forgotten; the same on every replica. */
    readonly idleEntriesMax: number,
    records: Iterable<readonly [string, ClientRecord]> = [],
  ) {
    const entries: [string, DedupEntry][] = [];
    for (const [clientId, record] of records) {
      if (this.replies.has(clientId)) throw new Error(`client table: client ${clientId} given twice`);
      this.replies.set(clientId, record.lastReply);
      entries.push([
        clientId,
        {
          lastSequence: record.lastSequence,
          lastReply: PLACEHOLDER_KV_REPLY,
          lastSeenIndex: record.lastSeenIndex,
          stampMsMax: 0,
        },
      ]);
    }
    // Admin clients are few: the count bound that guards the KV groups against connection churn is not needed here.
    this.sequences = new DedupTable({ idleEntriesMax, clientsMax: Number.MAX_SAFE_INTEGER }, entries);
  }

  get size(): number {
    return this.sequences.size;
  }

  get(clientId: string): ClientRecord | undefined {
    const entry = this.sequences.get(clientId);
    if (entry === undefined) return undefined;
    return { lastSequence: entry.lastSequence, lastReply: this.reply(clientId), lastSeenIndex: entry.lastSeenIndex };
  }

  /** Every client, least recently seen first. */
  *entries(): IterableIterator<[string, ClientRecord]> {
    for (const [clientId, entry] of this.sequences.entries()) {
      yield [
        clientId,
        { lastSequence: entry.lastSequence, lastReply: this.reply(clientId), lastSeenIndex: entry.lastSeenIndex },
      ];
    }
  }

  /** Forgets the clients idle for more than idleEntriesMax entries as of `index`. */
  expire(index: LogIndex): void {
    for (const clientId of this.sequences.expire(index)) this.replies.delete(clientId);
  }

  /** Records the client's latest request; it becomes the most recently seen. */
  record(clientId: string, record: ClientRecord): void {
    this.sequences.record(clientId, {
      lastSequence: record.lastSequence,
      lastReply: PLACEHOLDER_KV_REPLY,
      lastSeenIndex: record.lastSeenIndex,
      // Meta commands carry no proposer clock; the floor stays 0 and never refuses anyone.
      stampMsMax: 0,
    });
    this.replies.set(clientId, record.lastReply);
  }

  private reply(clientId: string): MetaReply {
    const reply = this.replies.get(clientId);
    if (reply === undefined) throw new Error(`client table: no reply kept for client ${clientId}`);
    return reply;
  }
}
