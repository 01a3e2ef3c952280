/**
 * TcpServer: the one listening socket of a node. Peers connect to it to send
 * Raft messages (handed to onPeerMessage), clients to send service requests
 * (answered by the GroupService, often a router over several services). What
 * a connection is, and whether it is let in, is decided by its hello (see
 * InboundConnection) and by the slots left for its role (ConnectionSlots):
 * peers and clients have separate limits, so clients cannot keep peers out.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { TokenCheck } from '../auth/auth-token.js';
import type { Logger } from '../log/logger.js';
import type { Message, NodeId } from '../raft/index.js';
import { encodeFrame, FRAME_BYTES_MAX_DEFAULT } from './frame.js';
import { checkClusterId, encodeReject } from './handshake.js';
import { ConnectionSlots } from './connection-slots.js';
import type { ServerCounters } from './inbound-connection.js';
import { InboundConnection } from './inbound-connection.js';
import { realServerTimers } from './server-timers.js';
import type { ServerTimers } from './server-timers.js';
import type { GroupService } from './service-protocol.js';
import type { NodeTls } from './tls.js';
import { TlsGate } from './tls-gate.js';

/** A connection gets this long to say hello; a silent one only holds a file descriptor. */
export const HELLO_TIMEOUT_MS_DEFAULT = 5_000;
/** Client connections: many clients and proxies fit; the limit is there so a flood cannot take every descriptor. */
export const CLIENT_CONNECTIONS_MAX_DEFAULT = 1024;
/** Peer connections: the members of a group (at most 9) with room for stale connections being replaced. */
export const PEER_CONNECTIONS_MAX_DEFAULT = 64;
/** Connections that have not said hello yet; past this, the oldest is let go for the newest. */
export const HELLO_PENDING_MAX_DEFAULT = 128;
/** A client connection with nothing in flight that sends nothing for this long is closed. */
export const CLIENT_IDLE_MS_DEFAULT = 5 * 60_000;
/** Per client connection: enough to pipeline deeply, small enough that one client cannot queue unbounded work. */
export const CLIENT_REQUESTS_IN_FLIGHT_MAX_DEFAULT = 1024;
/** Per client connection: answers waiting for a slow reader beyond this pause reading its requests. */
export const RESPONSE_QUEUE_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

/** The limits an operator sets on client connections (see the README's Limits section). */
export type ClientConnectionLimits = Pick<TcpServerOptions, 'clientConnectionsMax' | 'clientIdleMs'>;

export interface TcpServerOptions {
  /** Interface to listen on: '127.0.0.1', '0.0.0.0', '::', a host name. */
  readonly host: string;
  /** 0 picks a free port; `port` tells which. */
  readonly port: number;
  readonly clusterId: string;
  /** When set, every hello (peer or client) must carry this token; see InboundConnection. */
  readonly authToken?: string;
  readonly selfId: NodeId;
  readonly logger: Logger;
  /** Receives the messages of peer connections; without it, peer hellos are refused. Must not throw. */
  readonly onPeerMessage?: (message: Message) => void;
  /** Answers the requests of client connections; without it, client hellos are refused. */
  readonly service?: GroupService;
  /** The largest frame accepted, header included; a larger one closes its connection. */
  readonly frameBytesMax?: number;
  readonly helloTimeoutMs?: number;
  readonly clientConnectionsMax?: number;
  readonly peerConnectionsMax?: number;
  readonly helloPendingMax?: number;
  readonly clientIdleMs?: number;
  /** Real time unless a test runs its own. */
  readonly timers?: ServerTimers;
  readonly clientRequestsInFlightMax?: number;
  readonly responseQueueBytesMax?: number;
  /** Serve TLS only, and take peers only with a certificate signed by tls.ca; plaintext when absent. */
  readonly tls?: NodeTls;
}

/** What a plaintext client hears from a TLS port: a reject frame, which every raftkv client shows. */
const PLAINTEXT_REJECT = Buffer.concat(
  encodeFrame(
    'reject',
    encodeReject(
      'this port speaks TLS only: connect with TLS (raftkv commands: --tls-ca FILE; the client library: the tls option)',
    ),
  ),
);

export class TcpServer {
  private readonly connections = new Set<InboundConnection>();
  private closing: Promise<void> | null = null;
  private readonly counts: ServerCounters = {
    connectionsRejected: 0,
    framesRejected: 0,
    peerMessagesReceived: 0,
    peerMessagesDropped: 0,
    clientRequestsReceived: 0,
    clientsClosedIdle: 0,
  };
  private readonly slots: ConnectionSlots<InboundConnection>;
  private readonly tokenCheck: TokenCheck | null;

  private constructor(
    private readonly server: Server,
    private readonly options: TcpServerOptions,
    private readonly logger: Logger,
    private readonly gate: TlsGate | null,
  ) {
    this.slots = new ConnectionSlots({
      clientsMax: options.clientConnectionsMax ?? CLIENT_CONNECTIONS_MAX_DEFAULT,
      peersMax: options.peerConnectionsMax ?? PEER_CONNECTIONS_MAX_DEFAULT,
      pendingMax: options.helloPendingMax ?? HELLO_PENDING_MAX_DEFAULT,
    });
    this.tokenCheck = options.authToken === undefined ? null : new TokenCheck(options.authToken);
  }

  /** Listens on options.host:options.port; rejects when it cannot (port in use, unknown host). */
  static async start(options: TcpServerOptions): Promise<TcpServer> {
    checkClusterId(options.clusterId);
    // No server.maxConnections: it cannot tell a peer from a client, so a flood of clients would keep peers out.
    const server = createServer();
    const logger = options.logger.child({ component: 'tcpServer', node: options.selfId });
    const gate =
      options.tls === undefined
        ? null
        : new TlsGate({
            tls: options.tls,
            requestCert: true,
            plaintextAnswer: PLAINTEXT_REJECT,
            handshakeTimeoutMs: options.helloTimeoutMs ?? HELLO_TIMEOUT_MS_DEFAULT,
            logger,
            onSecure: (socket) => tcpServer.accept(socket),
          });
    const tcpServer = new TcpServer(server, options, logger, gate);
    server.on('connection', (socket) => (gate === null ? tcpServer.accept(socket) : gate.accept(socket)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => logger.error({ error: error.message }, 'listening socket error'));
    logger.info({ host: options.host, port: tcpServer.port, tls: gate !== null }, 'listening');
    return tcpServer;
  }

  /** The port actually bound: the one asked for, or the one the system picked for port 0. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get counters(): Readonly<ServerCounters> {
    return { ...this.counts };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Open connections by what they said they are (pending: no hello yet). */
  get connectionCounts(): { readonly pending: number; readonly peers: number; readonly clients: number } {
    return this.slots.counts;
  }

  /** Stops listening and cuts every connection; answers still being computed are dropped. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const connection of this.connections) connection.destroy();
      this.connections.clear();
      this.gate?.close();
    }
    return this.closing;
  }

  private accept(socket: Socket): void {
    const connection = new InboundConnection(socket, {
      selfId: this.options.selfId,
      clusterId: this.options.clusterId,
      tokenCheck: this.tokenCheck,
      logger: this.logger,
      frameBytesMax: this.options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT,
      helloTimeoutMs: this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS_DEFAULT,
      clientRequestsInFlightMax: this.options.clientRequestsInFlightMax ?? CLIENT_REQUESTS_IN_FLIGHT_MAX_DEFAULT,
      responseQueueBytesMax: this.options.responseQueueBytesMax ?? RESPONSE_QUEUE_BYTES_MAX_DEFAULT,
      onPeerMessage: this.options.onPeerMessage ?? null,
      service: this.options.service ?? null,
      counters: this.counts,
      slots: this.slots,
      clientIdleMs: this.options.clientIdleMs ?? CLIENT_IDLE_MS_DEFAULT,
      timers: this.options.timers ?? realServerTimers,
      peerCertificateRequired: this.gate !== null,
    });
    this.connections.add(connection);
    socket.once('close', () => {
      this.connections.delete(connection);
      this.slots.leave(connection);
    });
    const evicted = this.slots.arrive(connection);
    evicted?.letGo('too many connections are waiting to say hello; this one waited longest');
  }
}
