/**
 * /v1/kv/<key>: GET, PUT and DELETE of one key through the client library,
 * which finds the group and the leader (forwarding to another group's node
 * when the key is not this node's). The key is the rest of the path,
 * percent-decoded to bytes (so binary keys work: %FF is the byte 0xFF); the
 * value is the raw body and the raw answer (application/octet-stream).
 * Reads are linearizable unless ?stale=true.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VALUE_BYTES_MAX } from '../../kv/commands.js';
import type { RequestObserver } from '../../metrics/metrics-source.js';
import { httpErrorOf } from './client-errors.js';
import type { KvSession } from './http-backend.js';
import { badRequest, HttpError, methodNotAllowed, sendError, sendJson } from './http-errors.js';
import { readBody } from './request-body.js';

/** A value at the KV limit fits with room to spare; a bit more is refused by the store with its own message. */
export const KV_BODY_BYTES_MAX = VALUE_BYTES_MAX + 4 * 1024;
/** Sessions kept for reuse: each holds a client id and the group leaders it found. */
const IDLE_SESSIONS_MAX = 64;
/** KV requests served at once; more wait in no queue: they get 503 and retry. */
export const KV_REQUESTS_IN_FLIGHT_MAX = 1024;

/**
 * Client sessions handed out one per request, reused afterwards (a session
 * runs one request at a time). Taken and given back by the caller rather
 * than lent to a callback: no closure and no promise of its own per request.
 */
export class SessionPool {
  private readonly idle: KvSession[] = [];
  private inFlight = 0;

  constructor(private readonly newSession: () => KvSession) {}

  /** A session for one request; `give` it back when the request has settled. */
  take(): KvSession {
    if (this.inFlight >= KV_REQUESTS_IN_FLIGHT_MAX) {
      throw new HttpError(503, 'overloaded', `${this.inFlight} key requests are in flight here: retry in a moment`);
    }
    this.inFlight += 1;
    return this.idle.pop() ?? this.newSession();
  }

  /** Back from a request; `healthy` when the request succeeded. */
  give(session: KvSession, healthy: boolean): void {
    this.inFlight -= 1;
    // A session that failed may be mid-way through a retry: start afresh rather than reuse it.
    if (healthy && this.idle.length < IDLE_SESSIONS_MAX) this.idle.push(session);
    else session.close();
  }

  close(): void {
    for (const session of this.idle.splice(0)) session.close();
  }
}

type KvOperation = 'get' | 'put' | 'delete';

/**
 * Every successful PUT answers the same: built once, not per request. A string,
 * not a Buffer: node:http joins a string body to the header text and writes
 * both in one piece, where a Buffer body goes out as a second piece (writev).
 */
const PUT_OK_BODY = JSON.stringify({ ok: true });
const PUT_OK_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Content-Length': Buffer.byteLength(PUT_OK_BODY),
  'Cache-Control': 'no-store',
} as const;

export async function handleKv(
  request: IncomingMessage,
  response: ServerResponse,
  rawKey: string,
  query: URLSearchParams,
  pool: SessionPool,
  observer: RequestObserver | null,
): Promise<void> {
  const operation = operationOf(request.method ?? '');
  if (operation === null) throw methodNotAllowed(request.method ?? '', '/v1/kv/<key>', ['GET', 'PUT', 'DELETE']);
  const key = percentDecode(rawKey);
  if (key === null || key.byteLength === 0) {
    throw badRequest('name a key after /v1/kv/, URL-encoded (like /v1/kv/user%3A42)');
  }
  const stale = staleFlag(query);
  const startedMs = performance.now();
  let ok = false;
  try {
    // The body is read before a session is taken: a slow uploader holds no session.
    const value = operation === 'put' ? await readBody(request, KV_BODY_BYTES_MAX, 'a value') : null;
    const session = pool.take();
    try {
      if (operation !== 'put') await serveOther(session, operation, key, stale, response);
      else {
        // A put, the hot path, inline: one promise (the session's) between here and the store.
        await session.put(key, value ?? Buffer.alloc(0));
        response.writeHead(200, PUT_OK_HEADERS);
        response.end(PUT_OK_BODY);
      }
      ok = true;
    } finally {
      pool.give(session, ok);
    }
  } catch (error) {
    const mapped = httpErrorOf(error, operation === 'get' ? 'read' : 'write');
    throw mapped ?? error;
  } finally {
    observer?.observeRequest(operation, performance.now() - startedMs, ok);
  }
}

/** GET and DELETE (a PUT is handleKv's own). */
async function serveOther(
  session: KvSession,
  operation: 'get' | 'delete',
  key: Uint8Array,
  stale: boolean,
  response: ServerResponse,
): Promise<void> {
  switch (operation) {
    case 'get': {
      const found = await session.get(key, { stale });
      if (found === null) {
        // An absent key is a successful read, not a failure of the request.
        sendError(response, new HttpError(404, 'keyNotFound', 'no such key: PUT /v1/kv/<key> stores one'));
        return;
      }
      response.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': found.byteLength,
        'Cache-Control': 'no-store',
      });
      response.end(found);
      return;
    }
    case 'delete':
      sendJson(response, 200, { ok: true, existed: await session.delete(key) });
      return;
  }
}

function operationOf(method: string): KvOperation | null {
  switch (method) {
    case 'GET':
      return 'get';
    case 'PUT':
      return 'put';
    case 'DELETE':
      return 'delete';
    default:
      return null;
  }
}

function staleFlag(query: URLSearchParams): boolean {
  const stale = query.get('stale');
  if (stale === null || stale === 'false') return false;
  if (stale === 'true') return true;
  throw badRequest(`stale is true or false, not "${stale.slice(0, 40)}"`);
}

/** %XX escapes to bytes, everything else as UTF-8; null when an escape is broken. */
export function percentDecode(text: string): Uint8Array | null {
  const bytes = Buffer.from(text, 'utf8');
  let from = bytes.indexOf(PERCENT);
  if (from < 0) return bytes;
  // '%' and hex digits are ASCII, so they are the same bytes in UTF-8: decode in place, never longer than the input.
  let to = from;
  while (from < bytes.byteLength) {
    const byte = bytes[from]!;
    if (byte !== PERCENT) {
      bytes[to++] = byte;
      from += 1;
      continue;
    }
    const high = hexValue(bytes[from + 1]);
    const low = hexValue(bytes[from + 2]);
    if (high < 0 || low < 0) return null;
    bytes[to++] = high * 16 + low;
    from += 3;
  }
  return bytes.subarray(0, to);
}

const PERCENT = 0x25;

/** 0-15 for an ASCII hex digit, -1 for anything else (or nothing). */
function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}
