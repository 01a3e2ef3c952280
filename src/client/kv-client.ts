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
import { countOf } from '../kv/count-keys.js';
import type { ClientStamp, KvCommand, KvOk, KvReply, PutCommand } from '../kv/commands.js';
import type { NodeId } from '../raft/index.js';
import type { ClientClock, GroupChannel } from './channel.js';
import { ClientError } from './errors.js';
import { GroupClient } from './group-client.js';
import type { Bytes } from './kv-operations.js';
import { KvOperations } from './kv-operations.js';
import type { LocalKvMember } from './local-member.js';

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
  /** A member in this process: served directly while it is the known leader (and for stale reads). */
  readonly local?: LocalKvMember;
}

export class KvClient extends KvOperations {
  private readonly group: GroupClient;
  private readonly local: LocalKvMember | null;
  private closed = false;

  constructor(options: KvClientOptions) {
    super(options.clientId);
    if (options.members.length === 0) throw new Error('KvClient: a group has at least one member');
    this.group = new GroupClient({ ...options, service: 'kv' });
    this.local = options.local !== undefined && options.members.includes(options.local.id) ? options.local : null;
  }

  /** The member this client believes leads, if it found one. */
  get knownLeader(): NodeId | null {
    return this.group.knownLeader;
  }

  /** Later calls fail with 'closed'; the channel is the caller's to close. */
  close(): void {
    this.closed = true;
    this.group.close();
  }

  /**
   * A put, the servers' most common write. While this process's member leads
   * and the session is idle it skips the general path (session queue, stamp
   * closures, send): one async function from here to propose. Same stamp,
   * same bytes, same fallback through GroupClient, so the same exactly-once.
   */
  override put(key: Bytes, value: Bytes): Promise<void> {
    const local = this.local;
    if (local === null || this.closed || this.group.knownLeader !== local.id) return super.put(key, value);
    const stamp = this.session.beginWrite();
    return stamp === null ? super.put(key, value) : this.putLocally(local, stamp, key, value);
  }

  /** The command's reply once a member applied (or read) it; a KV error reply throws ClientError with its code. */
  protected async sendCount(): Promise<number> {
    return countOf(await this.send({ type: 'count' }, false));
  }

  protected async send(command: KvCommand, stale: boolean): Promise<KvOk> {
    const payload = encodeCommand(command);
    const local = this.local;
    // The leader is learnt the long way (the first call, a redirect), so a follower's sessions never try here first.
    if (local !== null && !this.closed && (stale || this.group.knownLeader === local.id)) {
      const served = await local.serve(command, payload, stale);
      if (served.ok) return replyOrThrow(served.reply);
    }
    const kind = command.type === 'get' || command.type === 'count' ? 'read' : 'write';
    const reply = await this.group.call({ payload, kind, stale });
    return replyOrThrow(decodeReply(reply));
  }

  /** The put served by `local`, or the long way when it does not answer; gives the session's turn back. */
  private async putLocally(local: LocalKvMember, stamp: ClientStamp, key: Bytes, value: Bytes): Promise<void> {
    try {
      const command: PutCommand = {
        type: 'put',
        clientId: stamp.clientId,
        sequence: stamp.sequence,
        nowMs: this.wallClockMs(),
        key: typeof key === 'string' ? UTF8.encode(key) : key,
        value: typeof value === 'string' ? UTF8.encode(value) : value,
      };
      const payload = encodeCommand(command);
      const served = await local.serve(command, payload, false);
      if (served.ok) {
        replyOrThrow(served.reply);
        return;
      }
      replyOrThrow(decodeReply(await this.group.call({ payload, kind: 'write', stale: false })));
    } finally {
      this.session.endTurn();
    }
  }
}

const UTF8 = new TextEncoder();

function replyOrThrow(reply: KvReply): KvOk {
  if (reply.ok) return reply;
  throw new ClientError(reply.error.code, reply.error.message);
}
