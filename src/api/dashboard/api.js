/**
 * The node's HTTP API as the page calls it. Every failure comes back as a
 * sentence a user can act on, whether the node refused the request, answered
 * something that is not JSON, or could not be reached at all. The auth token,
 * when the tab holds one, goes with every request; an answer 401 is marked
 * `unauthorized` so that the page can ask for the token.
 */
import { authorizationHeaders, storedToken } from './token-store.js';

/**
 * @template T
 * @typedef {{ ok: true, value: T } | { ok: false, message: string, unauthorized: boolean }} ApiResult
 */

/** A poll that takes longer than this is reported as a failure instead of piling up. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * @template T
 * @param {string} path
 * @returns {Promise<ApiResult<T>>}
 */
export function getJson(path) {
  return request(path, { method: 'GET', headers: authorizationHeaders() });
}

/**
 * @template T
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<ApiResult<T>>}
 */
export function postJson(path, body) {
  return request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authorizationHeaders() },
    body: JSON.stringify(body),
  });
}

/**
 * @template T
 * @param {string} path
 * @param {RequestInit} init
 * @returns {Promise<ApiResult<T>>}
 */
async function request(path, init) {
  /** @type {Response} */
  let response;
  try {
    response = await fetch(path, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    return {
      ok: false,
      message: `could not reach the node (${errorText(error)}); check that it is running`,
      unauthorized: false,
    };
  }
  if (response.status === 401) return { ok: false, message: unauthorizedText(), unauthorized: true };
  const text = await response.text();
  /** @type {unknown} */
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      ok: false,
      message: `${path} answered HTTP ${response.status} with a body that is not JSON`,
      unauthorized: false,
    };
  }
  if (!response.ok) return { ok: false, message: refusalText(path, response.status, body), unauthorized: false };
  return { ok: true, value: /** @type {T} */ (body) };
}

/**
 * The server's own words when it sent {"error": {"code", "message"}}.
 * @param {string} path
 * @param {number} status
 * @param {unknown} body
 */
function refusalText(path, status, body) {
  const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : null;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
    const code = 'code' in error && typeof error.code === 'string' ? ` [${error.code}]` : '';
    return `${error.message}${code}`;
  }
  return `${path} answered HTTP ${status}`;
}

/** What to do about a 401: the node's own message speaks of headers, which a page user never sees. */
function unauthorizedText() {
  return storedToken() === null
    ? 'this cluster asks for its auth token: enter it in the Token field at the top'
    : "the token entered is not this cluster's: enter the right one in the Token field at the top";
}

/** @param {unknown} error */
function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}
