/**
 * One RESP client connection: parses its requests, executes them strictly
 * one after another in arrival order, and writes the replies in that order.
 *
 * Memory stays bounded whatever the client does: past `requestsQueuedMax`
 * unanswered requests the socket is paused, and while the socket's write
 * buffer is full no request is executed, so a client that sends without
 * reading ends up blocked by TCP instead of filling this process.
 */
import type { Socket } from 'node:net';
import type { TokenCheck } from '../../auth/auth-token.js';
import type { Logger } from '../../log/logger.js';
import type { CommandContext, ServerFacts } from './command-spec.js';
import { error } from './encoder.js';
import type { RespProtocolError } from './parser.js';
import { RespParser } from './parser.js';
import type { RespSession } from './resp-backend.js';
import { executeCommand } from './resp-commands.js';
import { ReplyWriter } from './reply-writer.js';
import type { RespServerLimits } from './server-limits.js';
import type { RespServerStats } from './server-stats.js';

type QueuedRequest =
  | { readonly kind: 'command'; readonly args: Buffer[] }
  | { readonly kind: 'protocolError'; readonly error: RespProtocolError };

/**
 * serving: reading and answering. closing: the last reply is on its way and
 * the sending side is ended; whatever the client still sends is dropped
 * until it hangs up or `closeLingerMs` passes. closed: the socket is gone.
 */
type Phase = 'serving' | 'closing' | 'closed';

export interface RespConnectionOptions {
  readonly socket: Socket;
  readonly session: RespSession;
  readonly connectionId: number;
  readonly limits: RespServerLimits;
  readonly logger: Logger;
  readonly stats: RespServerStats;
  readonly server: ServerFacts;
  /** The password clients must give (AUTH) before anything else; null when none is asked. */
  readonly tokenCheck: TokenCheck | null;
}

export class RespConnection {
  /** Resolves once the socket has closed and the session with it. */
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;

  private readonly socket: Socket;
  private readonly session: RespSession;
  private readonly limits: RespServerLimits;
  private readonly logger: Logger;
  private readonly stats: RespServerStats;
  private readonly parser: RespParser;
  private readonly writer: ReplyWriter;
  private readonly context: CommandContext;
  private readonly queue: QueuedRequest[] = [];
  /** Below this many queued requests a paused socket is read again; half the maximum, so a busy pipeline is not paused and resumed for every request. */
  private readonly requestsQueuedResume: number;
  /** Bytes of the queued requests' arguments: a pipeline of large values is bounded by size, not only by count. */
  private queuedBytes = 0;

  private phase: Phase = 'serving';
  private executing = false;
  private readingPaused = false;
  /** A protocol error is queued: nothing after it can be parsed. */
  private parsingStopped = false;
  /** The client half-closed: answer what is queued, then close. */
  private clientEnded = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private sessionClosed = false;
  private shuttingDown = false;
  private authFailures = 0;

  constructor(options: RespConnectionOptions) {
    this.socket = options.socket;
    this.session = options.session;
    this.limits = options.limits;
    this.logger = options.logger;
    this.stats = options.stats;
    this.parser = new RespParser(options.limits);
    this.writer = new ReplyWriter(options.socket, options.limits.replyBatchBytesMax);
    this.context = {
      session: options.session,
      server: options.server,
      connectionId: options.connectionId,
      clientName: null,
      closeAfterReply: false,
      auth: {
        check: options.tokenCheck,
        authenticated: options.tokenCheck === null,
        onFailure: () => this.onAuthFailure(),
      },
    };
    this.requestsQueuedResume = Math.max(1, Math.floor(options.limits.requestsQueuedMax / 2));
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));

    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.onClientEnd());
    // Resets and broken pipes are the client's business; 'close' follows and cleans up.
    this.socket.on('error', (thrown) => this.logger.debug({ err: thrown }, 'RESP connection socket error'));
    this.socket.on('close', () => this.onClose());
  }

  /** Cuts the connection now, unanswered requests and all. */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * The server is shutting down: the request running now is answered, the
   * ones queued behind it are dropped unread, and the connection closes.
   * Cutting the running one instead would leave its client not knowing
   * whether a write happened, and Redis clients resend such a command on a
   * new connection, as a new client the group cannot deduplicate. Queued
   * requests never ran, so resending them is safe.
   */
  shutdown(): void {
    if (this.phase !== 'serving') return;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.parsingStopped = true;
    this.shuttingDown = true;
    if (!this.executing) this.beginClose();
  }

  private onData(chunk: Buffer): void {
    if (this.phase !== 'serving' || this.parsingStopped) return;
    const { commands, error: protocolError } = this.parser.feed(chunk);
    for (const args of commands) {
      this.queue.push({ kind: 'command', args });
      this.queuedBytes += argumentBytes(args);
    }
    if (protocolError !== null) {
      this.queue.push({ kind: 'protocolError', error: protocolError });
      this.parsingStopped = true;
    }
    this.stats.requestsQueuedPeak = Math.max(this.stats.requestsQueuedPeak, this.queue.length);
    this.stats.requestBytesQueuedPeak = Math.max(this.stats.requestBytesQueuedPeak, this.queuedBytes);
    const full =
      this.queue.length >= this.limits.requestsQueuedMax || this.queuedBytes >= this.limits.requestBytesQueuedMax;
    if (full && !this.readingPaused) {
      this.readingPaused = true;
      this.socket.pause();
    }
    this.execute();
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    this.execute();
  }

  private execute(): void {
    if (this.executing) return;
    this.executing = true;
    void this.executeQueued();
  }

  /** The only place requests run, so at most one runs at a time and replies leave in request order. */
  private async executeQueued(): Promise<void> {
    try {
      while (this.phase === 'serving' && this.queue.length > 0) {
        if (this.writer.congested) {
          await this.writer.drained();
          continue;
        }
        const request = this.queue.shift()!;
        if (request.kind === 'command') this.queuedBytes -= argumentBytes(request.args);
        this.resumeReadingIfRoom();
        if (request.kind === 'protocolError') {
          this.answerProtocolError(request.error);
          break;
        }
        const pending = executeCommand(request.args, this.context);
        const reply = pending instanceof Promise ? await pending : pending;
        if (this.phase !== 'serving') break;
        this.writer.write(reply);
        if (this.context.closeAfterReply) this.beginClose();
      }
      if ((this.clientEnded || this.shuttingDown) && this.queue.length === 0) this.beginClose();
    } catch (thrown) {
      // A command or session broke its contract (sessions never reject): this connection's state is unknown.
      this.logger.error({ err: thrown }, 'a RESP command failed unexpectedly; closing its connection');
      if (this.phase === 'serving') this.writer.write(error('ERR internal error; see the server log'));
      this.beginClose();
    } finally {
      this.executing = false;
      if (this.phase === 'closed') this.closeSession();
    }
  }

  /** The first wrong password of a connection is logged; the rest only counted (see auth-commands.ts). */
  private onAuthFailure(): void {
    this.stats.authFailures++;
    this.authFailures++;
    if (this.authFailures === 1) {
      this.logger.warn({}, 'a RESP client gave a wrong password (AUTH); later ones on this connection are not logged');
    }
  }

  private resumeReadingIfRoom(): void {
    if (!this.readingPaused || this.queue.length >= this.requestsQueuedResume) return;
    if (this.queuedBytes >= this.limits.requestBytesQueuedMax / 2) return;
    this.readingPaused = false;
    this.socket.resume();
  }

  private answerProtocolError(protocolError: RespProtocolError): void {
    this.stats.protocolErrors++;
    this.logger.warn({ problem: protocolError.message }, 'closing a RESP connection that broke the protocol');
    this.writer.write(error(`ERR ${protocolError.message}`));
    this.beginClose();
  }

  /** Sends the replies given so far, ends the sending side, and waits, bounded, for the client to hang up. */
  private beginClose(): void {
    if (this.phase !== 'serving') return;
    this.phase = 'closing';
    this.queue.length = 0;
    this.queuedBytes = 0;
    // Keep reading (and dropping): unread bytes at close would make the kernel send a reset, which can destroy the last reply.
    if (this.readingPaused) this.socket.resume();
    this.readingPaused = false;
    this.writer.end();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), this.limits.closeLingerMs);
    this.lingerTimer.unref();
  }

  private onClose(): void {
    this.phase = 'closed';
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.writer.discard();
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    // A call in flight still settles; the session is closed after it, as RespSession promises.
    if (!this.executing) this.closeSession();
  }

  private closeSession(): void {
    if (this.sessionClosed) return;
    this.sessionClosed = true;
    try {
      this.session.close();
    } catch (thrown) {
      this.logger.error({ err: thrown }, 'closing a RESP session failed');
    }
    this.resolveFinished();
  }
}

function argumentBytes(args: readonly Buffer[]): number {
  let bytes = 0;
  for (const argument of args) bytes += argument.byteLength;
  return bytes;
}
