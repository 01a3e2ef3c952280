/**
 * What the RESP server needs of the replicated store, and nothing more: one
 * session per connection that gets, puts, appends and deletes. Whoever
 * implements it (on top of the client library, which finds the leader and
 * retries) owns everything Raft: leaders, groups, client ids, sequences.
 *
 * A session exists because exactly-once writes need one client id per
 * connection with one write in flight at a time; the server guarantees
 * both, so a session can stamp writes with a plain counter.
 */
import type { SetOptions, SetOutcome, SetTtl, ValueWithExpiry } from '../../client/kv-operations.js';
import type { KvErrorCode } from '../../kv/index.js';

export type { SetOptions, SetOutcome, SetTtl, ValueWithExpiry };

/**
 * Why a call was not served. The KV codes (keyTooLarge, valueTooLarge, ...)
 * are the state machine's own refusals. The others are the service's, with
 * a contract the server relies on when it picks the Redis error:
 *
 * - notLeader, overloaded, unavailable, timeout: nothing was applied; the
 *   same call may simply be sent again (Redis clients retry TRYAGAIN).
 * - outcomeUnknown: a write may or may not have been applied, and the
 *   session gave up retrying it; a blind retry could apply it twice.
 * - stopped: the session or the node behind it is shutting down.
 * - wrongService: the members behind the session are not nodes of a KV
 *   group (a configuration mistake); nothing was applied, and no retry helps.
 */
export type BackendErrorCode =
  KvErrorCode | 'notLeader' | 'overloaded' | 'unavailable' | 'timeout' | 'outcomeUnknown' | 'stopped' | 'wrongService';

export interface BackendFailure {
  readonly ok: false;
  readonly code: BackendErrorCode;
  /** Said to the user as is, after the Redis error prefix: a full sentence on what happened and what to do. */
  readonly message: string;
}

export type BackendOutcome<T> = { readonly ok: true; readonly value: T } | BackendFailure;

/**
 * One connection's view of the store. The server never overlaps calls on
 * one session: each call starts after the previous one settled. Calls never
 * reject; every failure is a BackendFailure. The key and value bytes are
 * views into the connection's read buffer, never changed afterwards; copy
 * them to keep them without keeping that buffer alive.
 */
export interface RespSession {
  /** The value, or null when the key is absent. A linearizable read. */
  get(key: Uint8Array): Promise<BackendOutcome<Uint8Array | null>>;
  /** The value and when it expires (TTL, PTTL). A linearizable read. */
  getWithExpiry(key: Uint8Array): Promise<BackendOutcome<ValueWithExpiry>>;
  /** Puts with no expiry (a plain SET). */
  put(key: Uint8Array, value: Uint8Array): Promise<BackendOutcome<void>>;
  /** SET with options: condition, expiry, previous value; atomic in the store. */
  set(key: Uint8Array, value: Uint8Array, options: SetOptions): Promise<BackendOutcome<SetOutcome>>;
  /** Adds to the 64-bit integer value (absent counts as 0); answers the new value. Atomic in the store. */
  incrBy(key: Uint8Array, delta: bigint): Promise<BackendOutcome<bigint>>;
  /** Deletes the key; answers the value it had. Atomic in the store. */
  getDelete(key: Uint8Array): Promise<BackendOutcome<Uint8Array | null>>;
  /** Appends to the current value (an absent key counts as empty); answers the length after the append, in bytes. */
  append(key: Uint8Array, value: Uint8Array): Promise<BackendOutcome<number>>;
  /** Answers whether the key was there. */
  delete(key: Uint8Array): Promise<BackendOutcome<boolean>>;
  /** How many live keys the store holds (DBSIZE); see KvOperations.countKeys. */
  countKeys(): Promise<BackendOutcome<number>>;
  /** Called once, when the connection has closed and no call is in flight. */
  close(): void;
}

export interface RespBackend {
  /** Called once per accepted connection. */
  openSession(): RespSession;
}
