/** The client library's errors as HTTP answers: what went wrong, and whether a retry can help. */
import { ClientError, MetaRefusedError } from '../../client/errors.js';
import { HttpError } from './http-errors.js';

/** Null when `error` is none of the client library's: a bug, for the server's 500. */
export function httpErrorOf(error: unknown, kind: 'read' | 'write'): HttpError | null {
  if (error instanceof MetaRefusedError) {
    return new HttpError(400, error.code, `the meta group refused the command: ${error.message}`);
  }
  if (!(error instanceof ClientError)) return null;
  switch (error.code) {
    case 'deadlineExceeded':
      // A read changed nothing; a write may have been applied.
      return new HttpError(504, kind === 'read' ? 'timeout' : 'outcomeUnknown', error.message);
    case 'closed':
      return new HttpError(503, 'stopped', `${error.message}: this node is shutting down, ask another`);
    case 'wrongService':
    case 'rejected':
      return new HttpError(
        503,
        error.code,
        `${error.message}: check the addresses and --cluster-id this node was given`,
      );
    case 'keyTooLarge':
      return new HttpError(400, error.code, error.message);
    case 'valueTooLarge':
      return new HttpError(413, error.code, error.message);
    case 'malformedCommand':
      return new HttpError(400, error.code, error.message);
    case 'sessionExpired':
      // Like a deadline: the write may or may not have been applied before.
      return new HttpError(409, error.code, error.message);
    case 'casMismatch':
    case 'staleSequence':
    case 'notAnInteger':
    case 'incrementOverflow':
      // The HTTP API sends no compare-and-set, increment or reused sequence.
      return new HttpError(500, error.code, `${error.message} (a bug of the HTTP API: please report it)`);
  }
}
