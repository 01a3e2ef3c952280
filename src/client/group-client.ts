/**
 * The retry core every client of one replica group shares, whatever the
 * group serves (KV commands, the meta group's config commands): it finds the
 * leader and remembers it, and it resends a request through wrong leaders,
 * timeouts and lost connections, unchanged, until some member answers it or
 * a deadline passes. Unchanged matters: a write carries its client id and
 * sequence inside the payload, so however many times it is sent, the group
 * applies it once.
 *
 * It knows nothing of payloads: it sends bytes and answers the reply bytes of
 * the first member that serves the request. What they mean, and which
 * replies are errors, is the caller's business (KvClient).
 */
import type { NodeId } from '../raft/index.js';
import type { ServiceError, ServiceName, ServiceRequest } from '../transport/index.js';
import type { ClientClock, GroupChannel } from './channel.js';
import { ChannelError } from './channel.js';
import { ClientError } from './errors.js';

export interface GroupClientOptions {
  /** Which service of the members this client speaks to. */
  readonly service: ServiceName;
  /** Ids of the group's members; the channel knows how to reach each. */
  readonly members: readonly NodeId[];
  readonly channel: GroupChannel;
  readonly clock: ClientClock;
  /** Uniform in [0, 1): jitter for backoff and the first member to try. */
  readonly random: () => number;
  /** A call that has no answer after this long fails with deadlineExceeded. */
  readonly deadlineMs?: number;
  /** One attempt at one member waits this long before trying again. */
  readonly attemptTimeoutMs?: number;
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
}

/** One request, as the caller hands it over. */
export interface GroupCall {
  /** The request in the service's own format; sent as is on every attempt. */
  readonly payload: Uint8Array;
  /**
   * A read changes nothing, so when the deadline passes the caller may simply
   * send it again; a write may or may not have been applied. Only the
   * deadline's message depends on it.
   */
  readonly kind: 'read' | 'write';
  /** Any member may answer from what it has applied (reads only); it does not become the known leader. */
  readonly stale?: boolean;
}

export const DEADLINE_MS_DEFAULT = 10_000;
export const ATTEMPT_TIMEOUT_MS_DEFAULT = 1_000;
const BACKOFF_MS_MIN_DEFAULT = 10;
const BACKOFF_MS_MAX_DEFAULT = 500;
/** Doublings of the backoff at most: the ceiling is reached long before, and 2 ** failures stays small. */
const BACKOFF_DOUBLINGS_MAX = 16;

/** Where the next attempt goes, and whether to back off before it. */
interface NextAttempt {
  readonly target: NodeId;
  readonly wait: boolean;
}

export class GroupClient {
  private leader: NodeId | null = null;
  private closed = false;
  private readonly deadlineMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly backoffMsMin: number;
  private readonly backoffMsMax: number;

  constructor(private readonly options: GroupClientOptions) {
    if (options.members.length === 0) throw new Error('GroupClient: a group has at least one member');
    this.deadlineMs = options.deadlineMs ?? DEADLINE_MS_DEFAULT;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS_DEFAULT;
    this.backoffMsMin = options.backoffMsMin ?? BACKOFF_MS_MIN_DEFAULT;
    this.backoffMsMax = options.backoffMsMax ?? BACKOFF_MS_MAX_DEFAULT;
  }

  /** The member this client believes leads, if it found one. */
  get knownLeader(): NodeId | null {
    return this.leader;
  }

  /** Later calls fail with 'closed'; the channel is the caller's to close. */
  close(): void {
    this.closed = true;
  }

  /**
   * The reply bytes of the first member that serves `call`. Throws ClientError:
   * deadlineExceeded when no member did in time, wrongService when a member
   * does not serve this service at all, closed after close().
   */
  async call(call: GroupCall): Promise<Uint8Array> {
    if (this.closed) throw new ClientError('closed', 'this client was closed; make a new one');
    const { clock, channel, members } = this.options;
    const stale = call.stale === true;
    const request: ServiceRequest = { service: this.options.service, stale, payload: call.payload };
    const deadlineAtMs = clock.nowMs() + this.deadlineMs;
    let target = this.leader ?? this.randomMember();
    let failures = 0;
    let lastProblem = 'no member was tried';
    while (clock.nowMs() < deadlineAtMs) {
      const timeoutMs = Math.max(1, Math.min(this.attemptTimeoutMs, deadlineAtMs - clock.nowMs()));
      let next: NextAttempt;
      try {
        const result = await channel.call(target, request, timeoutMs);
        if (result.ok) {
          if (!stale) this.leader = target;
          return result.reply;
        }
        lastProblem = `node ${target}: ${result.error.message}`;
        next = this.afterRefusal(target, result.error);
      } catch (error) {
        if (!(error instanceof ChannelError)) throw error;
        // Another cluster answers at that address: every retry would be refused the same way.
        if (error.reason === 'rejected') throw new ClientError('rejected', error.message);
        lastProblem = error.message;
        if (error.reason === 'busy') {
          next = { target, wait: true };
        } else {
          if (this.leader === target) this.leader = null;
          next = { target: this.memberAfter(target), wait: members.length === 1 || failures > members.length };
        }
      }
      failures += 1;
      target = next.target;
      if (next.wait) await clock.sleep(this.backoffMs(failures));
    }
    throw new ClientError(
      'deadlineExceeded',
      `no member of the group answered within ${this.deadlineMs} ms (last: ${lastProblem}); ` +
        (call.kind === 'read' ? 'retry the read' : 'the write may or may not have been applied'),
    );
  }

  /** Where to go after a member refused, and whether to wait first; throws when retrying cannot help. */
  private afterRefusal(target: NodeId, error: ServiceError): NextAttempt {
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
      case 'unsupported':
        // The members list points at nodes of another kind: a configuration mistake no retry fixes.
        throw new ClientError('wrongService', `node ${target}: ${error.message}`);
    }
  }

  private backoffMs(failures: number): number {
    const ceilingMs = Math.min(this.backoffMsMax, this.backoffMsMin * 2 ** Math.min(failures, BACKOFF_DOUBLINGS_MAX));
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
