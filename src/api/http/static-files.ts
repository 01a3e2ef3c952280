/**
 * The dashboard's files, served from one directory: a request names a file
 * by its bare name (no slashes, no leading dot), and only a regular file that
 * is in that directory right now is served, so no path can reach outside it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { notFound } from './http-errors.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
/** Dashboard files are small; a bigger one is not ours to serve from memory. */
const FILE_BYTES_MAX = 8 * 1024 * 1024;

export async function sendStaticFile(response: ServerResponse, directory: string, name: string): Promise<void> {
  const missing = notFound(`the dashboard has no file "${name.slice(0, 100)}": open / for the dashboard`);
  const type = CONTENT_TYPES[path.extname(name).toLowerCase()];
  if (!SAFE_NAME.test(name) || type === undefined) throw missing;
  let present: string[];
  try {
    present = await readdir(directory);
  } catch {
    throw notFound(`the dashboard is not installed with this raftkv (no ${directory}); the JSON API under /v1/ works`);
  }
  if (!present.includes(name)) throw missing;
  const file = path.join(directory, name);
  const info = await stat(file);
  if (!info.isFile() || info.size > FILE_BYTES_MAX) throw missing;
  const body = await readFile(file);
  response.writeHead(200, { 'Content-Type': type, 'Content-Length': body.byteLength, 'Cache-Control': 'no-cache' });
  response.end(body);
}
