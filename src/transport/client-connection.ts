/**
 * TcpClientConnection: one client's connection to one node, for service requests.
 * Calls are pipelined: each gets a request id, goes out in the next batch, and
 * is matched with its response by that id, whatever order the server answers
 * in. Everything that keeps a call from its answer (nobody listening, the
 * connection lost, no answer in time, the server refusing the hello) rejects
 * it with a ConnectionError; what the server answers, errors included, is a
 * ServiceResult.
 *
 * A connection that closed stays closed: the client library opens a new one
 * (perhaps to another node), and retries with the same client id and sequence.
 */
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { ConnectionError } from './errors.js';
import type { Frame } from './frame.js';
import { encodeFrame, FRAME_BYTES_MAX_DEFAULT, FrameDecoder } from './frame.js';
import { FrameQueue } from './frame-queue.js';
import { decodeReject, encodeHello } from './handshake.js';
import type { ServiceRequest, ServiceResponseMessage, ServiceResult } from './service-protocol.js';
import { decodeServiceResponse, encodeServiceRequest, REQUEST_ID_MAX } from './service-protocol.js';
import type { ClientTls } from './tls.js';
import { clientConnectOptions, tlsFailureHint } from './tls.js';

export const CALLS_IN_FLIGHT_MAX_DEFAULT = 1024;
export const CLIENT_CONNECT_TIMEOUT_MS_DEFAULT = 5_000;
/** Requests waiting to be written, in bytes: a value is at most 1 MiB, so this holds dozens of the largest. */
const REQUEST_QUEUE_BYTES_MAX = 64 * 1024 * 1024;

export interface TcpClientConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly clusterId: string;
  /** The cluster's auth token, sent in the hello; a node that asks for one refuses the connection without it. */
  readonly token?: string;
  readonly logger?: Logger;
  /** The largest response accepted, header included. */
  readonly frameBytesMax?: number;
  readonly connectTimeoutMs?: number;
  /** Calls waiting for an answer at most; one more is refused with ConnectionError 'overloaded'. */
  readonly callsInFlightMax?: number;
  /** Connect with TLS, trusting servers whose certificate tls.ca signed; plaintext when absent. */
  readonly tls?: ClientTls;
}

interface PendingCall {
  readonly resolve: (result: ServiceResult) => void;
  readonly reject: (error: ConnectionError) => void;
  readonly timer: NodeJS.Timeout;
}

type ConnectionState =
  | { readonly step: 'connecting' }
  | { readonly step: 'open' }
  | { readonly step: 'closed'; readonly error: ConnectionError };

export class TcpClientConnection {
  private state: ConnectionState = { step: 'connecting' };
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly requests: FrameQueue;
  private readonly pending = new Map<number, PendingCall>();
  private nextRequestId = 0;
  private readonly callsInFlightMax: number;
  private readonly logger: Logger;
  /** Settles when the connection opens or fails; `connect` waits for it. */
  private readonly opened: Promise<void>;

  /** Starts connecting; calls made before the connection is open wait for it (and fail with it). */
  constructor(options: TcpClientConnectionOptions) {
    const { host, port } = options;
    this.logger = (options.logger ?? silentLogger).child({ server: `${host}:${port}` });
    this.callsInFlightMax = options.callsInFlightMax ?? CALLS_IN_FLIGHT_MAX_DEFAULT;
    this.decoder = new FrameDecoder({ frameBytesMax: options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT });
    this.requests = new FrameQueue({ framesMax: this.callsInFlightMax, bytesMax: REQUEST_QUEUE_BYTES_MAX });
    const connectTimeoutMs = options.connectTimeoutMs ?? CLIENT_CONNECT_TIMEOUT_MS_DEFAULT;
    const hello = encodeFrame(
      'hello',
      encodeHello({ role: 'client', clusterId: options.clusterId, token: options.token ?? null }),
    );
    const tls = options.tls;
    this.socket =
      tls === undefined
        ? createConnection({ host, port })
        : connectTls({ host, port, ...clientConnectOptions(tls, host) });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(connectTimeoutMs, () => {
      this.fail(new ConnectionError('timeout', `no connection to ${host}:${port} within ${connectTimeoutMs} ms`));
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.onSocketError(error, `${host}:${port}`));
    this.socket.on('close', () => this.fail(new ConnectionError('closed', `the connection to ${host}:${port} closed`)));
    // Registered after the listeners above, so that on 'close' the failure is already recorded.
    this.opened = new Promise<void>((resolve, reject) => {
      // With TLS, requests wait for the handshake: none goes to a server whose certificate is not checked yet.
      this.socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        this.socket.setTimeout(0);
        if (this.state.step !== 'connecting') return;
        this.state = { step: 'open' };
        for (const part of hello) this.socket.write(part);
        this.requests.attach(this.socket);
        resolve();
      });
      this.socket.once('close', () => {
        if (this.state.step === 'closed') reject(this.state.error);
      });
    });
    // Nobody has to wait for `opened`; its failure reaches every call anyway.
    this.opened.catch(() => {});
  }

  /** A connection that is open (hello sent); rejects with ConnectionError when it cannot be made. */
  static async connect(options: TcpClientConnectionOptions): Promise<TcpClientConnection> {
    const connection = new TcpClientConnection(options);
    await connection.opened;
    return connection;
  }

  get isClosed(): boolean {
    return this.state.step === 'closed';
  }

  get callsInFlight(): number {
    return this.pending.size;
  }

  /** The service's answer; rejects with ConnectionError when there is none (see the file comment). */
  call(request: ServiceRequest, timeoutMs: number): Promise<ServiceResult> {
    if (this.state.step === 'closed') return Promise.reject(this.state.error);
    if (this.pending.size >= this.callsInFlightMax) {
      return Promise.reject(
        new ConnectionError('overloaded', `${this.pending.size} calls are in flight on this connection already`),
      );
    }
    const requestId = this.takeRequestId();
    const frame = encodeFrame('clientRequest', encodeServiceRequest({ requestId, request }));
    if (!this.requests.enqueue(frame)) {
      return Promise.reject(new ConnectionError('overloaded', 'the request queue of this connection is full'));
    }
    return new Promise<ServiceResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ConnectionError('timeout', `no answer within ${timeoutMs} ms; the outcome is unknown`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
    });
  }

  /** Closes the connection; calls in flight reject with ConnectionError 'closed'. */
  close(): void {
    this.fail(new ConnectionError('closed', 'the connection was closed by this client'));
  }

  /** The next id no call in flight uses; ids wrap around at REQUEST_ID_MAX. */
  private takeRequestId(): number {
    let requestId = this.nextRequestId;
    while (this.pending.has(requestId)) requestId = requestId === REQUEST_ID_MAX ? 0 : requestId + 1;
    this.nextRequestId = requestId === REQUEST_ID_MAX ? 0 : requestId + 1;
    return requestId;
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.fail(new ConnectionError('protocol', `the server sent a bad frame: ${String(error)}`));
      return;
    }
    for (const frame of frames) {
      if (this.state.step === 'closed') return;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Frame): void {
    if (frame.kind === 'reject') {
      this.fail(new ConnectionError('rejected', `the server refused the connection: ${decodeReject(frame.payload)}`));
      return;
    }
    if (frame.kind !== 'clientResponse') {
      this.fail(new ConnectionError('protocol', `the server sent a ${frame.kind} frame, not a response`));
      return;
    }
    let response: ServiceResponseMessage;
    try {
      response = decodeServiceResponse(frame.payload);
    } catch (error) {
      this.fail(new ConnectionError('protocol', `the server sent a bad response: ${String(error)}`));
      return;
    }
    const call = this.pending.get(response.requestId);
    // No call: it timed out already; the answer came too late to matter.
    if (call === undefined) {
      this.logger.debug({ requestId: response.requestId }, 'an answer arrived after its call timed out');
      return;
    }
    this.pending.delete(response.requestId);
    clearTimeout(call.timer);
    call.resolve(response.result);
  }

  private onSocketError(error: NodeJS.ErrnoException, address: string): void {
    const hint = tlsFailureHint(error);
    if (hint !== null) {
      this.fail(new ConnectionError('refused', `cannot connect to ${address}: ${hint}`));
    } else if (this.state.step === 'connecting' && error.code === 'ECONNREFUSED') {
      this.fail(new ConnectionError('refused', `nobody listens at ${address} (${error.message})`));
    } else if (this.state.step === 'connecting') {
      this.fail(new ConnectionError('refused', `cannot connect to ${address}: ${error.message}`));
    } else {
      this.fail(new ConnectionError('closed', `the connection to ${address} failed: ${error.message}`));
    }
  }

  /** The first failure wins: it is the reason every call in flight and every later call gets. */
  private fail(error: ConnectionError): void {
    if (this.state.step === 'closed') return;
    this.state = { step: 'closed', error };
    this.requests.detach();
    this.requests.clear();
    this.socket.destroy();
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(error);
    }
  }
}
