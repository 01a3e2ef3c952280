/**
 * The meta group's state machine: the version chain of configs, changed by
 * join, leave, move and members commands applied in log order, exactly once
 * per (client id, sequence).
 *
 * It lives in memory. That is enough because the Raft log and the snapshots
 * are what is durable: a restarted member restores the latest snapshot and
 * replays the log after it. The whole state is small (configs of at most
 * BUCKET_COUNT_MAX buckets, one per admin operation), so snapshots are
 * cheap; the node's snapshotEveryEntries bounds the replay.
 *
 * Everything here is synchronous; applyBatch returns a promise only because
 * the port asks for one. Replies are built from the command and the state
 * alone, so every replica answers the same entry with the same reply.
 */
import type { ApplyEntry, ReplicatedStateMachine } from '../node/ports.js';
import type { LogIndex } from '../raft/types.js';
import { ClientTable } from './client-table.js';
import type { ClientRecord } from './client-table.js';
import { decodeMetaCommand } from './command-codec.js';
import type { MetaReply, MetaWriteCommand } from './commands.js';
import { failed, malformedCommand, noSuchVersion, ok, staleSequence } from './commands.js';
import type { ShardConfig } from './config.js';
import { emptyConfig } from './config.js';
import { MetaDecodeError } from './errors.js';
import { executeWrite } from './execute-command.js';
import { readSnapshot, snapshotChunks } from './snapshot-format.js';

/**
 * Log entries an admin client may stay silent before it is forgotten: a retry
 * must come within this many entries of the client's previous request. Admin
 * operations are rare, so 100k entries is months of them; it also bounds the
 * table, since each entry touches at most one client.
 */
export const META_DEDUP_IDLE_ENTRIES_MAX_DEFAULT = 100_000;
/** Size of the chunks snapshot() yields: a config of 1024 buckets is ~5 KiB, so a few configs per chunk. */
export const SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT = 64 * 1024;

export interface MetaStateMachineOptions {
  /** Must be the same on every replica, or their dedup tables diverge. */
  readonly dedupIdleEntriesMax?: number;
  readonly snapshotChunkBytesMax?: number;
}

export class MetaStateMachine implements ReplicatedStateMachine {
  private applied: LogIndex = 0;
  private bucketCountFixed: number | null = null;
  /** Versions 1..n: configs[k] is version k + 1. Version 0 is `empty`. */
  private configs: ShardConfig[] = [];
  private empty: ShardConfig = emptyConfig(null);
  private clients: ClientTable;
  /** Set while restore() reads its chunks: the state is about to be replaced, so nothing may read or apply. */
  private restoring = false;
  private readonly options: Required<MetaStateMachineOptions>;

  constructor(options: MetaStateMachineOptions = {}) {
    this.options = {
      dedupIdleEntriesMax: options.dedupIdleEntriesMax ?? META_DEDUP_IDLE_ENTRIES_MAX_DEFAULT,
      snapshotChunkBytesMax: options.snapshotChunkBytesMax ?? SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT,
    };
    if (!Number.isSafeInteger(this.options.snapshotChunkBytesMax) || this.options.snapshotChunkBytesMax < 1) {
      throw new Error(`snapshotChunkBytesMax must be a positive integer, got ${this.options.snapshotChunkBytesMax}`);
    }
    this.clients = new ClientTable(this.options.dedupIdleEntriesMax);
  }

  get appliedIndex(): LogIndex {
    return this.applied;
  }

  /** The number of buckets, fixed by the first successful join; null before it. */
  get bucketCount(): number | null {
    return this.bucketCountFixed;
  }

  /** The newest config (version 0, the empty one, before any change). */
  get latest(): ShardConfig {
    return this.configs.at(-1) ?? this.empty;
  }

  /**
   * Config `version`, or the latest when null, as of the last applied entry.
   * For a linearizable read, call it after the node's readBarrier() resolves.
   */
  query(version: number | null): MetaReply {
    this.assertNotRestoring('query');
    if (version === null) return ok(this.latest);
    if (version === 0) return ok(this.empty);
    const config = Number.isSafeInteger(version) && version > 0 ? this.configs[version - 1] : undefined;
    return config === undefined ? failed(noSuchVersion(version, this.latest.version)) : ok(config);
  }

  /** What the machine remembers of an admin client, if anything. */
  clientRecord(clientId: string): ClientRecord | undefined {
    return this.clients.get(clientId);
  }

  /**
   * Applies consecutive committed entries, the first at appliedIndex + 1.
   * Never throws for bad command bytes (every replica would throw at the same
   * entry, forever): they get a malformedCommand reply and change nothing.
   */
  applyBatch(entries: readonly ApplyEntry[]): Promise<(MetaReply | undefined)[]> {
    this.assertNotRestoring('applyBatch');
    entries.forEach((entry, offset) => {
      if (entry.index !== this.applied + 1 + offset) {
        throw new Error(
          `meta state machine: entry ${entry.index} at offset ${offset} of a batch applied after ${this.applied}; ` +
            'entries must be consecutive and follow appliedIndex',
        );
      }
    });
    const replies = entries.map((entry) => {
      // Expiry runs at every index, commands or not, so that it depends on the log alone.
      this.clients.expire(entry.index);
      const reply = entry.command === null ? undefined : this.applyCommand(entry.index, entry.command);
      this.applied = entry.index;
      return reply;
    });
    return Promise.resolve(replies);
  }

  private applyCommand(index: LogIndex, bytes: Uint8Array): MetaReply {
    let command;
    try {
      command = decodeMetaCommand(bytes);
    } catch (error) {
      if (error instanceof MetaDecodeError) return failed(malformedCommand(error.problem));
      throw error;
    }
    if (command.type === 'query') return this.query(command.version);

    const known = this.clients.get(command.clientId);
    let reply: MetaReply;
    if (known !== undefined && command.sequence <= known.lastSequence) {
      // A retry of the latest request gets its reply again; an older one was answered long ago.
      reply =
        command.sequence === known.lastSequence
          ? known.lastReply
          : failed(staleSequence(command.sequence, known.lastSequence));
      this.clients.record(command.clientId, { ...known, lastSeenIndex: index });
      return reply;
    }
    reply = this.execute(command);
    // Failures are remembered too: a retried join that was refused must not succeed later.
    this.clients.record(command.clientId, { lastSequence: command.sequence, lastReply: reply, lastSeenIndex: index });
    return reply;
  }

  private execute(command: MetaWriteCommand): MetaReply {
    const outcome = executeWrite({ latest: this.latest, bucketCount: this.bucketCountFixed }, command);
    if (!outcome.ok) return failed(outcome.error);
    // Nothing changed (a members list already in place): the reply is the latest config, already in the chain.
    if (!outcome.created) return ok(outcome.config);
    if (outcome.bucketCount !== this.bucketCountFixed) {
      this.bucketCountFixed = outcome.bucketCount;
      this.empty = emptyConfig(outcome.bucketCount);
    }
    this.configs.push(outcome.config);
    return ok(outcome.config);
  }

  /**
   * The state as of appliedIndex, taken now: the node goes on applying while
   * it reads the chunks. Configs and replies are immutable, so copying the
   * lists that hold them is enough; the lines are encoded as chunks are read.
   */
  snapshot(): AsyncGenerator<Uint8Array> {
    this.assertNotRestoring('snapshot');
    return snapshotChunks(
      {
        appliedIndex: this.applied,
        bucketCount: this.bucketCountFixed,
        configs: [...this.configs],
        clients: [...this.clients.entries()],
      },
      this.options.snapshotChunkBytesMax,
    );
  }

  /**
   * Replaces the whole state with the snapshot's, which must end at log index
   * `index`. The stream is read and checked in full first, so a damaged one
   * (MetaSnapshotCorruptionError) leaves the state as it was.
   */
  async restore(chunks: AsyncIterable<Uint8Array>, index: LogIndex): Promise<void> {
    this.assertNotRestoring('restore');
    this.restoring = true;
    try {
      const state = await readSnapshot(chunks, index);
      this.applied = state.appliedIndex;
      this.bucketCountFixed = state.bucketCount;
      this.empty = emptyConfig(state.bucketCount);
      this.configs = [...state.configs];
      this.clients = new ClientTable(this.options.dedupIdleEntriesMax, state.clients);
    } finally {
      this.restoring = false;
    }
  }

  private assertNotRestoring(what: string): void {
    if (this.restoring) throw new Error(`meta state machine: ${what} called while a restore is running; await it`);
  }
}
