/**
 * The RESP (Redis protocol) server of a node: accepts connections, gives
 * each its own backend session, and hands it to a RespConnection. It knows
 * nothing of Raft; the backend does.
 */
import net from 'node:net';
import { TokenCheck } from '../../auth/auth-token.js';
import type { Logger } from '../../log/logger.js';
import { encodeReply, error } from './encoder.js';
import type { ServerFacts } from './command-spec.js';
import type { RespBackend } from './resp-backend.js';
import { RespConnection } from './resp-connection.js';
import type { RespServerLimits } from './server-limits.js';
import { resolveRespServerLimits } from './server-limits.js';
import type { NodeTls } from '../../transport/index.js';
import { TlsGate } from '../../transport/index.js';
import type { RespServerStats } from './server-stats.js';
import { emptyRespServerStats } from './server-stats.js';

/** Idle time before TCP probes a silent peer, as Redis's tcp-keepalive: a vanished client must not keep its session forever. */
const TCP_KEEPALIVE_MS_INITIAL = 300_000;

export interface RespServerOptions {
  readonly backend: RespBackend;
  readonly logger: Logger;
  /** Any limit left out takes its default from DEFAULT_RESP_SERVER_LIMITS. */
  readonly limits?: Partial<RespServerLimits>;
  /** What INFO says this node is ("kv group member", "shard member"); "raftkv node" when not given. */
  readonly role?: string;
  /** When set, clients must AUTH with it before any other command, as with Redis's requirepass. */
  readonly authToken?: string;
  /** Serve TLS only (redis-cli --tls); plaintext when absent. */
  readonly tls?: NodeTls;
}

/** A TLS handshake must be done within this; a connection that takes longer only holds a descriptor. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** What a plaintext client (redis-cli without --tls) sees from a TLS port. */
const PLAINTEXT_ERROR = (() => {
  const out: Buffer[] = [];
  encodeReply(error('ERR this port speaks TLS only: connect with TLS (redis-cli --tls --cacert CA_FILE)'), out);
  return Buffer.concat(out);
})();

export interface RespServerAddress {
  readonly host: string;
  /** 0 asks the system for a free port; `listen` answers the one bound. */
  readonly port: number;
}

export class RespServer {
  readonly limits: RespServerLimits;
  private readonly backend: RespBackend;
  private readonly logger: Logger;
  private readonly server: net.Server;
  private readonly connections = new Set<RespConnection>();
  /** Sockets told "max number of clients reached", until they are gone. */
  private readonly refusedSockets = new Set<net.Socket>();
  private readonly counters: RespServerStats = emptyRespServerStats();
  private connectionIdLast = 0;
  private readonly facts: ServerFacts;
  private readonly tokenCheck: TokenCheck | null;
  private readonly gate: TlsGate | null;

  constructor(options: RespServerOptions) {
    this.backend = options.backend;
    this.logger = options.logger.child({ component: 'resp' });
    this.limits = resolveRespServerLimits(options.limits);
    this.tokenCheck = options.authToken === undefined ? null : new TokenCheck(options.authToken);
    this.facts = {
      role: options.role ?? 'raftkv node',
      startedAtMs: Date.now(),
      tcpPort: () => {
        const address = this.server.address();
        return address === null || typeof address === 'string' ? 0 : address.port;
      },
      connectedClients: () => this.connections.size,
    };
    // Half-open: a client that sends its requests and then shuts down its side (`redis-cli < file`) still gets every reply.
    const tls = options.tls;
    this.gate =
      tls === undefined
        ? null
        : new TlsGate({
            tls,
            requestCert: false,
            plaintextAnswer: PLAINTEXT_ERROR,
            handshakeTimeoutMs: TLS_HANDSHAKE_TIMEOUT_MS,
            logger: this.logger,
            onSecure: (socket) => this.accept(socket),
          });
    this.server = net.createServer(
      { allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_MS_INITIAL },
      (socket) => (this.gate === null ? this.accept(socket) : this.gate.accept(socket)),
    );
  }

  /** Starts listening; answers the address bound, with the real port when 0 was asked. */
  listen(address: RespServerAddress): Promise<RespServerAddress> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(address.port, address.host, () => {
        this.server.off('error', reject);
        this.server.on('error', (thrown) => this.logger.error({ err: thrown }, 'RESP listener failed'));
        const bound = { host: address.host, port: this.port };
        this.logger.info(bound, 'RESP server listening');
        resolve(bound);
      });
    });
  }

  /** The port bound by `listen`. */
  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the RESP server is not listening');
    return address.port;
  }

  /** A snapshot of the counters. */
  get stats(): RespServerStats {
    return { ...this.counters };
  }

  /**
   * Stops accepting, answers each connection's request in flight and closes
   * it (see RespConnection.shutdown), and resolves once every session is
   * closed. A connection still open after shutdownGraceMs is cut.
   */
  async close(): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections];
    for (const connection of connections) connection.shutdown();
    for (const socket of this.refusedSockets) socket.destroy();
    const grace = setTimeout(() => {
      for (const connection of connections) connection.destroy();
      // Connections still in their TLS handshake too: the listener closes only when every socket has.
      this.gate?.close();
    }, this.limits.shutdownGraceMs);
    grace.unref();
    await Promise.all([listenerClosed, ...connections.map((connection) => connection.finished)]);
    clearTimeout(grace);
  }

  private accept(socket: net.Socket): void {
    if (this.connections.size >= this.limits.connectionsMax) {
      this.refuse(socket);
      return;
    }
    const connectionId = ++this.connectionIdLast;
    const logger = this.logger.child({ connectionId, remote: `${socket.remoteAddress}:${socket.remotePort}` });
    const connection = new RespConnection({
      socket,
      session: this.backend.openSession(),
      connectionId,
      limits: this.limits,
      logger,
      stats: this.counters,
      server: this.facts,
      tokenCheck: this.tokenCheck,
    });
    this.connections.add(connection);
    this.counters.connectionsOpen++;
    logger.debug({}, 'RESP connection opened');
    void connection.finished.then(() => {
      this.connections.delete(connection);
      this.counters.connectionsOpen--;
      logger.debug({}, 'RESP connection closed');
    });
  }

  /** As Redis does at maxclients: say why, then hang up. */
  private refuse(socket: net.Socket): void {
    this.counters.connectionsRefused++;
    this.logger.warn({ connectionsMax: this.limits.connectionsMax }, 'refusing a RESP connection: too many open');
    this.refusedSockets.add(socket);
    socket.on('close', () => this.refusedSockets.delete(socket));
    socket.on('error', () => {});
    socket.resume(); // drop what it sends, so that hanging up sends no reset that could destroy the reply
    const out: Buffer[] = [];
    encodeReply(error('ERR max number of clients reached'), out);
    socket.end(Buffer.concat(out));
    socket.setTimeout(this.limits.closeLingerMs, () => socket.destroy());
  }
}
