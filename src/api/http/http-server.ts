/**
 * The HTTP JSON API of one node, for curl users and the dashboard:
 *
 *   GET    /v1/health        200 when this node's group has a leader it knows, else 503
 *   GET    /v1/status        this node's NodeStatus
 *   GET    /v1/cluster       the config, every member's status, the buckets on the move
 *   GET|PUT|DELETE /v1/kv/<key>   one key (kv-routes.ts)
 *   POST   /v1/admin/join|leave|move   config commands (admin-routes.ts)
 *   GET    /v1/stats         recent request rates and latencies (with metrics)
 *   GET    /metrics          Prometheus text (with metrics)
 *   GET    / and /dashboard/<file>   the dashboard's static files
 *
 * With an auth token, every path but /v1/health, /metrics and the
 * dashboard's files needs it as a bearer token (bearer-auth.ts says why).
 *
 * node:http and a switch on the path are enough: a dozen fixed routes, one
 * path parameter, bodies read whole under a limit; a framework would add
 * dependencies and hide the limits and error shapes this file makes plain.
 * Every failure is a JSON error saying what to do; a handler that throws
 * something unexpected answers 500 and the server goes on.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import path from 'node:path';
import type { Logger } from '../../log/logger.js';
import type { MetricsSource } from '../../metrics/metrics-source.js';
import type { NodeTls, PeerAddress } from '../../transport/index.js';
import { TlsGate } from '../../transport/index.js';
import { handleAdmin } from './admin-routes.js';
import { BearerAuth, isOpenPath } from './bearer-auth.js';
import { httpErrorOf } from './client-errors.js';
import type { HttpBackend } from './http-backend.js';
import { isUnavailable } from './http-backend.js';
import { HttpError, methodNotAllowed, notFound, sendError, sendJson } from './http-errors.js';
import { handleKv, SessionPool } from './kv-routes.js';
import { sendStaticFile } from './static-files.js';

export const DASHBOARD_DIRECTORY_DEFAULT = path.resolve(import.meta.dirname, '../dashboard');
/** Requests, headers included, must arrive within this: a stalled upload does not hold a socket forever. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Connections at once; beyond, new ones are closed at once. Browsers and curl need a handful each. */
const CONNECTIONS_MAX = 1024;

export interface HttpApiServerOptions {
  readonly backend: HttpBackend;
  readonly logger: Logger;
  readonly metrics?: MetricsSource;
  /** Where the dashboard's files are (index.html, *.js, *.css); src/api/dashboard by default. */
  readonly dashboardDirectory?: string;
  /** When set, requests need it as `Authorization: Bearer <token>` (see bearer-auth.ts for what stays open). */
  readonly authToken?: string;
  /** Serve HTTPS only; plain HTTP when absent. */
  readonly tls?: NodeTls;
}

/** What a plain-HTTP client gets from an HTTPS port: a 400 saying to use https://. */
const PLAINTEXT_ANSWER = (() => {
  const body = JSON.stringify({
    error: { code: 'tlsRequired', message: 'this port speaks HTTPS only: use https:// (curl: --cacert CA_FILE)' },
  });
  return Buffer.from(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
})();

export class HttpApiServer {
  private readonly server: Server;
  /** What listens: the HTTP server itself, or with TLS a plain listener whose connections pass the TlsGate first. */
  private readonly listener: NetServer;
  private readonly gate: TlsGate | null;
  private readonly sockets = new Set<Socket>();
  private readonly pool: SessionPool | null;
  private readonly auth: BearerAuth | null;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: HttpApiServerOptions) {
    const kv = options.backend.kv;
    this.pool = isUnavailable(kv) ? null : new SessionPool(() => kv.newSession());
    this.auth = options.authToken === undefined ? null : new BearerAuth(options.authToken, options.logger);
    this.server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (request, response) => {
      void this.serve(request, response);
    });
    const tls = options.tls;
    this.gate =
      tls === undefined
        ? null
        : new TlsGate({
            tls,
            requestCert: false,
            plaintextAnswer: PLAINTEXT_ANSWER,
            handshakeTimeoutMs: REQUEST_TIMEOUT_MS,
            logger: options.logger,
            // The HTTP server reads and writes the decrypted stream as if it were a plain connection.
            onSecure: (socket) => this.server.emit('connection', socket),
          });
    const gate = this.gate;
    this.listener = gate === null ? this.server : createNetServer((socket) => gate.accept(socket));
    this.listener.maxConnections = CONNECTIONS_MAX;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A request that is not HTTP at all: answer 400 if the socket still can, and drop it.
    this.server.on('clientError', (error: Error, socket: Socket) => {
      if (socket.writable) {
        const body = JSON.stringify({
          error: { code: 'badRequest', message: `not a valid HTTP request: ${error.message}` },
        });
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    });
  }

  get port(): number {
    return (this.listener.address() as AddressInfo).port;
  }

  async listen(address: PeerAddress): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(address.port, address.host, () => {
        this.listener.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops listening and closes every connection; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.listener.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.gate?.close();
      this.pool?.close();
    });
    return this.closing;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.route(request, response);
    } catch (error) {
      if (response.headersSent || request.socket.destroyed) {
        // Too late for an answer, or nobody left to read one (the client went away mid-upload).
        response.destroy();
        return;
      }
      const answer =
        error instanceof HttpError
          ? error
          : (httpErrorOf(error, 'read') ?? this.internalError(error, request.method ?? '', request.url ?? ''));
      sendError(response, answer);
      // A body left unread (a 413, an early refusal) is not worth reading: close the connection.
      if (!request.complete) response.once('finish', () => request.socket.destroy());
    }
  }

  private internalError(error: unknown, method: string, url: string): HttpError {
    this.options.logger.error({ err: error, method, url: url.slice(0, 200) }, 'an HTTP request failed unexpectedly');
    return new HttpError(500, 'internal', 'the server failed on this request (a bug; see its log); try again');
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The raw path: keys keep their percent escapes until kv-routes decodes them to bytes. Split by
    // hand rather than with new URL(), which throws on request targets like "//".
    const [rawPath = '/', rawQuery = ''] = (request.url ?? '/').split('?', 2);
    const query = rawQuery === '' ? NO_QUERY : new URLSearchParams(rawQuery);
    const { backend, metrics } = this.options;
    const method = request.method ?? '';
    if (this.auth !== null && !isOpenPath(rawPath)) this.auth.demand(request);
    if (rawPath.startsWith('/v1/kv/')) {
      if (this.pool === null) throw notFound(unavailableText(backend.kv));
      return handleKv(request, response, rawPath.slice('/v1/kv/'.length), query, this.pool, metrics ?? null);
    }
    if (rawPath.startsWith('/v1/admin/')) {
      if (isUnavailable(backend.admin)) throw notFound(backend.admin.unavailable);
      return handleAdmin(request, response, rawPath.slice('/v1/admin/'.length), backend.admin);
    }
    if (rawPath === '/' || rawPath.startsWith('/dashboard/')) {
      onlyGet(method, rawPath);
      const file = rawPath === '/' ? '' : decodeName(rawPath.slice('/dashboard/'.length));
      const name = file === '' ? 'index.html' : file;
      return sendStaticFile(response, this.options.dashboardDirectory ?? DASHBOARD_DIRECTORY_DEFAULT, name);
    }
    switch (rawPath) {
      case '/v1/health':
        onlyGet(method, rawPath);
        return this.health(response);
      case '/v1/status':
        onlyGet(method, rawPath);
        return sendJson(response, 200, backend.status());
      case '/v1/cluster':
        onlyGet(method, rawPath);
        return sendJson(response, 200, await backend.cluster());
      case '/v1/stats':
        onlyGet(method, rawPath);
        if (metrics === undefined) throw notFound('this node was started without metrics: /v1/stats is off');
        return sendJson(response, 200, metrics.recentStats());
      case '/metrics': {
        onlyGet(method, rawPath);
        if (metrics === undefined) throw notFound('this node was started without metrics: /metrics is off');
        const text = await metrics.prometheusText();
        response.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
        response.end(text);
        return;
      }
      default:
        throw notFound(
          `nothing at ${rawPath.slice(0, 100)}: try /v1/health, /v1/status, /v1/cluster, /v1/kv/<key>, /v1/admin/<command>, /metrics or /`,
        );
    }
  }

  private health(response: ServerResponse): void {
    const status = this.options.backend.status();
    const summary = { id: status.id, gid: status.gid, role: status.role, term: status.term, leaderId: status.leaderId };
    if (status.leaderId !== null) {
      sendJson(response, 200, { ok: true, ...summary });
      return;
    }
    sendJson(response, 503, {
      ok: false,
      ...summary,
      error: {
        code: 'noLeader',
        message:
          'this node knows no leader of its group: an election is under way or it cannot reach a majority; ' +
          'retry in a moment, and if it lasts check /v1/cluster for members that are down',
      },
    });
  }
}

/** The query of the many requests without one (a put): none made per request. Read only, never changed. */
const NO_QUERY = new URLSearchParams();

function onlyGet(method: string, path: string): void {
  if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, path, ['GET']);
}

function unavailableText(part: object): string {
  return isUnavailable(part) ? part.unavailable : 'not served here';
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
