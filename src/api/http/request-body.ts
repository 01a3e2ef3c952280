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
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.byteLength;
      if (received > bytesMax) {
        finish();
        // Stop reading; the server answers 413 and closes the connection.
        request.pause();
        reject(tooLarge(what, bytesMax, `more than ${bytesMax} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    const onError = (error: Error): void => {
      finish();
      reject(error);
    };
    const finish = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    // Closed before the end: the client went away mid-upload (for await would reject with a premature close too).
    const onClose = (): void => {
      if (request.complete) return;
      finish();
      reject(new Error('the client closed the connection before the body ended'));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

function tooLarge(what: string, bytesMax: number, size: string): HttpError {
  return new HttpError(413, 'bodyTooLarge', `${what} of ${size} is over the limit of ${bytesMax} bytes: send less`, {
    Connection: 'close',
  });
}
