/**
 * Reads a request body up to a limit. A body over it is refused with 413 as
 * soon as the limit is passed (or at once, when Content-Length says so),
 * without buffering the rest: the connection is closed after the answer, so
 * the unread remainder costs nothing.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

export function readBody(request: IncomingMessage, bytesMax: number, what: string): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > bytesMax) {
    return Promise.reject(tooLarge(what, bytesMax, `${declared} bytes`));
  }
  // Events rather than an async iterator: a small body costs no promise per chunk, and one chunk is not copied.
  return new Promise((resolve, reject) => new BodyCollector(request, bytesMax, what, resolve, reject).listen());
}

/**
 * One body being read. The listeners are properties set in listen(), not
 * named closures: tsx names every named function expression it meets (a
 * property define per closure, per request), which is dearer than the reading.
 */
class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private onData: (chunk: Buffer) => void = noop;
  private onEnd: () => void = noop;
  private onError: (error: Error) => void = noop;
  private onClose: () => void = noop;

  constructor(
    private readonly request: IncomingMessage,
    private readonly bytesMax: number,
    private readonly what: string,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  listen(): void {
    this.onData = (chunk) => this.data(chunk);
    this.onEnd = () => this.end();
    this.onError = (error) => this.fail(error);
    // Closed before the end: the client went away mid-upload (for await would reject with a premature close too).
    this.onClose = () => {
      if (!this.request.complete) this.fail(new Error('the client closed the connection before the body ended'));
    };
    this.request.on('data', this.onData);
    this.request.on('end', this.onEnd);
    this.request.on('error', this.onError);
    this.request.on('close', this.onClose);
  }

  private data(chunk: Buffer): void {
    this.received += chunk.byteLength;
    if (this.received > this.bytesMax) {
      // Stop reading; the server answers 413 and closes the connection.
      this.request.pause();
      this.fail(tooLarge(this.what, this.bytesMax, `more than ${this.bytesMax} bytes`));
      return;
    }
    this.chunks.push(chunk);
  }

  private end(): void {
    this.finish();
    this.resolve(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received));
  }

  private fail(error: Error): void {
    this.finish();
    this.reject(error);
  }

  private finish(): void {
    this.request.off('data', this.onData);
    this.request.off('end', this.onEnd);
    this.request.off('error', this.onError);
    this.request.off('close', this.onClose);
  }
}

function noop(): void {}

function tooLarge(what: string, bytesMax: number, size: string): HttpError {
  return new HttpError(413, 'bodyTooLarge', `${what} of ${size} is over the limit of ${bytesMax} bytes: send less`, {
    Connection: 'close',
  });
}
