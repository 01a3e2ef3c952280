/**
 * The HTTP API's routing, limits and errors on a real server (port 0) over
 * fake backends: an in-memory key map, a recording admin, a fake metrics
 * source and a temporary dashboard directory.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HttpBackend, KvSession, MetaAdmin } from '../../../src/api/http/http-backend.js';
import { HttpApiServer } from '../../../src/api/http/http-server.js';
import { KV_BODY_BYTES_MAX } from '../../../src/api/http/kv-routes.js';
import { ClientError, MetaRefusedError } from '../../../src/client/errors.js';
import { VALUE_BYTES_MAX } from '../../../src/kv/commands.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { ShardConfig } from '../../../src/meta/config.js';
import type { MetricsSource } from '../../../src/metrics/metrics-source.js';
import type { NodeStatus } from '../../../src/node/node-status.js';

const HOST = '127.0.0.1';
const CONFIG: ShardConfig = {
  version: 7,
  buckets: [1, 1],
  groups: [{ gid: 1, members: [{ id: 11, address: 'h:1' }] }],
};

const status: { current: NodeStatus } = {
  current: {
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
    configVersion: 7,
    bucketsInTransit: [],
    uptimeSeconds: 3,
  },
};

/** Keys as latin1 strings so any bytes map one to one; `failNext` makes the next call throw. */
class MemoryKv {
  readonly values = new Map<string, Buffer>();
  readonly staleGets: boolean[] = [];
  failNext: Error | null = null;

  newSession(): KvSession {
    const take = (): void => {
      const failure = this.failNext;
      this.failNext = null;
      if (failure !== null) throw failure;
    };
    const name = (key: Uint8Array): string => Buffer.from(key).toString('latin1');
    return {
      get: (key, options) => {
        take();
        this.staleGets.push(options?.stale === true);
        return Promise.resolve(this.values.get(name(key)) ?? null);
      },
      put: (key, value) => {
        take();
        this.values.set(name(key), Buffer.from(value));
        return Promise.resolve();
      },
      delete: (key) => {
        take();
        return Promise.resolve(this.values.delete(name(key)));
      },
      close: () => undefined,
    };
  }
}

class RecordingAdmin implements MetaAdmin {
  readonly calls: unknown[] = [];
  refuse: MetaRefusedError | null = null;
  join(groups: Parameters<MetaAdmin['join']>[0]): Promise<ShardConfig> {
    this.calls.push({ join: groups });
    return this.answer();
  }
  leave(gids: readonly number[]): Promise<ShardConfig> {
    this.calls.push({ leave: gids });
    return this.answer();
  }
  move(fromBucket: number, toBucket: number, gid: number): Promise<ShardConfig> {
    this.calls.push({ move: [fromBucket, toBucket, gid] });
    return this.answer();
  }
  private answer(): Promise<ShardConfig> {
    return this.refuse === null ? Promise.resolve(CONFIG) : Promise.reject(this.refuse);
  }
}

const observed: { operation: string; ok: boolean }[] = [];
const metrics: MetricsSource = {
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  prometheusText: () => Promise.resolve('raftkv_requests_total 3\n'),
  recentStats: () => ({ windowSeconds: 10, operations: {} }),
  observeRequest: (operation, _durationMs, ok) => observed.push({ operation, ok }),
};

describe('the HTTP API', () => {
  const kv = new MemoryKv();
  const admin = new RecordingAdmin();
  let clusterFails = false;
  const backend: HttpBackend = {
    status: () => status.current,
    cluster: () =>
      clusterFails
        ? Promise.reject(new Error('a bug in the cluster view'))
        : Promise.resolve({ config: CONFIG, groups: [], moves: [] }),
    kv,
    admin,
  };
  let server: HttpApiServer;
  let bare: HttpApiServer;
  let dashboard: string;
  const url = (target: string, on: HttpApiServer = server): string => `http://${HOST}:${on.port}${target}`;

  before(async () => {
    dashboard = await mkdtemp(path.join(os.tmpdir(), 'raftkv-dashboard-'));
    await writeFile(path.join(dashboard, 'index.html'), '<h1>raftkv</h1>');
    await writeFile(path.join(dashboard, 'app.js'), 'console.log(1);');
    await writeFile(path.join(path.dirname(dashboard), `${path.basename(dashboard)}-secret.js`), 'secret');
    server = new HttpApiServer({ backend, logger: silentLogger, metrics, dashboardDirectory: dashboard });
    await server.listen({ host: HOST, port: 0 });
    // A meta node's API without metrics: no keys, no /metrics.
    bare = new HttpApiServer({
      backend: { ...backend, kv: { unavailable: 'a meta node holds no keys: go to a shard node' } },
      logger: silentLogger,
      dashboardDirectory: dashboard,
    });
    await bare.listen({ host: HOST, port: 0 });
  });
  after(async () => {
    await server.close();
    await bare.close();
    await rm(`${dashboard}-secret.js`, { force: true });
    await rm(dashboard, { recursive: true, force: true });
  });

  async function json(response: Response): Promise<Record<string, unknown>> {
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    return (await response.json()) as Record<string, unknown>;
  }

  async function errorOf(response: Response, statusCode: number, code: string): Promise<string> {
    assert.equal(response.status, statusCode);
    const body = await json(response);
    const error = body['error'] as { code: string; message: string };
    assert.equal(error.code, code);
    return error.message;
  }

  it('answers health 200 while a leader is known and 503 with the reason during an election', async () => {
    const healthy = await fetch(url('/v1/health'));
    assert.equal(healthy.status, 200);
    assert.equal((await json(healthy))['ok'], true);
    status.current = { ...status.current, role: 'candidate', leaderId: null };
    try {
      const message = await errorOf(await fetch(url('/v1/health')), 503, 'noLeader');
      assert.match(message, /knows no leader of its group.*retry/);
    } finally {
      status.current = { ...status.current, role: 'leader', leaderId: 11 };
    }
  });

  it("serves the node's status and the cluster view as JSON", async () => {
    assert.deepEqual(await json(await fetch(url('/v1/status'))), status.current);
    const cluster = await json(await fetch(url('/v1/cluster')));
    assert.deepEqual(cluster['config'], CONFIG);
  });

  it('stores, reads and deletes raw bytes under a percent-encoded key, binary keys included', async () => {
    const value = Buffer.from([0, 1, 2, 255, 10]);
    const put = await fetch(url('/v1/kv/user%3A42%FF'), { method: 'PUT', body: value });
    assert.equal(put.status, 200);
    assert.ok(kv.values.has(Buffer.from([...Buffer.from('user:42'), 0xff]).toString('latin1')));
    const got = await fetch(url('/v1/kv/user%3A42%FF'));
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), value);
    assert.deepEqual(await json(await fetch(url('/v1/kv/user%3A42%FF'), { method: 'DELETE' })), {
      ok: true,
      existed: true,
    });
    const message = await errorOf(await fetch(url('/v1/kv/user%3A42%FF')), 404, 'keyNotFound');
    assert.match(message, /no such key/);
  });

  it('reads linearizably unless ?stale=true, and records every key request in the metrics', async () => {
    kv.staleGets.length = 0;
    observed.length = 0;
    await fetch(url('/v1/kv/k'));
    await fetch(url('/v1/kv/k?stale=true'));
    await fetch(url('/v1/kv/k'), { method: 'PUT', body: 'v' });
    assert.deepEqual(kv.staleGets, [false, true]);
    // An absent key is a successful read.
    assert.deepEqual(observed, [
      { operation: 'get', ok: true },
      { operation: 'get', ok: true },
      { operation: 'put', ok: true },
    ]);
    assert.match(await errorOf(await fetch(url('/v1/kv/k?stale=yes')), 400, 'badRequest'), /stale is true or false/);
  });

  it("maps the client library's errors: timeouts 504, oversized values 413", async () => {
    kv.failNext = new ClientError('deadlineExceeded', 'no member of the group answered within 5000 ms');
    const write = await errorOf(await fetch(url('/v1/kv/k'), { method: 'PUT', body: 'v' }), 504, 'outcomeUnknown');
    assert.match(write, /no member of the group answered/);
    kv.failNext = new ClientError('deadlineExceeded', 'no member answered');
    await errorOf(await fetch(url('/v1/kv/k')), 504, 'timeout');
    kv.failNext = new ClientError('valueTooLarge', `the value is over ${VALUE_BYTES_MAX} bytes`);
    await errorOf(await fetch(url('/v1/kv/k'), { method: 'PUT', body: 'v' }), 413, 'valueTooLarge');
    assert.equal(observed.at(-1)?.ok, false);
  });

  it('refuses a body over the limit with 413 and goes on serving', async () => {
    const huge = Buffer.alloc(KV_BODY_BYTES_MAX + 1, 'x');
    const message = await errorOf(await fetch(url('/v1/kv/big'), { method: 'PUT', body: huge }), 413, 'bodyTooLarge');
    assert.match(message, /over the limit of \d+ bytes: send less/);
    assert.equal(kv.values.has('big'), false);
    const adminBody = JSON.stringify({ gids: [1], padding: 'x'.repeat(70_000) });
    await errorOf(await fetch(url('/v1/admin/leave'), { method: 'POST', body: adminBody }), 413, 'bodyTooLarge');
    assert.equal((await fetch(url('/v1/health'))).status, 200);
  });

  it('answers unknown routes 404, wrong methods 405 with Allow, bad keys 400, all as JSON', async () => {
    assert.match(await errorOf(await fetch(url('/v2/nothing')), 404, 'notFound'), /try \/v1\/health/);
    const wrong = await fetch(url('/v1/status'), { method: 'POST', body: '{}' });
    assert.equal(wrong.headers.get('allow'), 'GET');
    await errorOf(wrong, 405, 'methodNotAllowed');
    const patch = await fetch(url('/v1/kv/k'), { method: 'PATCH', body: 'v' });
    assert.equal(patch.headers.get('allow'), 'GET, PUT, DELETE');
    await errorOf(patch, 405, 'methodNotAllowed');
    assert.match(await errorOf(await fetch(url('/v1/kv/')), 400, 'badRequest'), /name a key after \/v1\/kv\//);
    await errorOf(await fetch(url('/v1/kv/bad%G1')), 400, 'badRequest');
  });

  it('runs admin commands from JSON bodies and answers the new config', async () => {
    const moved = await fetch(url('/v1/admin/move'), { method: 'POST', body: '{"buckets":"0-4","gid":1}' });
    assert.deepEqual(await json(moved), { config: CONFIG });
    await fetch(url('/v1/admin/join'), { method: 'POST', body: '{"gid":3,"members":"31=127.0.0.1:7031"}' });
    await fetch(url('/v1/admin/leave'), { method: 'POST', body: '{"gids":[2]}' });
    assert.deepEqual(admin.calls, [
      { move: [0, 4, 1] },
      { join: [{ gid: 3, members: [{ id: 31, address: '127.0.0.1:7031' }] }] },
      { leave: [2] },
    ]);
    const malformed = await errorOf(
      await fetch(url('/v1/admin/move'), { method: 'POST', body: '{"buckets":' }),
      400,
      'badRequest',
    );
    assert.match(malformed, /not JSON.*like \{"buckets": "0-4", "gid": 1\}/);
    admin.refuse = new MetaRefusedError('unknownGroup', 'group 9 has not joined');
    try {
      const refused = await fetch(url('/v1/admin/leave'), { method: 'POST', body: '{"gids":[9]}' });
      assert.match(await errorOf(refused, 400, 'unknownGroup'), /refused the command: group 9/);
    } finally {
      admin.refuse = null;
    }
    await errorOf(await fetch(url('/v1/admin/move')), 405, 'methodNotAllowed');
    await errorOf(await fetch(url('/v1/admin/split'), { method: 'POST', body: '{}' }), 404, 'notFound');
  });

  it('serves /metrics and /v1/stats from the metrics source, and 404 without one', async () => {
    const text = await fetch(url('/metrics'));
    assert.equal(text.headers.get('content-type'), metrics.contentType);
    assert.equal(await text.text(), 'raftkv_requests_total 3\n');
    assert.deepEqual(await json(await fetch(url('/v1/stats'))), { windowSeconds: 10, operations: {} });
    assert.match(await errorOf(await fetch(url('/metrics', bare)), 404, 'notFound'), /without metrics/);
    await errorOf(await fetch(url('/v1/stats', bare)), 404, 'notFound');
  });

  it('tells a client of a node without keys where to go', async () => {
    const message = await errorOf(await fetch(url('/v1/kv/k', bare)), 404, 'notFound');
    assert.match(message, /meta node holds no keys: go to a shard node/);
  });

  it("serves the dashboard's files with their types, and nothing outside its directory", async () => {
    const index = await fetch(url('/'));
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await index.text(), '<h1>raftkv</h1>');
    const script = await fetch(url('/dashboard/app.js'));
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const secret = `..%2F${path.basename(dashboard)}-secret.js`;
    await errorOf(await fetch(url(`/dashboard/${secret}`)), 404, 'notFound');
    await errorOf(await fetch(url('/dashboard/missing.js')), 404, 'notFound');
    await errorOf(await fetch(url('/dashboard/.hidden.js')), 404, 'notFound');
  });

  it('answers 500 to a failure it did not expect, and a request that is not HTTP with 400, and goes on', async () => {
    clusterFails = true;
    try {
      assert.match(await errorOf(await fetch(url('/v1/cluster')), 500, 'internal'), /try again/);
    } finally {
      clusterFails = false;
    }
    const raw = (text: string): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(server.port, HOST, () => socket.write(text));
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const reply = await raw('THIS IS NOT HTTP\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request/);
    assert.match(reply, /"code":"badRequest"/);
    // A request target that is no URL path is just a route that does not exist.
    const odd = await raw('GET //?? HTTP/1.1\r\nHost: raftkv\r\nConnection: close\r\n\r\n');
    assert.match(odd, /^HTTP\/1\.1 404 Not Found/);
    assert.equal((await fetch(url('/v1/health'))).status, 200);
  });
});
