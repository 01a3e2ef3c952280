/**
 * One connection accepted by a TcpServer, from its hello to its close. The
 * hello decides what the connection is: a peer's (every later frame is a Raft
 * message for this node) or a client's (every later frame is a service
 * request, answered by request id, in whatever order the service finishes them).
 *
 * Anything wrong (no hello in time, another cluster, a bad frame, no slot
 * left for its role) closes this connection alone, after a reject frame that
 * tells the other side why and a warning in this node's log; the server and
 * its other connections go on. A client connection with no request in flight
 * that sends nothing for clientIdleMs is closed too (a debug line, not a
 * warning: the client library simply opens a new one when it needs one).
 */
import type { Socket } from 'node:net';
import type { TokenCheck } from '../auth/auth-token.js';
import type { Logger } from '../log/logger.js';
import type { Message, NodeId } from '../raft/index.js';
import { FrameError, MessageDecodeError } from './errors.js';
import type { ConnectionSlots } from './connection-slots.js';
import type { Frame } from './frame.js';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder } from './frame.js';
import { FrameQueue } from './frame-queue.js';
import { decodeHello, encodeReject, HELLO_PAYLOAD_BYTES_MAX } from './handshake.js';
import type { Hello } from './handshake.js';
import { decodeRaftMessage } from './raft-message-codec.js';
import type { DecodedServiceRequest, GroupService, ServiceRequest, ServiceResult } from './service-protocol.js';
import { decodeServiceRequest, encodeServiceResponse } from './service-protocol.js';
import type { ServerTimers } from './server-timers.js';
import { certificateProblem } from './tls.js';

export interface ServerCounters {
  /** Connections closed because of their hello: missing, late, malformed, another cluster, unwanted role. */
  connectionsRejected: number;
  /** Frames that closed their connection: bad header, bad payload, a kind out of place. */
  framesRejected: number;
  peerMessagesReceived: number;
  /** Well-formed peer messages addressed to another node, or claiming another sender than the hello. */
  peerMessagesDropped: number;
  clientRequestsReceived: number;
  /** Client connections closed for sending nothing, with nothing in flight, for clientIdleMs. */
  clientsClosedIdle: number;
}

export interface InboundContext {
  readonly selfId: NodeId;
  readonly clusterId: string;
  /** The cluster's auth token, which every hello, peer or client, must then carry; null: none is asked. */
  readonly tokenCheck: TokenCheck | null;
  readonly logger: Logger;
  readonly frameBytesMax: number;
  readonly helloTimeoutMs: number;
  readonly clientRequestsInFlightMax: number;
  readonly responseQueueBytesMax: number;
  /** Must not throw: it runs in the socket's data handler. */
  readonly onPeerMessage: ((message: Message) => void) | null;
  readonly service: GroupService | null;
  readonly counters: ServerCounters;
  /** Where the connection takes a peer or client slot when its hello comes. */
  readonly slots: ConnectionSlots<InboundConnection>;
  readonly clientIdleMs: number;
  readonly timers: ServerTimers;
  /** Peers must prove with a certificate signed by the cluster's CA that they are members (TLS ports). */
  readonly peerCertificateRequired: boolean;
}

type Phase =
  | { readonly step: 'hello'; readonly timer: NodeJS.Timeout }
  | { readonly step: 'peer'; readonly fromNodeId: NodeId }
  | { readonly step: 'client' }
  | { readonly step: 'closed' };

/** How long a refused connection gets to read its reject frame before it is cut. */
const REJECT_LINGER_MS = 1_000;
/** Keepalive finds connections whose other end vanished (a peer's machine died), so they do not pile up. */
const KEEPALIVE_INITIAL_DELAY_MS = 5_000;

export class InboundConnection {
  private phase: Phase;
  private readonly decoder: FrameDecoder;
  private readonly responses: FrameQueue;
  /** Client requests received and not yet answered on the socket: reading pauses at the limit. */
  private requestsInFlight = 0;
  private readingPaused = false;
  private readonly logger: Logger;
  /** When the last bytes came in: what the idle timeout of a client connection counts from. */
  private lastReceivedMs: number;
  private cancelIdleCheck: (() => void) | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly context: InboundContext,
  ) {
    this.logger = context.logger.child({ remote: `${socket.remoteAddress}:${socket.remotePort}` });
    // Until the hello is accepted, a stranger may send only a hello-sized frame, not 64 MiB.
    this.decoder = new FrameDecoder({
      frameBytesMax: context.frameBytesMax,
      firstFrameBytesMax: FRAME_HEADER_BYTES + HELLO_PAYLOAD_BYTES_MAX,
    });
    // Responses are never dropped: the flow control is reading less (see updateReading), not losing answers.
    this.responses = new FrameQueue({ framesMax: Infinity, bytesMax: Infinity }, (frameCount) => {
      this.requestsInFlight -= frameCount;
      this.updateReading();
    });
    const timer = setTimeout(() => this.refuse(`no hello within ${context.helloTimeoutMs} ms`), context.helloTimeoutMs);
    timer.unref();
    this.phase = { step: 'hello', timer };
    this.lastReceivedMs = context.timers.nowMs();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Errors (a reset by the other side) end in 'close'; the owner forgets the connection then.
    socket.on('error', (error) => this.logger.debug({ error: error.message }, 'connection error'));
    socket.on('close', () => this.onClose());
  }

  /** Closes the connection with a reject frame saying why, logged at debug (the server makes room for another). */
  letGo(reason: string): void {
    this.context.counters.connectionsRejected++;
    this.closeWithReason(reason, 'debug');
  }

  /** Cuts the connection at once (the server is closing). */
  destroy(): void {
    this.onClose();
    this.socket.destroy();
  }

  private isClosed(): boolean {
    return this.phase.step === 'closed';
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed()) return;
    this.lastReceivedMs = this.context.timers.nowMs();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.rejectFrame(error.message);
      return;
    }
    for (const frame of frames) {
      if (this.isClosed()) return;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Frame): void {
    switch (this.phase.step) {
      case 'hello':
        this.onHelloFrame(frame, this.phase.timer);
        return;
      case 'peer':
        this.onPeerFrame(frame, this.phase.fromNodeId);
        return;
      case 'client':
        this.onClientFrame(frame);
        return;
      case 'closed':
        return;
    }
  }

  private onHelloFrame(frame: Frame, timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    if (frame.kind !== 'hello') {
      this.refuse(`the first frame must be a hello, not a ${frame.kind} frame`);
      return;
    }
    let hello: Hello;
    try {
      hello = decodeHello(frame.payload);
    } catch (error) {
      if (!(error instanceof MessageDecodeError)) throw error;
      this.refuse(error.message);
      return;
    }
    const problem = this.helloProblem(hello) ?? this.context.slots.admit(this, hello.role);
    if (problem !== null) {
      this.refuse(problem);
      return;
    }
    if (hello.role === 'peer') {
      this.phase = { step: 'peer', fromNodeId: hello.fromNodeId };
    } else {
      this.phase = { step: 'client' };
      this.responses.attach(this.socket);
      this.checkIdleIn(this.context.clientIdleMs);
    }
    this.logger.debug({ role: hello.role }, 'connection accepted');
  }

  private helloProblem(hello: Hello): string | null {
    const { clusterId, selfId } = this.context;
    if (hello.clusterId !== clusterId) {
      return `cluster id ${JSON.stringify(hello.clusterId)} is not this node's (${JSON.stringify(clusterId)})`;
    }
    const tokenProblem = this.tokenProblem(hello);
    if (tokenProblem !== null) return tokenProblem;
    if (hello.role === 'peer') {
      if (this.context.onPeerMessage === null) return 'this server takes no peer connections';
      if (hello.fromNodeId === selfId) return `a peer hello from node ${selfId}, which is this node`;
      const certificate = this.context.peerCertificateRequired ? certificateProblem(this.socket) : null;
      if (certificate !== null) {
        return `refused peer node ${hello.fromNodeId}: ${certificate}; peers must present a certificate signed by the CA given with --tls-ca`;
      }
      return null;
    }
    return this.context.service === null ? 'this server takes no client connections' : null;
  }

  /**
   * A token the node does not ask for is let through: clients (and peers) can
   * be given the token before the nodes start asking for it, one at a time.
   */
  private tokenProblem(hello: Hello): string | null {
    const check = this.context.tokenCheck;
    if (check === null) return null;
    const token = hello.token ?? null;
    const whose = hello.role === 'peer' ? "node's --auth-token-file" : 'client its --token-file or RAFTKV_TOKEN';
    if (token === null) {
      return `this cluster requires an auth token and the ${hello.role} sent none: give the ${whose}`;
    }
    if (!check.matches(token)) {
      return `the ${hello.role}'s auth token is not this cluster's: give the ${whose} with the cluster's token`;
    }
    return null;
  }

  private onPeerFrame(frame: Frame, fromNodeId: NodeId): void {
    if (frame.kind !== 'raftMessage') {
      this.rejectFrame(`a peer connection carries raft messages, not a ${frame.kind} frame`);
      return;
    }
    let message: Message;
    try {
      message = decodeRaftMessage(frame.payload);
    } catch (error) {
      if (!(error instanceof MessageDecodeError)) throw error;
      this.rejectFrame(error.message);
      return;
    }
    const { selfId, counters, onPeerMessage } = this.context;
    if (message.to !== selfId || message.from !== fromNodeId) {
      counters.peerMessagesDropped++;
      this.logger.warn(
        { from: message.from, to: message.to, helloFrom: fromNodeId, type: message.type },
        `dropped a peer message that is not from node ${fromNodeId} to node ${selfId}`,
      );
      return;
    }
    counters.peerMessagesReceived++;
    try {
      onPeerMessage?.(message);
    } catch (error) {
      // A message the codec let through but the node refuses: drop this peer's connection, not the process.
      this.logger.error({ err: error, type: message.type }, 'the node refused a peer message');
      this.rejectFrame(`node ${selfId} refused a ${message.type} message from node ${fromNodeId}`);
    }
  }

  private onClientFrame(frame: Frame): void {
    const service = this.context.service;
    if (frame.kind !== 'clientRequest' || service === null) {
      this.rejectFrame(`a client connection carries requests, not a ${frame.kind} frame`);
      return;
    }
    let decoded: DecodedServiceRequest;
    try {
      decoded = decodeServiceRequest(frame.payload);
    } catch (error) {
      if (!(error instanceof MessageDecodeError)) throw error;
      this.rejectFrame(error.message);
      return;
    }
    this.context.counters.clientRequestsReceived++;
    this.requestsInFlight++;
    this.updateReading();
    if (decoded.ok) this.serve(service, decoded.requestId, decoded.request);
    else this.respond(decoded.requestId, decoded.result);
  }

  private serve(service: GroupService, requestId: number, request: ServiceRequest): void {
    void service.handle(request).then(
      (result) => this.respond(requestId, result),
      (error: unknown) => {
        // handle() promises never to reject; if it does, the outcome of the request is unknown.
        this.logger.error(
          { error: String(error) },
          `the ${request.service} service rejected a request instead of answering it`,
        );
        this.respond(requestId, {
          ok: false,
          error: { code: 'outcomeUnknown', message: 'the server failed while handling the request', leader: null },
        });
      },
    );
  }

  private respond(requestId: number, result: ServiceResult): void {
    if (this.phase.step === 'closed') return;
    this.responses.enqueue(encodeFrame('clientResponse', encodeServiceResponse({ requestId, result })));
  }

  /** Reads while there is room: fewer requests in flight than the limit, and answers not piling up unsent. */
  private updateReading(): void {
    const full =
      this.requestsInFlight >= this.context.clientRequestsInFlightMax ||
      this.responses.bytesQueued >= this.context.responseQueueBytesMax;
    if (full && !this.readingPaused) this.socket.pause();
    if (!full && this.readingPaused) this.socket.resume();
    this.readingPaused = full;
  }

  private checkIdleIn(delayMs: number): void {
    this.cancelIdleCheck = this.context.timers.after(delayMs, () => this.checkIdle());
  }

  /**
   * One timer per connection, set again when it fires rather than on every
   * chunk: a busy connection costs nothing per request, an idle one is found
   * within clientIdleMs of its last bytes.
   */
  private checkIdle(): void {
    this.cancelIdleCheck = null;
    if (this.phase.step !== 'client') return;
    const limitMs = this.context.clientIdleMs;
    const idleMs = this.context.timers.nowMs() - this.lastReceivedMs;
    if (this.requestsInFlight > 0 || idleMs < limitMs) {
      this.checkIdleIn(this.requestsInFlight > 0 ? limitMs : limitMs - idleMs);
      return;
    }
    this.context.counters.clientsClosedIdle++;
    this.closeWithReason(
      `closing a client connection idle for ${Math.round(idleMs / 1000)} s (the limit is ${limitMs} ms); ` +
        'open a new one to send more requests',
      'debug',
    );
  }

  private rejectFrame(reason: string): void {
    this.context.counters.framesRejected++;
    this.closeWithReason(reason);
  }

  private refuse(reason: string): void {
    this.context.counters.connectionsRejected++;
    this.closeWithReason(reason);
  }

  /** Says why in a reject frame, then closes; what the other side sends from now on is ignored. */
  private closeWithReason(reason: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.phase.step === 'closed') return;
    this.onClose();
    this.logger[level]({ reason }, 'closing a connection');
    const [header, payload] = encodeFrame('reject', encodeReject(reason));
    this.socket.write(header);
    this.socket.end(payload);
    const linger = setTimeout(() => this.socket.destroy(), REJECT_LINGER_MS);
    linger.unref();
    this.socket.once('close', () => clearTimeout(linger));
  }

  private onClose(): void {
    if (this.phase.step === 'hello') clearTimeout(this.phase.timer);
    this.cancelIdleCheck?.();
    this.cancelIdleCheck = null;
    this.phase = { step: 'closed' };
    this.responses.detach();
    this.responses.clear();
  }
}
