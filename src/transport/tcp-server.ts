/**
 * TcpServer: the one listening socket of a node. Peers connect to it to send
 * Raft messages (handed to onPeerMessage), clients to send service requests
 * (answered by the GroupService, often a router over several services). What
 * a connection is, and whether it is let in, is decided by its hello (see
 * InboundConnection).
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { Message, NodeId } from '../raft/index.js';
import { FRAME_BYTES_MAX_DEFAULT } from './frame.js';
import { checkClusterId } from './handshake.js';
import type { ServerCounters } from './inbound-connection.js';
import { InboundConnection } from './inbound-connection.js';
import type { GroupService } from './service-protocol.js';

/** A connection gets this long to say hello; a silent one only holds a file descriptor. */
export const HELLO_TIMEOUT_MS_DEFAULT = 5_000;
/** Peers of a few groups plus clients and proxies fit easily; the limit is there so a flood cannot take every descriptor. */
export const CONNECTIONS_MAX_DEFAULT = 1024;
/** Per client connection: enough to pipeline deeply, small enough that one client cannot queue unbounded work. */
export const CLIENT_REQUESTS_IN_FLIGHT_MAX_DEFAULT = 1024;
/** Per client connection: answers waiting for a slow reader beyond this pause reading its requests. */
export const RESPONSE_QUEUE_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

export interface TcpServerOptions {
  /** Interface to listen on: '127.0.0.1', '0.0.0.0', '::', a host name. */
  readonly host: string;
  /** 0 picks a free port; `port` tells which. */
  readonly port: number;
  readonly clusterId: string;
  readonly selfId: NodeId;
  readonly logger: Logger;
  /** Receives the messages of peer connections; without it, peer hellos are refused. Must not throw. */
  readonly onPeerMessage?: (message: Message) => void;
  /** Answers the requests of client connections; without it, client hellos are refused. */
  readonly service?: GroupService;
  /** The largest frame accepted, header included; a larger one closes its connection. */
  readonly frameBytesMax?: number;
  readonly helloTimeoutMs?: number;
  readonly connectionsMax?: number;
  readonly clientRequestsInFlightMax?: number;
  readonly responseQueueBytesMax?: number;
}

export class TcpServer {
  private readonly connections = new Set<InboundConnection>();
  private closing: Promise<void> | null = null;
  private readonly counts: ServerCounters = {
    connectionsRejected: 0,
    framesRejected: 0,
    peerMessagesReceived: 0,
    peerMessagesDropped: 0,
    clientRequestsReceived: 0,
  };

  private constructor(
    private readonly server: Server,
    private readonly options: TcpServerOptions,
    private readonly logger: Logger,
  ) {}

  /** Listens on options.host:options.port; rejects when it cannot (port in use, unknown host). */
  static async start(options: TcpServerOptions): Promise<TcpServer> {
    checkClusterId(options.clusterId);
    const server = createServer();
    server.maxConnections = options.connectionsMax ?? CONNECTIONS_MAX_DEFAULT;
    const logger = options.logger.child({ component: 'tcpServer', node: options.selfId });
    const tcpServer = new TcpServer(server, options, logger);
    server.on('connection', (socket) => tcpServer.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => logger.error({ error: error.message }, 'listening socket error'));
    logger.info({ host: options.host, port: tcpServer.port }, 'listening');
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

  /** Stops listening and cuts every connection; answers still being computed are dropped. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const connection of this.connections) connection.destroy();
      this.connections.clear();
    }
    return this.closing;
  }

  private accept(socket: Socket): void {
    const connection = new InboundConnection(socket, {
      selfId: this.options.selfId,
      clusterId: this.options.clusterId,
      logger: this.logger,
      frameBytesMax: this.options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT,
      helloTimeoutMs: this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS_DEFAULT,
      clientRequestsInFlightMax: this.options.clientRequestsInFlightMax ?? CLIENT_REQUESTS_IN_FLIGHT_MAX_DEFAULT,
      responseQueueBytesMax: this.options.responseQueueBytesMax ?? RESPONSE_QUEUE_BYTES_MAX_DEFAULT,
      onPeerMessage: this.options.onPeerMessage ?? null,
      service: this.options.service ?? null,
      counters: this.counts,
    });
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }
}
