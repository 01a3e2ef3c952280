/**
 * The HTTP API with the cluster's auth token: which paths need the bearer
 * token and which stay open (probes, Prometheus, the dashboard's files), and
 * the 401 a user gets, which says what to send.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HttpBackend } from '../../../src/api/http/http-backend.js';
import { HttpApiServer } from '../../../src/api/http/http-server.js';
import type { Logger } from '../../../src/log/logger.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { ShardConfig } from '../../../src/meta/config.js';
import type { MetricsSource } from '../../../src/metrics/metrics-source.js';
import type { NodeStatus } from '../../../src/node/node-status.js';

const TOKEN = 'cluster-token-0123456789abcdef';
const CONFIG: ShardConfig = { version: 2, buckets: [1], groups: [{ gid: 1, members: [{ id: 11, address: 'h:1' }] }] };
const STATUS: NodeStatus = {
  id: 11,
  gid: 1,
  role: 'leader',
  term: 4,
  leaderId: 11,
  commitIndex: 9,
  appliedIndex: 9,
  lastIndex: 9,
  snapshotIndex: 0,
  snapshotTerm: 0,
  logBytes: 500,
  configVersion: 2,
  bucketsInTransit: [],
  uptimeSeconds: 3,
};

class WarningLog implements Logger {
  readonly warnings: object[] = [];
  debug(): void {}
  info(): void {}
  error(): void {}
  warn(fields: object): void {
    this.warnings.push(fields);
  }
  child(): Logger {
    return this;
  }
}

describe('the HTTP API with an auth token', () => {
  const values = new Map<string, Buffer>();
  const moves: unknown[] = [];
  const backend: HttpBackend = {
    status: () => STATUS,
    cluster: () => Promise.resolve({ config: CONFIG, groups: [], moves: [] }),
    kv: {
      newSession: () => ({
        get: (key) => Promise.resolve(values.get(Buffer.from(key).toString('latin1')) ?? null),
        put: (key, value) => Promise.resolve(void values.set(Buffer.from(key).toString('latin1'), Buffer.from(value))),
        delete: (key) => Promise.resolve(values.delete(Buffer.from(key).toString('latin1'))),
        close: () => undefined,
      }),
    },
    admin: {
      join: () => Promise.resolve(CONFIG),
      leave: () => Promise.resolve(CONFIG),
      move: (from, to, gid) => Promise.resolve(void moves.push([from, to, gid])).then(() => CONFIG),
    },
  };
  const metrics: MetricsSource = {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    prometheusText: () => Promise.resolve('raftkv_requests_total 3\n'),
    recentStats: () => ({ windowSeconds: 10, operations: {} }),
    observeRequest: () => undefined,
  };
  const log = new WarningLog();
  let server: HttpApiServer;
  let dashboard: string;
  const url = (target: string): string => `http://127.0.0.1:${server.port}${target}`;
  const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    dashboard = await mkdtemp(path.join(os.tmpdir(), 'raftkv-auth-dashboard-'));
    await writeFile(path.join(dashboard, 'index.html'), '<h1>raftkv</h1>');
    await writeFile(path.join(dashboard, 'app.js'), 'console.log(1);');
    server = new HttpApiServer({ backend, logger: log, metrics, dashboardDirectory: dashboard, authToken: TOKEN });
    await server.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await server.close();
    await rm(dashboard, { recursive: true, force: true });
  });

  async function unauthorized(response: Response): Promise<{ message: string; challenge: string }> {
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unauthorized');
    return { message: body.error.message, challenge: response.headers.get('www-authenticate') ?? '' };
  }

  it('answers 401 with a bearer challenge and what to send on every data and admin path without the token', async () => {
    const closed: [string, RequestInit?][] = [
      ['/v1/kv/k'],
      ['/v1/kv/k', { method: 'PUT', body: 'v' }],
      ['/v1/kv/k', { method: 'DELETE' }],
      ['/v1/admin/move', { method: 'POST', body: '{"buckets":"0","gid":1}' }],
      ['/v1/status'],
      ['/v1/cluster'],
      ['/v1/stats'],
      ['/v1/no-such-path'],
    ];
    for (const [target, init] of closed) {
      const { message, challenge } = await unauthorized(await fetch(url(target), init));
      assert.match(message, /requires the cluster's auth token: send the header Authorization: Bearer <token>/, target);
      assert.equal(challenge, 'Bearer realm="raftkv"');
    }
    assert.deepEqual(moves, [], 'no admin command ran');
    assert.equal(values.size, 0, 'no key was written');
  });

  it('refuses a wrong token or another scheme, and logs wrong tokens without flooding the log', async () => {
    const wrong = await unauthorized(await fetch(url('/v1/kv/k'), bearer('not-the-token')));
    assert.match(wrong.message, /bearer token is not this cluster's/);
    assert.equal(wrong.challenge, 'Bearer realm="raftkv", error="invalid_token"');
    await unauthorized(await fetch(url('/v1/status'), bearer(`${TOKEN}x`)));
    const basic = await fetch(url('/v1/status'), { headers: { authorization: `Basic ${btoa(`user:${TOKEN}`)}` } });
    await unauthorized(basic);
    assert.equal(log.warnings.length, 1, 'one warning for a burst of wrong tokens');
  });

  it('serves every path with the right token', async () => {
    assert.equal((await fetch(url('/v1/kv/k'), { method: 'PUT', body: 'v', ...bearer(TOKEN) })).status, 200);
    const got = await fetch(url('/v1/kv/k'), bearer(TOKEN));
    assert.equal(await got.text(), 'v');
    assert.deepEqual(await (await fetch(url('/v1/status'), bearer(TOKEN))).json(), STATUS);
    assert.equal((await fetch(url('/v1/stats'), bearer(TOKEN))).status, 200);
    const move = await fetch(url('/v1/admin/move'), {
      method: 'POST',
      body: '{"buckets":"0","gid":1}',
      headers: { authorization: `bearer ${TOKEN}` },
    });
    assert.equal(move.status, 200, 'the scheme is case-insensitive');
    assert.deepEqual(moves, [[0, 0, 1]]);
  });

  it('leaves health, /metrics and the dashboard files open: probes, scrapers and the page itself need no token', async () => {
    assert.equal((await fetch(url('/v1/health'))).status, 200);
    assert.equal(await (await fetch(url('/metrics'))).text(), 'raftkv_requests_total 3\n');
    assert.equal(await (await fetch(url('/'))).text(), '<h1>raftkv</h1>');
    assert.equal(await (await fetch(url('/dashboard/app.js'))).text(), 'console.log(1);');
  });
});

describe('the HTTP API without an auth token', () => {
  it('ignores an Authorization header', async () => {
    const server = new HttpApiServer({
      backend: {
        status: () => STATUS,
        cluster: () => Promise.resolve({ config: CONFIG, groups: [], moves: [] }),
        kv: { unavailable: 'no keys here' },
        admin: { unavailable: 'no admin here' },
      },
      logger: silentLogger,
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/v1/status`, {
        headers: { authorization: 'Bearer whatever' },
      });
      assert.equal(response.status, 200);
    } finally {
      await server.close();
    }
  });
});
