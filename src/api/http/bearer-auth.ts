/**
 * The HTTP side of the cluster's auth token: with one set, a request needs
 * `Authorization: Bearer <token>` unless its path is one of the few that
 * stay open on purpose:
 *
 *   /v1/health   liveness and readiness probes (deploy/ uses it), which
 *                carry no secrets; it tells only whether a leader is known.
 *   /metrics     Prometheus scrapes without credentials by default (etcd
 *                leaves its /metrics open too); numbers, no keys or values.
 *   / and /dashboard/<file>   the page's own code, which holds no data: it
 *                must load to ask the user for the token.
 *
 * Everything else (keys, admin commands, status, the cluster's members and
 * addresses, request stats, unknown paths) answers 401 without the token.
 */
import type { IncomingMessage } from 'node:http';
import { TokenCheck } from '../../auth/auth-token.js';
import type { Logger } from '../../log/logger.js';
import { HttpError } from './http-errors.js';

/** A wrong token is logged at most this often, with how many came since, so a guesser cannot flood the log. */
const FAILURE_LOG_INTERVAL_MS = 60_000;
const REALM = 'Bearer realm="raftkv"';

export function isOpenPath(rawPath: string): boolean {
  return rawPath === '/v1/health' || rawPath === '/metrics' || rawPath === '/' || rawPath.startsWith('/dashboard/');
}

export class BearerAuth {
  private readonly check: TokenCheck;
  private failuresUnlogged = 0;
  private lastLoggedMs = -Infinity;

  constructor(
    token: string,
    private readonly logger: Logger,
  ) {
    this.check = new TokenCheck(token);
  }

  /** Throws the 401 to answer when `request` does not carry the token. */
  demand(request: IncomingMessage): void {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) {
      throw new HttpError(
        401,
        'unauthorized',
        "this node requires the cluster's auth token: send the header Authorization: Bearer <token>, with the " +
          'token the nodes were started with (their --auth-token-file)',
        { 'WWW-Authenticate': REALM },
      );
    }
    if (this.check.matches(match[1]!)) return;
    this.noteFailure(request);
    throw new HttpError(
      401,
      'unauthorized',
      "the bearer token is not this cluster's: send the token the nodes were started with (their --auth-token-file)",
      { 'WWW-Authenticate': `${REALM}, error="invalid_token"` },
    );
  }

  private noteFailure(request: IncomingMessage): void {
    this.failuresUnlogged += 1;
    const nowMs = performance.now();
    if (nowMs - this.lastLoggedMs < FAILURE_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { remote: request.socket.remoteAddress, wrongTokens: this.failuresUnlogged },
      'HTTP requests with a wrong bearer token (counted since the last such warning)',
    );
    this.failuresUnlogged = 0;
    this.lastLoggedMs = nowMs;
  }
}
