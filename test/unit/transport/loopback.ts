/**
 * Helpers for transport tests on real loopback sockets. Waiting is by
 * condition, never by a fixed sleep; the deadline only turns a hang into a
 * failure that says what never happened.
 */
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Frame } from '../../../src/transport/frame.js';
import { FrameDecoder } from '../../../src/transport/frame.js';

export const HOST = '127.0.0.1';
const WAIT_DEADLINE_MS = 2_000;
const POLL_INTERVAL_MS = 2;

export async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_DEADLINE_MS} ms for: ${what}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/** A port that nothing listens on (it was free a moment ago, and the system hands out ports in turn). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** A plain socket that sends whatever a test likes and collects the frames the server sends back. */
export class RawConnection {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.frames.push(...this.decoder.push(chunk)));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = createConnection({ host: HOST, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  send(...parts: readonly Uint8Array[]): void {
    for (const part of parts) this.socket.write(part);
  }

  /** The reason in the reject frame the server sent before closing, if it sent one. */
  rejectReason(): string | null {
    const reject = this.frames.find((frame) => frame.kind === 'reject');
    return reject === undefined ? null : reject.payload.toString('utf8');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
