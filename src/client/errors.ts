/**
 * Why a client call failed, as one error type with a code: the group refused
 * the command itself (a limit, a malformed command), or no member answered
 * before the deadline.
 */
import type { KvErrorCode } from '../kv/commands.js';

export type ClientErrorCode = KvErrorCode | 'deadlineExceeded' | 'closed';

export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}
