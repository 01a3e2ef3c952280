/**
 * The KV operations every KV client offers, written once: get, put, append,
 * delete and compare-and-set as commands of one session, each write stamped
 * with the session's next sequence. Where a command goes (one group, or the
 * group of its key's bucket) is the subclass's send().
 */
import type { ClientStamp, KvCommand, KvOk, KvWriteCommand } from '../kv/commands.js';
import { ClientError } from './errors.js';
import { ClientSession } from './session.js';

export type Bytes = Uint8Array | string;

export interface GetOptions {
  /** Read any replica's applied state without confirming it is current. */
  readonly stale?: boolean;
}

export abstract class KvOperations {
  private readonly session: ClientSession;

  protected constructor(readonly clientId: string) {
    this.session = new ClientSession(clientId);
  }

  /** The command's reply once a group applied (or read) it; a KV error reply throws ClientError. */
  protected abstract send(command: KvCommand, stale: boolean): Promise<KvOk>;

  /** The value of `key`, or null when it is absent. */
  async get(key: Bytes, options: GetOptions = {}): Promise<Uint8Array | null> {
    const command: KvCommand = { type: 'get', key: bytes(key) };
    const reply = await this.session.run(() => this.send(command, options.stale === true));
    return reply.value ?? null;
  }

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

  private write(make: (stamp: ClientStamp) => KvWriteCommand): Promise<KvOk> {
    return this.session.write((stamp) => this.send(make(stamp), false));
  }
}

function bytes(value: Bytes): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}
