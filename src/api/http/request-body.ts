/**
 * Reads a request body up to a limit. A body over it is refused with 413 as
 * soon as the limit is passed (or at once, when Content-Length says so),
 * without buffering the rest: the connection is closed after the answer, so
 * the unread remainder costs nothing.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-errors.js';

export async function readBody(request: IncomingMessage, bytesMax: number, what: string): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > bytesMax) throw tooLarge(what, bytesMax, `${declared} bytes`);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request) {
    const bytes = chunk as Buffer;
    received += bytes.byteLength;
    if (received > bytesMax) throw tooLarge(what, bytesMax, `more than ${bytesMax} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, received);
}

function tooLarge(what: string, bytesMax: number, size: string): HttpError {
  return new HttpError(413, 'bodyTooLarge', `${what} of ${size} is over the limit of ${bytesMax} bytes: send less`, {
    Connection: 'close',
  });
}
