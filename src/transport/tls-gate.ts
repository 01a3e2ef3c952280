/**
 * The door of a TLS port: a connection whose first byte opens a TLS
 * handshake (0x16) goes through a TLS server and reaches `onSecure` once
 * the handshake is done; any other connection is a client speaking plaintext
 * to a TLS port, and is told so in its own protocol (a reject frame, a RESP
 * error, an HTTP 400) before it is closed, instead of a reset it cannot
 * explain. Neither the first byte of a raftkv frame (a length below 64 MiB,
 * so 0x00 to 0x04), nor of a RESP command, nor of an HTTP method is 0x16.
 */
import type { Socket } from 'node:net';
import { createServer } from 'node:tls';
import type { Server, TLSSocket } from 'node:tls';
import type { Logger } from '../log/logger.js';
import type { NodeTls } from './tls.js';
import { serverContextOptions } from './tls.js';

/** TLS records of the handshake type begin with this byte. */
const TLS_HANDSHAKE_RECORD = 0x16;
/** How long a plaintext client gets to read why it is refused. */
const PLAINTEXT_LINGER_MS = 1_000;

export interface TlsGateOptions {
  readonly tls: NodeTls;
  /** Ask for the other side's certificate (checked by the owner: `socket.authorized`); it is not required. */
  readonly requestCert: boolean;
  /** What a plaintext connection is told before it is closed. */
  readonly plaintextAnswer: Buffer;
  /** From accept to the end of the handshake; a connection that takes longer is closed. */
  readonly handshakeTimeoutMs: number;
  readonly logger: Logger;
  readonly onSecure: (socket: TLSSocket) => void;
}

export class TlsGate {
  private readonly server: Server;
  /** Every connection accepted and not closed yet (through TLS or not), cut by close(). */
  private readonly sockets = new Set<Socket>();
  private readonly logger: Logger;

  constructor(private readonly options: TlsGateOptions) {
    this.logger = options.logger;
    this.server = createServer({
      ...serverContextOptions(options.tls),
      requestCert: options.requestCert,
      // The owner decides what an unverified certificate may do (a client needs none; a peer must have one).
      rejectUnauthorized: false,
      handshakeTimeout: options.handshakeTimeoutMs,
    });
    this.server.on('secureConnection', (socket: TLSSocket) => options.onSecure(socket));
    this.server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      // A client that does not trust this node's certificate ends the handshake here: worth a line, not a stack.
      this.logger.warn(
        { remote: `${socket.remoteAddress}:${socket.remotePort}`, error: error.message, code: error.code },
        "a TLS handshake failed: the other side may not trust this node's certificate, or does not speak TLS",
      );
    });
  }

  /** Takes a connection just accepted by the listening socket. */
  accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (error) => this.logger.debug({ error: error.message }, 'connection error before TLS'));
    socket.setTimeout(this.options.handshakeTimeoutMs, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      // Given back, so that the TLS server reads the handshake from its first byte.
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_RECORD) {
        socket.setTimeout(0);
        this.server.emit('connection', socket);
      } else {
        this.refusePlaintext(socket);
      }
    });
  }

  /** Cuts every connection, those still in their handshake too. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private refusePlaintext(socket: Socket): void {
    this.logger.warn(
      { remote: `${socket.remoteAddress}:${socket.remotePort}` },
      'refused a plaintext connection: this port speaks TLS only',
    );
    // What it sends is dropped, so that closing sends no reset that could destroy the answer.
    socket.on('data', () => {});
    socket.resume();
    socket.end(this.options.plaintextAnswer);
    socket.setTimeout(PLAINTEXT_LINGER_MS, () => socket.destroy());
  }
}
