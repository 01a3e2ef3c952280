/**
 * Why a client call failed, as one error type with a code: the group refused
 * the command itself (a limit, a malformed command), no member answered
 * before the deadline, or the members named are not nodes of this service
 * (wrongService: the client was pointed at, say, meta nodes instead of a KV group).
 */
import type { KvErrorCode } from '../kv/commands.js';
import type { MetaErrorCode } from '../meta/commands.js';

export type ClientErrorCode = KvErrorCode | 'deadlineExceeded' | 'closed' | 'wrongService' | 'rejected';

export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The meta group refused an admin command (unknown group, bucket out of range, ...); nothing changed. */
export class MetaRefusedError extends Error {
  constructor(
    readonly code: MetaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MetaRefusedError';
  }
}
