/**
 * The RESP server's backend on top of the client library: each RESP
 * connection gets its own client (a KvClient for one group, a ShardedKvClient
 * for a cluster), with a client id of its own, so that the writes of a
 * connection are exactly-once and in order whichever member answers them.
 * The client finds the leader (and the group of each key) and forwards
 * there, which is how a follower, or a node of another group, answers.
 */
import { randomUUID } from 'node:crypto';
import type { ClientClock, GroupChannel } from '../client/channel.js';
import { ClientError } from '../client/errors.js';
import { KvClient } from '../client/kv-client.js';
import type { SetOptions, SetOutcome, ValueWithExpiry } from '../client/kv-operations.js';
import type { LocalKvMember } from '../client/local-member.js';
import type { RequestObserver } from '../metrics/metrics-source.js';
import type { NodeId } from '../raft/index.js';
import type { BackendFailure, BackendOutcome, RespBackend, RespSession } from './resp/resp-backend.js';

/** What a RESP session needs of a client: KvClient (one group) and ShardedKvClient (a cluster) both are. */
export interface SessionClient {
  get(key: Uint8Array): Promise<Uint8Array | null>;
  getWithExpiry(key: Uint8Array): Promise<ValueWithExpiry>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  set(key: Uint8Array, value: Uint8Array, options: SetOptions): Promise<SetOutcome>;
  incrBy(key: Uint8Array, delta: bigint): Promise<bigint>;
  getDelete(key: Uint8Array): Promise<Uint8Array | null>;
  countKeys(): Promise<number>;
  append(key: Uint8Array, value: Uint8Array): Promise<number>;
  delete(key: Uint8Array): Promise<boolean>;
  close(): void;
}

/** Makes the client of one RESP connection, with a client id of its own. */
export type SessionClientFactory = (clientId: string, deadlineMs: number) => SessionClient;

export interface ClientBackendOptions {
  /** How long a session keeps retrying one request before it answers an error. */
  readonly deadlineMs?: number;
  /** Told of every request served, by operation (get, put, append, delete), with its duration (metrics). */
  readonly observer?: RequestObserver;
}

/** Long enough to ride out a leader election, short enough that a RESP client is not left hanging. */
const SESSION_DEADLINE_MS_DEFAULT = 5_000;

export class ClientBackend implements RespBackend {
  private readonly deadlineMs: number;
  private readonly observer: RequestObserver | null;

  constructor(
    private readonly newClient: SessionClientFactory,
    options: ClientBackendOptions = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? SESSION_DEADLINE_MS_DEFAULT;
    this.observer = options.observer ?? null;
  }

  /** Sessions on KvClients of one replica group, sharing `channel`'s connections; `local` is served directly while it leads. */
  static forGroup(
    members: readonly NodeId[],
    channel: GroupChannel,
    clock: ClientClock,
    options: ClientBackendOptions & { readonly local?: LocalKvMember } = {},
  ): ClientBackend {
    const local = options.local === undefined ? {} : { local: options.local };
    return new ClientBackend(
      (clientId, deadlineMs) =>
        new KvClient({ members, channel, clock, clientId, random: Math.random, deadlineMs, ...local }),
      options,
    );
  }

  openSession(): RespSession {
    const client = this.newClient(`resp-${randomUUID()}`, this.deadlineMs);
    return {
      get: (key) => this.call('get', 'read', client.get(key)),
      getWithExpiry: (key) => this.call('get', 'read', client.getWithExpiry(key)),
      put: (key, value) => this.call('put', 'write', client.put(key, value)),
      set: (key, value, options) => this.call('set', 'write', client.set(key, value, options)),
      incrBy: (key, delta) => this.call('incrby', 'write', client.incrBy(key, delta)),
      getDelete: (key) => this.call('getdel', 'write', client.getDelete(key)),
      countKeys: () => this.call('dbsize', 'read', client.countKeys()),
      append: (key, value) => this.call('append', 'write', client.append(key, value)),
      delete: (key) => this.call('delete', 'write', client.delete(key)),
      close: () => client.close(),
    };
  }

  /**
   * The outcome of a client call already started, told to the observer with
   * its duration. One async function per request, not one per concern: this
   * runs for every request a RESP connection sends. An observer that throws
   * is ignored (the reply matters more).
   */
  private async call<T>(operation: string, kind: 'read' | 'write', pending: Promise<T>): Promise<BackendOutcome<T>> {
    const startMs = this.observer === null ? 0 : performance.now();
    let result: BackendOutcome<T>;
    try {
      result = { ok: true, value: await pending };
    } catch (error) {
      if (!(error instanceof ClientError)) {
        this.observe(operation, startMs, false);
        throw error;
      }
      result = failure(error, kind);
    }
    this.observe(operation, startMs, result.ok);
    return result;
  }

  private observe(operation: string, startMs: number, ok: boolean): void {
    if (this.observer === null) return;
    try {
      this.observer.observeRequest(operation, performance.now() - startMs, ok);
    } catch {
      // See call().
    }
  }
}

function failure(error: ClientError, kind: 'read' | 'write'): BackendFailure {
  switch (error.code) {
    case 'deadlineExceeded':
      // A read changed nothing and may be sent again; a write may have been applied.
      return { ok: false, code: kind === 'read' ? 'timeout' : 'outcomeUnknown', message: error.message };
    case 'closed':
      return { ok: false, code: 'stopped', message: error.message };
    case 'wrongService':
    case 'rejected':
      // Both mean this node was pointed at the wrong place: retrying will not help.
      return { ok: false, code: 'wrongService', message: error.message };
    case 'keyTooLarge':
    case 'valueTooLarge':
    case 'casMismatch':
    case 'staleSequence':
    case 'malformedCommand':
    case 'notAnInteger':
    case 'incrementOverflow':
    case 'sessionExpired':
      return { ok: false, code: error.code, message: error.message };
  }
}
