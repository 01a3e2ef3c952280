/**
 * The RESP server's backend on top of the client library: each RESP
 * connection gets its own KvClient, with a client id of its own, so that the
 * writes of a connection are exactly-once and in order whichever member
 * answers them. The client finds the leader and forwards there, which is how
 * a follower answers a write.
 */
import { randomUUID } from 'node:crypto';
import type { ClientClock, GroupChannel } from '../client/channel.js';
import { ClientError } from '../client/errors.js';
import { KvClient } from '../client/kv-client.js';
import type { NodeId } from '../raft/index.js';
import type { BackendFailure, BackendOutcome, RespBackend, RespSession } from './resp/resp-backend.js';

export interface ClientBackendOptions {
  readonly members: readonly NodeId[];
  /** Shared by every session: connections to members are reused. */
  readonly channel: GroupChannel;
  readonly clock: ClientClock;
  /** How long a session keeps retrying one request before it answers an error. */
  readonly deadlineMs?: number;
}

/** Long enough to ride out a leader election, short enough that a RESP client is not left hanging. */
const SESSION_DEADLINE_MS_DEFAULT = 5_000;

export class ClientBackend implements RespBackend {
  constructor(private readonly options: ClientBackendOptions) {}

  openSession(): RespSession {
    const client = new KvClient({
      members: this.options.members,
      channel: this.options.channel,
      clock: this.options.clock,
      clientId: `resp-${randomUUID()}`,
      random: Math.random,
      deadlineMs: this.options.deadlineMs ?? SESSION_DEADLINE_MS_DEFAULT,
    });
    return {
      get: (key) => outcome(() => client.get(key), 'read'),
      put: (key, value) => outcome(() => client.put(key, value), 'write'),
      append: (key, value) => outcome(() => client.append(key, value), 'write'),
      delete: (key) => outcome(() => client.delete(key), 'write'),
      close: () => client.close(),
    };
  }
}

async function outcome<T>(call: () => Promise<T>, kind: 'read' | 'write'): Promise<BackendOutcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof ClientError) return failure(error, kind);
    throw error;
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
      return { ok: false, code: error.code, message: error.message };
  }
}
