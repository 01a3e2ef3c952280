/**
 * One outbound connection from this node to one peer, for Raft messages. It
 * opens lazily (on the first message), says hello, and writes queued frames in
 * batches; when the connection breaks or cannot be made it waits (backoff) and
 * tries again, as long as there is something to send. Delivery is best effort:
 * frames in the socket when it breaks are lost, and a full queue refuses new
 * ones. Raft retransmits what matters, so losing beats growing without bound.
 *
 * The link only writes. The peer answers over its own link to this node's
 * server, so what comes back on this socket is at most a reject frame (wrong
 * cluster id), whose reason is logged.
 */
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Logger } from '../log/logger.js';
import type { NodeId } from '../raft/index.js';
import type { BackoffLimits } from './backoff.js';
import { backoffDelayMs } from './backoff.js';
import { FrameError } from './errors.js';
import type { FrameParts } from './frame.js';
import { encodeFrame, FrameDecoder } from './frame.js';
import type { FrameQueueLimits } from './frame-queue.js';
import { FrameQueue } from './frame-queue.js';
import { decodeReject, encodeHello } from './handshake.js';
import type { NodeTls } from './tls.js';
import { clientConnectOptions, isUntrustedCertificate, tlsFailureHint } from './tls.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** "host:port", as configs and flags write addresses (an IPv6 host in brackets). */
export function formatAddress({ host, port }: PeerAddress): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The other way: "host:port" (an IPv6 host in brackets) to a PeerAddress; the text is checked elsewhere. */
export function parseAddress(address: string): PeerAddress {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
}

export interface PeerLinkOptions {
  readonly selfId: NodeId;
  readonly peerId: NodeId;
  readonly address: PeerAddress;
  readonly clusterId: string;
  /** The cluster's auth token, which the peer asks for when it has one. */
  readonly token: string | null;
  readonly logger: Logger;
  readonly queueLimits: FrameQueueLimits;
  readonly backoff: BackoffLimits;
  readonly connectTimeoutMs: number;
  /** Limits what the peer may send back (a reject frame is small). */
  readonly frameBytesMax: number;
  readonly random: () => number;
  /** Frames handed to the socket, and their bytes (headers included). */
  readonly onSent: (frameCount: number, sizeBytes: number) => void;
  /** A connection attempt after the first (after a failure, or after the link went idle). */
  readonly onReconnect: () => void;
  /** Connect with TLS, presenting tls.cert and trusting only peers whose certificate tls.ca signed. */
  readonly tls?: NodeTls;
}

/** TCP keepalive notices a peer whose machine vanished, which no write might otherwise reveal for minutes. */
const KEEPALIVE_INITIAL_DELAY_MS = 5_000;

type LinkState =
  | { readonly step: 'idle' }
  | { readonly step: 'connecting'; readonly socket: Socket }
  | { readonly step: 'open'; readonly socket: Socket }
  | { readonly step: 'backoff'; readonly timer: NodeJS.Timeout }
  | { readonly step: 'closed' };

export class PeerLink {
  private state: LinkState = { step: 'idle' };
  private readonly queue: FrameQueue;
  /** Consecutive attempts that did not connect; sets the next backoff delay. */
  private failures = 0;
  private attempts = 0;
  private everConnected = false;
  private readonly logger: Logger;

  constructor(private readonly options: PeerLinkOptions) {
    this.queue = new FrameQueue(options.queueLimits, options.onSent);
    this.logger = options.logger.child({
      peer: options.peerId,
      address: `${options.address.host}:${options.address.port}`,
    });
  }

  /** Queues `frame` for the peer; false when the queue is full or the link is closed (the frame is dropped). */
  send(frame: FrameParts): boolean {
    if (this.state.step === 'closed' || !this.queue.enqueue(frame)) return false;
    if (this.state.step === 'idle') this.connect();
    return true;
  }

  /** Writes the queued frames now, if the socket can take them, instead of at the end of this turn. */
  flushNow(): void {
    this.queue.flushNow();
  }

  close(): void {
    const state = this.state;
    this.state = { step: 'closed' };
    this.queue.detach();
    this.queue.clear();
    if (state.step === 'connecting' || state.step === 'open') state.socket.destroy();
    if (state.step === 'backoff') clearTimeout(state.timer);
  }

  private connect(): void {
    if (this.attempts++ > 0) this.options.onReconnect();
    const { host, port } = this.options.address;
    const tls = this.options.tls;
    const socket: Socket =
      tls === undefined
        ? createConnection({ host, port })
        : connectTls({ host, port, ...clientConnectOptions(tls, host) });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    this.state = { step: 'connecting', socket };
    socket.setTimeout(this.options.connectTimeoutMs, () => {
      socket.destroy(new Error(`no connection within ${this.options.connectTimeoutMs} ms`));
    });
    let lastError: NodeJS.ErrnoException | null = null;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      lastError = error;
    });
    // With TLS the hello waits for the handshake: nothing is sent to a peer whose certificate is not checked yet.
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => this.onConnect(socket));
    socket.on('close', () => this.onClose(socket, lastError));
    const decoder = new FrameDecoder({ frameBytesMax: this.options.frameBytesMax });
    socket.on('data', (chunk: Buffer) => this.onData(socket, decoder, chunk));
  }

  private onConnect(socket: Socket): void {
    if (this.state.step !== 'connecting' || this.state.socket !== socket) return;
    socket.setTimeout(0);
    this.state = { step: 'open', socket };
    this.failures = 0;
    if (this.everConnected) this.logger.info({}, 'connection to peer restored');
    this.everConnected = true;
    const { clusterId, selfId, token } = this.options;
    // Written before the queue is attached, so the hello is the first frame the peer sees.
    for (const part of encodeFrame('hello', encodeHello({ role: 'peer', clusterId, fromNodeId: selfId, token }))) {
      socket.write(part);
    }
    this.queue.attach(socket);
  }

  private onData(socket: Socket, decoder: FrameDecoder, chunk: Buffer): void {
    try {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind === 'reject') {
          this.logger.warn({ reason: decodeReject(frame.payload) }, "the peer refused this node's connection");
        } else {
          this.logger.warn({ kind: frame.kind }, 'the peer sent an unexpected frame; reconnecting');
          socket.destroy();
          return;
        }
      }
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.logger.warn({ reason: error.message }, 'the peer sent a bad frame; reconnecting');
      socket.destroy();
    }
  }

  private onClose(socket: Socket, error: NodeJS.ErrnoException | null): void {
    const state = this.state;
    if ((state.step !== 'connecting' && state.step !== 'open') || state.socket !== socket) return;
    this.queue.detach();
    if (state.step === 'open') {
      this.logger.info({ error: error?.message }, 'connection to peer lost');
    } else if (isUntrustedCertificate(error) && this.failures === 0) {
      this.failures++;
      // Not a peer that is down: one that is not of this cluster, or a certificate that needs fixing.
      this.logger.warn({ error: error?.message }, `refused to connect to the peer: ${tlsFailureHint(error!)}`);
    } else {
      this.failures++;
      // The first failure is worth a line; a peer that stays down is not worth one every second.
      const log = this.failures === 1 ? this.logger.info.bind(this.logger) : this.logger.debug.bind(this.logger);
      log({ error: error?.message, failures: this.failures }, 'cannot connect to peer');
    }
    const delayMs = backoffDelayMs(this.failures, this.options.backoff, this.options.random);
    const timer = setTimeout(() => this.afterBackoff(), delayMs);
    // A link waiting to reconnect must not keep a process alive that is otherwise done.
    timer.unref();
    this.state = { step: 'backoff', timer };
  }

  private afterBackoff(): void {
    if (this.state.step !== 'backoff') return;
    // Lazy again: with nothing to send there is no reason to connect; the next message will.
    if (this.queue.framesQueued === 0) {
      this.state = { step: 'idle' };
      return;
    }
    this.connect();
  }
}
