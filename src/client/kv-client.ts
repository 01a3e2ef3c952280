/**
 * The client of one KV replica group. It stamps each write with its client id
 * and a sequence number, encodes commands and decodes replies; finding the
 * leader and retrying through wrong leaders, timeouts and lost connections
 * with the same bytes (so the same client id and sequence) is GroupClient's.
 * A write is applied exactly once however many times it is sent; after the
 * deadline the error says it may or may not have happened.
 *
 * One client is one session: its requests run one after another, because
 * the group remembers only the latest sequence of each client (a second
 * write in flight would make the first one's retry look stale). Run several
 * clients for concurrency; they are cheap.
 */
import { decodeReply, encodeCommand } from '../kv/command-codec.js';
import type { ClientStamp, KvCommand, KvOk, KvReply, KvWriteCommand } from '../kv/commands.js';
import type { NodeId } from '../raft/index.js';
import type { ClientClock, GroupChannel } from './channel.js';
import { ClientError } from './errors.js';
import { GroupClient } from './group-client.js';
import { ClientSession } from './session.js';

export interface KvClientOptions {
  /** Ids of the group's members; the channel knows how to reach each. */
  readonly members: readonly NodeId[];
  readonly channel: GroupChannel;
  readonly clock: ClientClock;
  /** Unique among all clients of the group, ever: the dedup table is keyed by it. */
  readonly clientId: string;
  /** Uniform in [0, 1): jitter for backoff and the first member to try. */
  readonly random: () => number;
  /** A call that has no answer after this long fails with deadlineExceeded. */
  readonly deadlineMs?: number;
  /** One attempt at one member waits this long before trying again. */
  readonly attemptTimeoutMs?: number;
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
}

type Bytes = Uint8Array | string;

export interface GetOptions {
  /** Read any replica's applied state without confirming it is current. */
  readonly stale?: boolean;
}

export class KvClient {
  private readonly group: GroupClient;
  private readonly session: ClientSession;

  constructor(private readonly options: KvClientOptions) {
    if (options.members.length === 0) throw new Error('KvClient: a group has at least one member');
    this.group = new GroupClient({ ...options, service: 'kv' });
    this.session = new ClientSession(options.clientId);
  }

  get clientId(): string {
    return this.options.clientId;
  }

  /** The member this client believes leads, if it found one. */
  get knownLeader(): NodeId | null {
    return this.group.knownLeader;
  }

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

  /** Later calls fail with 'closed'; the channel is the caller's to close. */
  close(): void {
    this.group.close();
  }

  private write(make: (stamp: ClientStamp) => KvWriteCommand): Promise<KvOk> {
    return this.session.write((stamp) => this.send(make(stamp), false));
  }

  /** The command's reply once a member applied (or read) it; a KV error reply throws ClientError with its code. */
  private async send(command: KvCommand, stale: boolean): Promise<KvOk> {
    const kind = command.type === 'get' ? 'read' : 'write';
    const reply = await this.group.call({ payload: encodeCommand(command), kind, stale });
    return replyOrThrow(decodeReply(reply));
  }
}

function replyOrThrow(reply: KvReply): KvOk {
  if (reply.ok) return reply;
  throw new ClientError(reply.error.code, reply.error.message);
}

function bytes(value: Bytes): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}
