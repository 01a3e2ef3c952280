/**
 * Errors as the HTTP API answers them: a status and a JSON body
 * {"error": {"code", "message"}}, the message saying what went wrong and
 * what to do. Handlers throw HttpError; the server turns it into the answer.
 */
import type { ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** Short, stable, for programs: notFound, badRequest, bodyTooLarge, timeout, ... */
    readonly code: string,
    message: string,
    /** Headers the answer needs, such as Allow on a 405. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  response.end(text);
}

export function sendError(response: ServerResponse, error: HttpError): void {
  sendJson(response, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}

export function notFound(message: string): HttpError {
  return new HttpError(404, 'notFound', message);
}

export function badRequest(message: string): HttpError {
  return new HttpError(400, 'badRequest', message);
}

export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): HttpError {
  return new HttpError(405, 'methodNotAllowed', `${path} takes ${allowed.join(' or ')}, not ${method}`, {
    Allow: allowed.join(', '),
  });
}
