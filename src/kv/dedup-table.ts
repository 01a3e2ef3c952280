/**
 * The in-memory mirror of the dedup table (client id -> last sequence, last
 * reply, last seen index), kept in order of last seen index so that expiry
 * and eviction look only at the oldest entries.
 *
 * Two limits drop entries, and both count log entries, never wall-clock
 * time: every replica applies the same entries, so every replica drops the
 * same clients at the same index, and a replayed log or a restored snapshot
 * gives the same table.
 * - Idle expiry: a client's entry is dropped at index lastSeenIndex +
 *   idleEntriesMax + 1. Each index touches at most one client, so last seen
 *   indexes are distinct (but for a bucket install, which records many at
 *   one index) and at most one entry expires per applied index.
 * - Count: recording a client the table does not hold while it holds
 *   clientsMax evicts the least recently seen one. Without it, a workload
 *   that opens a connection per request (each one a new client id) would
 *   keep idleEntriesMax entries: memory that grows with connections, not data.
 *
 * A dropped client may still retry a request the group applied, and to the
 * table it then looks like a new client. So the table keeps a floor: the
 * largest proposer clock among the requests of every client it dropped. A
 * write stamps the proposer's clock once and every retry sends the same
 * bytes, so a retry of an applied request whose entry is gone carries a
 * stamp at or below the floor: unknown clients at or below it are refused
 * with sessionExpired, never applied twice (the Raft dissertation, §6.3,
 * refuses expired sessions alike). Safety needs no clock agreement; a client
 * whose clock lags the dropped ones' could only be refused when new, which
 * its error says. The floor lives in the engine as the entry of a reserved
 * client id, so snapshots, restores and bucket transfers carry it with the
 * other entries.
 */
import type { LogIndex } from '../raft/types.js';
import type { ClientStamp, KvReply, ProposerClock } from './commands.js';
import { failed, malformedCommand, sessionExpired, staleSequence } from './commands.js';
import type { EngineWrite } from './engine.js';
import type { DedupEntry } from './keyspace.js';
import { encodeDedupEntry } from './keyspace.js';

/**
 * Clients remembered at most, per group. ~200 bytes each in memory (more with
 * large replies), so ~20 MB at most; a retry must come before this many other
 * clients have started, which at 10k new connections/s is 10 s.
 */
export const DEDUP_CLIENTS_MAX_DEFAULT = 100_000;
/** Holds the floor in the engine: no client can use it (a NUL first byte; applyOnce refuses it). */
export const DEDUP_FLOOR_CLIENT_ID = '\u0000floor';

export interface DedupLimits {
  /** Log entries a client may stay silent before its entry is dropped; the same on every replica. */
  readonly idleEntriesMax: number;
  /** Clients held at most; recording one more evicts the least recently seen. The same on every replica. */
  readonly clientsMax: number;
}

export class DedupTable {
  /** Insertion order is last-seen order: record() moves a client to the end. */
  private readonly byClient = new Map<string, DedupEntry>();
  /** The largest last seen index recorded: a new record may not go back before it. */
  private newestSeenIndex: LogIndex = 0;
  /** The largest proposer clock of any dropped client's requests (the file comment says why). */
  private floorMs = 0;

  constructor(
    readonly limits: DedupLimits,
    /** As the engine holds them: any order, the floor's reserved entry among them. */
    entries: Iterable<readonly [string, DedupEntry]> = [],
  ) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new Error(`dedup ${name} must be a positive integer, got ${value}`);
      }
    }
    const clients = [...entries].filter(([clientId, entry]) => {
      if (clientId !== DEDUP_FLOOR_CLIENT_ID) return true;
      this.floorMs = entry.stampMsMax;
      return false;
    });
    // Ties (a bucket install records many clients at one index) are broken by id, as executeInstall records them.
    clients.sort(([idA, a], [idB, b]) => a.lastSeenIndex - b.lastSeenIndex || compareClientIds(idA, idB));
    // Over clientsMax only if it was lowered: the extra records stay in the engine until the next drop rewrites them.
    for (const [clientId, entry] of clients) this.record(clientId, entry);
  }

  get size(): number {
    return this.byClient.size;
  }

  /** Unknown clients whose request is stamped at or below this are refused (sessionExpired). */
  get stampMsFloor(): number {
    return this.floorMs;
  }

  get(clientId: string): DedupEntry | undefined {
    return this.byClient.get(clientId);
  }

  /** Every client's entry, least recently seen first; the floor is not among them. */
  entries(): IterableIterator<[string, DedupEntry]> {
    return this.byClient.entries();
  }

  /** What the engine stores under DEDUP_FLOOR_CLIENT_ID. */
  floorEntry(): DedupEntry {
    return { lastSequence: 1, lastReply: { ok: true }, lastSeenIndex: 0, stampMsMax: this.floorMs };
  }

  /** Removes and returns the clients idle for more than idleEntriesMax entries as of `index`, oldest first. */
  expire(index: LogIndex): string[] {
    const expired: string[] = [];
    for (const [clientId, entry] of this.byClient) {
      if (index - entry.lastSeenIndex <= this.limits.idleEntriesMax) break;
      expired.push(clientId);
    }
    for (const clientId of expired) this.drop(clientId);
    return expired;
  }

  /**
   * Records the client's latest request; it becomes the most recently seen.
   * Answers the clients evicted to make room for it, oldest first.
   */
  record(clientId: string, entry: DedupEntry): string[] {
    // The order invariant expiry relies on: entries are appended in last-seen order.
    if (entry.lastSeenIndex < this.newestSeenIndex) {
      throw new Error(
        `dedup table: client ${clientId} seen at index ${entry.lastSeenIndex}, ` +
          `before the newest entry's ${this.newestSeenIndex}`,
      );
    }
    if (clientId === DEDUP_FLOOR_CLIENT_ID) throw new Error('dedup table: the floor is not a client');
    this.newestSeenIndex = entry.lastSeenIndex;
    const evicted: string[] = [];
    if (!this.byClient.delete(clientId)) {
      for (const [oldest] of this.byClient) {
        if (this.byClient.size < this.limits.clientsMax) break;
        this.drop(oldest);
        evicted.push(oldest);
      }
    }
    this.byClient.set(clientId, entry);
    return evicted;
  }

  /** Raises the floor to `stampMs` (a bucket's previous owner sends its own floor along). */
  raiseFloor(stampMs: number): void {
    this.floorMs = Math.max(this.floorMs, stampMs);
  }

  private drop(clientId: string): void {
    const entry = this.byClient.get(clientId);
    if (entry === undefined) return;
    this.raiseFloor(entry.stampMsMax);
    this.byClient.delete(clientId);
  }
}

/** The order the table breaks ties in; any fixed order does, as long as every caller uses this one. */
export function compareClientIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The engine writes that persist dropping `clientIds` (expired or evicted):
 * their records go, and the floor's record takes the raised floor, in the
 * same batch. `keyOf` is the caller's key layout for a client's record.
 */
export function droppedClientWrites(
  table: DedupTable,
  clientIds: readonly string[],
  keyOf: (clientId: string) => Uint8Array,
): EngineWrite[] {
  if (clientIds.length === 0) return [];
  const writes: EngineWrite[] = clientIds.map((clientId) => ({ type: 'delete', key: keyOf(clientId) }));
  writes.push({ type: 'put', key: keyOf(DEDUP_FLOOR_CLIENT_ID), value: encodeDedupEntry(table.floorEntry()) });
  return writes;
}

/**
 * A write, applied at most once per (client id, sequence): a retry of the
 * client's latest request gets that request's reply again, an older one is
 * refused as stale, and a new one is run (`run` does its writes and gives its
 * reply). Failures are remembered too: a retried append over the size limit
 * must not succeed later. A client the table does not hold, with a request
 * stamped at or below the floor, may be retrying a request applied before it
 * was dropped: refused with sessionExpired, and remembered like any reply.
 * Answers the reply and the client's new entry, null when it must not be
 * recorded (a command using the floor's reserved id).
 */
export function applyOnce(
  table: DedupTable,
  command: ClientStamp & ProposerClock,
  index: LogIndex,
  run: () => KvReply,
): { reply: KvReply; entry: DedupEntry | null } {
  if (command.clientId === DEDUP_FLOOR_CLIENT_ID) {
    return {
      reply: failed(malformedCommand('the client id is reserved for the dedup table; pick another')),
      entry: null,
    };
  }
  const known = table.get(command.clientId);
  const stampMs = command.nowMs ?? 0;
  const stampMsMax = Math.max(known?.stampMsMax ?? 0, stampMs);
  if (known !== undefined && command.sequence <= known.lastSequence) {
    const reply =
      command.sequence === known.lastSequence
        ? known.lastReply
        : failed(staleSequence(command.sequence, known.lastSequence));
    return { reply, entry: { ...known, lastSeenIndex: index, stampMsMax } };
  }
  let reply: KvReply;
  if (known === undefined && command.nowMs !== undefined && stampMs <= table.stampMsFloor) {
    reply = failed(sessionExpired(command.sequence));
  } else {
    reply = run();
  }
  return { reply, entry: { lastSequence: command.sequence, lastReply: reply, lastSeenIndex: index, stampMsMax } };
}
