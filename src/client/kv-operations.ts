/**
 * The KV operations every KV client offers, written once: get, put, append,
 * delete and compare-and-set as commands of one session, each write stamped
 * with the session's next sequence. Where a command goes (one group, or the
 * group of its key's bucket) is the subclass's send().
 */
import type {
  ClientStamp,
  KvKeyCommand,
  KvOk,
  KvWriteCommand,
  ProposerClock,
  SetCondition,
  SetExpiry,
} from '../kv/commands.js';
import { ClientError } from './errors.js';
import { ClientSession } from './session.js';

export type Bytes = Uint8Array | string;

export interface GetOptions {
  /** Read any replica's applied state without confirming it is current. */
  readonly stale?: boolean;
}

/** When a set value expires: never, as the current value does (KEEPTTL), or this long after the write. */
export type SetTtl =
  | { readonly type: 'none' }
  | { readonly type: 'keep' }
  /** This long after the write, by the writer's clock. */
  | { readonly type: 'afterMs'; readonly ttlMs: number }
  /** At this wall-clock time, ms since the epoch. */
  | { readonly type: 'atMs'; readonly expiresAtMs: number };

export interface SetOptions {
  readonly condition?: SetCondition;
  readonly ttl?: SetTtl;
  /** Also answer the value the key had before (SET ... GET). */
  readonly returnPrevious?: boolean;
}

export interface SetOutcome {
  /** False when the condition did not hold, so nothing was written. */
  readonly written: boolean;
  /** The value before, when returnPrevious was asked; null when absent (or not asked). */
  readonly previous: Uint8Array | null;
}

export interface ValueWithExpiry {
  readonly value: Uint8Array | null;
  /** Wall-clock ms since the epoch; null when the value never expires (or is absent). */
  readonly expiresAtMs: number | null;
  /** Time left before it expires, by this client's clock, never below 0; null when expiresAtMs is. */
  readonly remainingMs: number | null;
}

export abstract class KvOperations {
  protected readonly session: ClientSession;
  /**
   * The wall clock every write is stamped with (ProposerClock): the state
   * machine decides expiry by it, and expiry times are computed from it.
   * Overridable for tests.
   */
  wallClockMs: () => number = () => Date.now();

  protected constructor(readonly clientId: string) {
    this.session = new ClientSession(clientId);
  }

  /** The command's reply once a group applied (or read) it; a KV error reply throws ClientError. */
  protected abstract send(command: KvKeyCommand, stale: boolean): Promise<KvOk>;

  /** The live keys of every group this client reaches, summed. */
  protected abstract sendCount(): Promise<number>;

  /**
   * How many live keys the store holds (DBSIZE): each group counts its own
   * at its own moment, so under writes the sum is no snapshot of one instant.
   */
  countKeys(): Promise<number> {
    return this.session.run(() => this.sendCount());
  }

  /** The value of `key`, or null when it is absent. */
  async get(key: Bytes, options: GetOptions = {}): Promise<Uint8Array | null> {
    const command: KvKeyCommand = { type: 'get', key: bytes(key) };
    const reply = await this.session.run(() => this.send(command, options.stale === true));
    return reply.value ?? null;
  }

  /** The value of `key` and when it expires. */
  async getWithExpiry(key: Bytes, options: GetOptions = {}): Promise<ValueWithExpiry> {
    const command: KvKeyCommand = { type: 'get', key: bytes(key) };
    const reply = await this.session.run(() => this.send(command, options.stale === true));
    const expiresAtMs = reply.expiresAtMs ?? null;
    const remainingMs = expiresAtMs === null ? null : Math.max(0, expiresAtMs - this.wallClockMs());
    return { value: reply.value ?? null, expiresAtMs, remainingMs };
  }

  /** Puts `value` with no expiry. */
  async put(key: Bytes, value: Bytes): Promise<void> {
    await this.write((stamp) => ({ type: 'put', ...stamp, key: bytes(key), value: bytes(value) }));
  }

  /** Appends to the value (an absent key counts as empty); resolves with the new length in bytes. */
  async append(key: Bytes, value: Bytes): Promise<number> {
    const reply = await this.write((stamp) => ({ type: 'append', ...stamp, key: bytes(key), value: bytes(value) }));
    return reply.valueBytes ?? 0;
  }

  /** Deletes `key`; resolves with whether it was there. */
  async delete(key: Bytes): Promise<boolean> {
    const reply = await this.write((stamp) => ({ type: 'delete', ...stamp, key: bytes(key) }));
    return reply.existed ?? false;
  }

  /** Puts `value` only if the current value is `expected` (null: only if absent); resolves with whether it did. */
  async compareAndSet(key: Bytes, expected: Bytes | null, value: Bytes): Promise<boolean> {
    try {
      await this.write((stamp) => ({
        type: 'cas',
        ...stamp,
        key: bytes(key),
        expected: expected === null ? null : bytes(expected),
        value: bytes(value),
      }));
      return true;
    } catch (error) {
      if (error instanceof ClientError && error.code === 'casMismatch') return false;
      throw error;
    }
  }

  /** Redis SET with its options, applied atomically by the group. */
  async set(key: Bytes, value: Bytes, options: SetOptions = {}): Promise<SetOutcome> {
    const ttl = options.ttl ?? { type: 'none' };
    const reply = await this.write((stamp) => ({
      type: 'set',
      ...stamp,
      key: bytes(key),
      value: bytes(value),
      condition: options.condition ?? 'always',
      // Absolute, from the same clock reading as the write's stamp: every replica stores the same time.
      expiry: expiryOf(ttl, stamp.nowMs),
      returnPrevious: options.returnPrevious === true,
    }));
    return { written: reply.written ?? false, previous: reply.value ?? null };
  }

  /** Adds `delta` to the key's 64-bit integer value (absent counts as 0); resolves with the new value. */
  async incrBy(key: Bytes, delta: bigint): Promise<bigint> {
    const reply = await this.write((stamp) => ({ type: 'incrBy', ...stamp, key: bytes(key), delta }));
    if (reply.value == null) throw new Error('incrBy: the group answered without the new value');
    return BigInt(Buffer.from(reply.value).toString('latin1'));
  }

  /** Deletes `key`; resolves with the value it had, or null. */
  async getDelete(key: Bytes): Promise<Uint8Array | null> {
    const reply = await this.write((stamp) => ({ type: 'getDelete', ...stamp, key: bytes(key) }));
    return reply.value ?? null;
  }

  private write(make: (stamp: ClientStamp & Required<ProposerClock>) => KvWriteCommand): Promise<KvOk> {
    return this.session.write((stamp) => this.send(make({ ...stamp, nowMs: this.wallClockMs() }), false));
  }
}

function expiryOf(ttl: SetTtl, nowMs: number): SetExpiry {
  switch (ttl.type) {
    case 'none':
    case 'keep':
      return ttl;
    case 'afterMs':
      return { type: 'at', expiresAtMs: nowMs + ttl.ttlMs };
    case 'atMs':
      return { type: 'at', expiresAtMs: ttl.expiresAtMs };
  }
}

function bytes(value: Bytes): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}
