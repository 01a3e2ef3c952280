/**
 * The client of one KV replica group. It finds the leader and remembers it,
 * and it retries through wrong leaders, timeouts and lost connections with
 * the same client id and sequence number, so that a write is applied exactly
 * once however many times it is sent. It gives up after a deadline with an
 * error that says the write may or may not have happened.
 *
 * One client is one session: its requests run one after another, because
 * the group remembers only the latest sequence of each client (a second
 * write in flight would make the first one's retry look stale). Run several
 * clients for concurrency; they are cheap.
 */
import type { KvCommand, KvOk, KvReply, KvWriteCommand } from '../kv/commands.js';
import type { KvRequest, ServiceError } from '../kv/service.js';
import type { NodeId } from '../raft/index.js';
import type { ClientClock, GroupChannel } from './channel.js';
import { ChannelError } from './channel.js';
import { ClientError } from './errors.js';

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

export const DEADLINE_MS_DEFAULT = 10_000;
export const ATTEMPT_TIMEOUT_MS_DEFAULT = 1_000;
const BACKOFF_MS_MIN_DEFAULT = 10;
const BACKOFF_MS_MAX_DEFAULT = 500;

type Bytes = Uint8Array | string;

export interface GetOptions {
  /** Read any replica's applied state without confirming it is current. */
  readonly stale?: boolean;
}

export class KvClient {
  private sequence = 0;
  private leader: NodeId | null = null;
  /** Requests of this session wait for the one before them. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly deadlineMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly backoffMsMin: number;
  private readonly backoffMsMax: number;

  constructor(private readonly options: KvClientOptions) {
    if (options.members.length === 0) throw new Error('KvClient: a group has at least one member');
    this.deadlineMs = options.deadlineMs ?? DEADLINE_MS_DEFAULT;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS_DEFAULT;
    this.backoffMsMin = options.backoffMsMin ?? BACKOFF_MS_MIN_DEFAULT;
    this.backoffMsMax = options.backoffMsMax ?? BACKOFF_MS_MAX_DEFAULT;
  }

  get clientId(): string {
    return this.options.clientId;
  }

  /** The member this client believes leads, if it found one. */
  get knownLeader(): NodeId | null {
    return this.leader;
  }

  /** The value of `key`, or null when it is absent. */
  async get(key: Bytes, options: GetOptions = {}): Promise<Uint8Array | null> {
    const reply = await this.run({ type: 'get', key: bytes(key) }, options.stale === true);
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
    this.closed = true;
  }

  private write(make: (stamp: { clientId: string; sequence: number }) => KvWriteCommand): Promise<KvOk> {
    // The sequence is taken when the request's turn comes, so sequences reach the group in order.
    return this.enqueue(() => {
      this.sequence += 1;
      return this.attempt(make({ clientId: this.options.clientId, sequence: this.sequence }), false);
    });
  }

  private run(command: KvCommand, stale: boolean): Promise<KvOk> {
    return this.enqueue(() => this.attempt(command, stale));
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Sends `command` until some member answers it or the deadline passes. */
  private async attempt(command: KvCommand, stale: boolean): Promise<KvOk> {
    if (this.closed) throw new ClientError('closed', 'this client was closed; make a new one');
    const { clock, channel, members } = this.options;
    const request: KvRequest = stale ? { command, stale } : { command };
    const deadlineAtMs = clock.nowMs() + this.deadlineMs;
    let target = this.leader ?? this.randomMember();
    let failures = 0;
    let lastProblem = 'no member was tried';
    while (clock.nowMs() < deadlineAtMs) {
      const timeoutMs = Math.max(1, Math.min(this.attemptTimeoutMs, deadlineAtMs - clock.nowMs()));
      let next: { target: NodeId; wait: boolean };
      try {
        const result = await channel.call(target, request, timeoutMs);
        if (result.ok) {
          if (!stale) this.leader = target;
          return replyOrThrow(result.reply);
        }
        lastProblem = `node ${target}: ${result.error.message}`;
        next = this.afterRefusal(target, result.error);
      } catch (error) {
        if (!(error instanceof ChannelError)) throw error;
        lastProblem = error.message;
        if (this.leader === target) this.leader = null;
        next = { target: this.memberAfter(target), wait: members.length === 1 || failures > members.length };
      }
      failures += 1;
      target = next.target;
      if (next.wait) await clock.sleep(this.backoffMs(failures));
    }
    throw new ClientError(
      'deadlineExceeded',
      `no member of the group answered within ${this.deadlineMs} ms (last: ${lastProblem}); ` +
        (command.type === 'get' ? 'retry the read' : 'the write may or may not have been applied'),
    );
  }

  /** Where to go after a member refused, and whether to wait first. */
  private afterRefusal(target: NodeId, error: ServiceError): { target: NodeId; wait: boolean } {
    switch (error.code) {
      case 'notLeader':
        if (error.leader !== null && error.leader !== target && this.options.members.includes(error.leader)) {
          this.leader = error.leader;
          return { target: error.leader, wait: false };
        }
        // An election is under way: give it a moment.
        this.leader = null;
        return { target: this.memberAfter(target), wait: true };
      case 'stopped':
        this.leader = null;
        return { target: this.memberAfter(target), wait: false };
      case 'outcomeUnknown':
      case 'timeout':
      case 'overloaded':
        // The same request id makes the retry safe; the leader may have moved, and the reply will say so.
        return { target, wait: true };
    }
  }

  private backoffMs(failures: number): number {
    const ceilingMs = Math.min(this.backoffMsMax, this.backoffMsMin * 2 ** Math.min(failures, 16));
    return this.backoffMsMin + this.options.random() * (ceilingMs - this.backoffMsMin);
  }

  private randomMember(): NodeId {
    const members = this.options.members;
    return members[Math.floor(this.options.random() * members.length)]!;
  }

  private memberAfter(node: NodeId): NodeId {
    const members = this.options.members;
    return members[(members.indexOf(node) + 1) % members.length]!;
  }
}

function replyOrThrow(reply: KvReply): KvOk {
  if (reply.ok) return reply;
  throw new ClientError(reply.error.code, reply.error.message);
}

function bytes(value: Bytes): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}
