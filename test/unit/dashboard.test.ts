/**
 * The web dashboard (src/api/dashboard/) in headless Chromium against a fake
 * node: a node:http server that serves the dashboard's files as the real HTTP
 * server does, answers /v1/cluster and /v1/stats with canned JSON that changes
 * from poll to poll, and records the admin POSTs and answers them the way the
 * meta group would. The screenshot goes to test-output/dashboard.png.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ShardConfig } from '../../src/meta/config.js';
import { canonicalConfigValue, freezeConfig } from '../../src/meta/config.js';
import type { NodeStatus } from '../../src/node/node-status.js';
import type { DashboardPage } from '../support/dashboard-browser.js';
import { DashboardBrowser } from '../support/dashboard-browser.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const DASHBOARD_DIR = path.join(REPO_ROOT, 'src/api/dashboard');
const SCREENSHOT_FILE = path.join(REPO_ROOT, 'test-output/dashboard.png');
const DIALOG_SCREENSHOT_FILE = path.join(REPO_ROOT, 'test-output/dashboard-confirm.png');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const G1 = [11, 12, 13];
const G2 = [21, 22, 23];

interface Post {
  readonly path: string;
  readonly body: unknown;
}

interface Move {
  readonly bucket: number;
  readonly gid: number;
  readonly state: string;
}

/** A node of a cluster with a meta group (1-3) and groups 1 and 2, as its HTTP API would show it. */
class FakeNode {
  config: ShardConfig = freezeConfig({
    version: 3,
    buckets: [1, 1, 1, 1, 2, 2, 2, 2, 2, 2],
    groups: [
      { gid: 1, members: G1.map((id) => ({ id, address: `127.0.0.1:70${id}` })) },
      { gid: 2, members: G2.map((id) => ({ id, address: `127.0.0.1:70${id}` })) },
    ],
  });
  /** Bucket 4 has just been given to group 2, which is still pulling it. */
  moves: Move[] = [{ bucket: 4, gid: 2, state: 'pulling from group 1' }];
  readonly leaders = new Map<number, { id: number; term: number }>([
    [0, { id: 1, term: 2 }],
    [1, { id: 12, term: 4 }],
    [2, { id: 21, term: 3 }],
  ]);
  readonly unreachable = new Map<number, string>([[23, 'unreachable: connect ECONNREFUSED 127.0.0.1:7023']]);
  /** When set, /v1/cluster answers 503 with this message (the meta group has no leader, say). */
  clusterOutage: string | null = null;
  /** When set, /v1/cluster leaves out its groups and moves (a node of another version, say). */
  clusterTruncated = false;
  readonly posts: Post[] = [];
  /** When set, /v1/ answers 401 without `Authorization: Bearer <token>`, as a node with an auth token does. */
  requiredToken: string | null = null;
  /** The Authorization header of every /v1/ request, in order. */
  readonly authorizations: (string | null)[] = [];
  clusterPolls = 0;
  statsPolls = 0;

  readonly server = http.createServer((request, response) => {
    this.handle(request, response).catch((error: unknown) => {
      send(response, 500, { error: { code: 'fakeNodeBug', message: String(error) } });
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    if (url.pathname.startsWith('/v1/')) {
      const authorization = request.headers.authorization ?? null;
      this.authorizations.push(authorization);
      if (this.requiredToken !== null && authorization !== `Bearer ${this.requiredToken}`) {
        response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="raftkv"' });
        response.end(JSON.stringify({ error: { code: 'unauthorized', message: 'send the header' } }));
        return;
      }
    }
    if (request.method === 'POST') return this.admin(url.pathname, await readBody(request), response);
    if (url.pathname === '/') return serveFile(response, 'index.html');
    if (url.pathname.startsWith('/dashboard/')) return serveFile(response, url.pathname.slice('/dashboard/'.length));
    if (url.pathname === '/v1/cluster') {
      if (this.clusterOutage !== null)
        return send(response, 503, { error: { code: 'noLeader', message: this.clusterOutage } });
      if (this.clusterTruncated) return send(response, 200, { config: canonicalConfigValue(this.config) });
      return send(response, 200, this.clusterView());
    }
    if (url.pathname === '/v1/stats') return send(response, 200, this.stats());
    send(response, 404, { error: { code: 'notFound', message: `no ${url.pathname}` } });
  }

  private clusterView(): unknown {
    this.clusterPolls++;
    const meta = { gid: 0, name: 'meta', members: [1, 2, 3].map((id) => this.member(0, id, `127.0.0.1:71${id}`)) };
    const shards = this.config.groups.map((group) => ({
      gid: group.gid,
      name: `group ${group.gid}`,
      members: group.members.map((member) => this.member(group.gid, member.id, member.address)),
    }));
    return { config: canonicalConfigValue(this.config), groups: [meta, ...shards], moves: this.moves };
  }

  /** The member's status; its indexes grow with every poll, like a group taking writes. */
  private member(gid: number, id: number, address: string): unknown {
    const error = this.unreachable.get(id) ?? null;
    if (error !== null) return { id, address, status: null, error };
    const leader = this.leaders.get(gid) ?? { id: 0, term: 1 };
    const commitIndex = 100 + this.clusterPolls;
    const status: NodeStatus = {
      id,
      gid,
      role: leader.id === id ? 'leader' : 'follower',
      term: leader.term,
      leaderId: leader.id,
      commitIndex,
      appliedIndex: commitIndex,
      lastIndex: commitIndex + (leader.id === id ? 1 : 0),
      snapshotIndex: 50,
      snapshotTerm: 1,
      logBytes: 4096 * commitIndex,
      configVersion: gid === 0 ? null : this.config.version,
      bucketsInTransit: this.moves.filter((move) => move.gid === gid).map(({ bucket, state }) => ({ bucket, state })),
      uptimeSeconds: 3725 + this.clusterPolls,
    };
    return { id, address, status, error: null };
  }

  private stats(): unknown {
    this.statsPolls++;
    return {
      windowSeconds: 10,
      operations: {
        get: { count: 1000, errors: 0, perSecond: 100 + this.statsPolls, p50Ms: 0.42, p99Ms: 2.5 },
        put: { count: 500, errors: 3, perSecond: 50, p50Ms: 1.25, p99Ms: 12.75 },
      },
    };
  }

  /** Move and leave as the meta group does them (join is recorded and refused: its members are not running). */
  private admin(pathname: string, body: unknown, response: http.ServerResponse): void {
    this.posts.push({ path: pathname, body });
    if (pathname === '/v1/admin/move') {
      const { buckets, gid } = body as { buckets: string; gid: number };
      const [from, to = from] = buckets.split('-').map(Number) as [number, number?];
      const owners = [...this.config.buckets];
      this.moves = [];
      for (let bucket = from; bucket <= to; bucket++) {
        if (owners[bucket] !== gid) this.moves.push({ bucket, gid, state: `pulling from group ${owners[bucket]}` });
        owners[bucket] = gid;
      }
      this.config = freezeConfig({ ...this.config, version: this.config.version + 1, buckets: owners });
      return send(response, 200, canonicalConfigValue(this.config));
    }
    if (pathname === '/v1/admin/leave') {
      const { gids } = body as { gids: number[] };
      return send(response, 400, {
        error: { code: 'unknownGroup', message: `group ${gids.join(', ')} is not in config ${this.config.version}` },
      });
    }
    send(response, 503, {
      error: { code: 'joinUnreachable', message: 'group 3 did not answer; start its members first' },
    });
  }
}

async function readBody(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

async function serveFile(response: http.ServerResponse, name: string): Promise<void> {
  const type = CONTENT_TYPES[path.extname(name)];
  if (!/^[\w-]+\.\w+$/.test(name) || type === undefined) return send(response, 404, { error: { code: 'notFound' } });
  response.writeHead(200, { 'content-type': type }).end(await readFile(path.join(DASHBOARD_DIR, name)));
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

describe('the web dashboard, in headless Chromium against a fake node', () => {
  const node = new FakeNode();
  let browser: DashboardBrowser;
  let dashboard: DashboardPage;

  before(async () => {
    const baseUrl = await node.listen();
    browser = await DashboardBrowser.launch();
    dashboard = await browser.open(baseUrl);
  });

  after(async () => {
    await browser?.close();
    await node.close();
  });

  it('loads without console errors and shows which group owns each bucket', async () => {
    await dashboard.waitUntil(
      () => dashboard.bucketOwners(),
      (owners) => owners.length === 10,
      'ten buckets',
    );
    assert.deepEqual(await dashboard.bucketOwners(), [1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(await dashboard.bucketsInFlight(), [{ bucket: 4, gid: 2 }]);
    assert.equal(await dashboard.configSummary(), 'config version 3, 10 buckets, 1 moving');
    const legend = await dashboard.page.getByTestId('bucket-legend').locator('li').allInnerTexts();
    assert.deepEqual(legend, ['group 1: 4 buckets (0-3)', 'group 2: 6 buckets (4-9)']);
    assert.deepEqual((await dashboard.connection()).state, 'ok');
    assert.deepEqual(dashboard.problems, []);
  });

  it("shows every group's members, highlights each leader and says why a member is unreachable", async () => {
    assert.deepEqual(await dashboard.leaders(0), [1]);
    assert.deepEqual(await dashboard.leaders(1), [12]);
    assert.deepEqual(await dashboard.leaders(2), [21]);
    assert.equal(await dashboard.memberRole(11), 'follower');
    assert.equal(await dashboard.memberRole(23), 'unreachable');
    assert.equal(
      await dashboard.page.getByTestId('member-23-error').innerText(),
      'unreachable: connect ECONNREFUSED 127.0.0.1:7023',
    );
    const [id, address, role, term] = await dashboard.memberCells(12);
    assert.deepEqual([id, address, role, term], ['12', '127.0.0.1:7012', 'leader', '4']);
    assert.match(await dashboard.page.getByTestId('group-1').locator('h3').innerText(), /leader 12 · buckets 0-3/);
  });

  it('follows the cluster from poll to poll: indexes grow and a new leader is highlighted', async () => {
    const commitBefore = Number((await dashboard.memberCells(11))[4]);
    await dashboard.waitUntil(
      async () => Number((await dashboard.memberCells(11))[4]),
      (commit) => commit > commitBefore,
      'a higher commit index for member 11',
    );
    node.leaders.set(1, { id: 13, term: 5 });
    await dashboard.waitUntil(
      () => dashboard.leaders(1),
      (ids) => ids.join() === '13',
      'member 13 as leader',
    );
    assert.equal(await dashboard.memberRole(12), 'follower');
    assert.equal((await dashboard.memberCells(13))[3], '5');
  });

  it("shows this node's rate and latency per operation and a sparkline of the total", async () => {
    const [perSecond, p50, p99, count, errors] = await dashboard.statsRow('put');
    assert.deepEqual([perSecond, p50, p99, count, errors], ['50.0', '1.25', '12.8', '500', '3']);
    const get = await dashboard.statsRow('get');
    assert.deepEqual(get.slice(1), ['0.42', '2.50', '1,000', '0']);
    assert.ok(Number(get[0]) > 100, `get ops/s grows from poll to poll: ${get[0]}`);
    assert.match(
      await dashboard.page.getByTestId('stats-summary').innerText(),
      /^\d+ ops\/s served by this node over the last 10 s\.$/,
    );
    await dashboard.waitUntil(
      () => dashboard.sparklineSamples(),
      (samples) => samples >= 3,
      'three sparkline points',
    );
    const points = await dashboard.page.getByTestId('sparkline').locator('polyline').getAttribute('points');
    assert.ok((points ?? '').split(' ').length >= 3, `sparkline points: ${points}`);
  });

  it('a confirmed move posts the range and the group, and the page shows the new config', async () => {
    const question = await dashboard.submitMove('0-4', '2');
    assert.equal(question, 'Move buckets 0-4 to group 2? Clients follow the buckets while their data is copied.');
    assert.deepEqual(node.posts, [], 'nothing is sent before the user confirms');
    await dashboard.screenshot(DIALOG_SCREENSHOT_FILE);
    const outcome = await dashboard.confirm();
    assert.deepEqual(node.posts, [{ path: '/v1/admin/move', body: { buckets: '0-4', gid: 2 } }]);
    assert.deepEqual(outcome, {
      state: 'ok',
      text: 'move done: config version 4: group 1 owns none; group 2 owns 0-9.',
    });
    await dashboard.waitUntil(
      () => dashboard.bucketsInFlight(),
      (moving) => moving.length === 4,
      'buckets 0-3 moving to group 2',
    );
    assert.deepEqual(await dashboard.bucketOwners(), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(
      (await dashboard.bucketsInFlight()).map((move) => move.bucket),
      [0, 1, 2, 3],
    );
    assert.equal(await dashboard.configSummary(), 'config version 4, 10 buckets, 4 moving');
    assert.deepEqual(dashboard.problems, []);
    await dashboard.screenshot(SCREENSHOT_FILE);
  });

  it('a cancelled action sends nothing, and a form the node would refuse is explained before sending', async () => {
    assert.match(await dashboard.submitLeave('2'), /^Remove group 2\? Their buckets move to the groups that stay\.$/);
    assert.deepEqual(await dashboard.cancel(), { state: 'cancelled', text: 'leave cancelled: nothing was sent.' });
    assert.equal(await dashboard.submitMove('four', '1'), '', 'no dialog for buckets that are not a range');
    assert.deepEqual(await dashboard.adminResult(), {
      state: 'error',
      text: 'Buckets must be one bucket (7) or a range (0-4).',
    });
    assert.equal(await dashboard.submitJoin('3', '31 127.0.0.1:7031'), '');
    assert.match((await dashboard.adminResult()).text, /^Members must read ID=HOST:PORT/);
    assert.equal(node.posts.length, 1, 'only the move of the previous test was sent');
  });

  it("shows the node's own message when it refuses an action", async () => {
    await dashboard.submitJoin('3', '31=127.0.0.1:7031, 32=127.0.0.1:7032');
    assert.deepEqual(await dashboard.confirm(), {
      state: 'error',
      text: 'join failed: group 3 did not answer; start its members first [joinUnreachable]',
    });
    await dashboard.submitLeave('9');
    assert.deepEqual(await dashboard.confirm(), {
      state: 'error',
      text: 'leave failed: group 9 is not in config 4 [unknownGroup]',
    });
    assert.deepEqual(node.posts.slice(1), [
      { path: '/v1/admin/join', body: { gid: 3, members: '31=127.0.0.1:7031,32=127.0.0.1:7032' } },
      { path: '/v1/admin/leave', body: { gids: [9] } },
    ]);
  });

  it('says so when the node cannot answer, and recovers when it can', async () => {
    node.clusterOutage = 'the meta group has no leader; retry in a moment';
    const down = await dashboard.waitUntil(
      () => dashboard.connection(),
      (line) => line.state === 'error',
      'the connection error',
    );
    assert.match(
      down.text,
      /^Cannot refresh \(cluster: the meta group has no leader; retry in a moment \[noLeader\]\)/,
    );
    node.clusterOutage = null;
    await dashboard.waitUntil(
      () => dashboard.connection(),
      (line) => line.state === 'ok',
      'the connection back',
    );
  });

  it('keeps polling, and says why, when an answer lacks what the page needs', async () => {
    node.clusterTruncated = true;
    const broken = await dashboard.waitUntil(
      () => dashboard.connection(),
      (line) => line.state === 'error',
      'the unreadable answer',
    );
    assert.match(broken.text, /^Cannot refresh \(cluster: the page could not show the answer \(/);
    node.clusterTruncated = false;
    await dashboard.waitUntil(
      () => dashboard.connection(),
      (line) => line.state === 'ok',
      'the connection back',
    );
    assert.equal(await dashboard.memberRole(13), 'leader');
  });
});

describe('the web dashboard of a node that asks for the auth token', () => {
  const TOKEN = 'the-cluster-token-0123456789';
  const node = new FakeNode();
  node.requiredToken = TOKEN;
  let browser: DashboardBrowser;
  let dashboard: DashboardPage;

  before(async () => {
    const baseUrl = await node.listen();
    browser = await DashboardBrowser.launch();
    dashboard = await browser.open(baseUrl);
  });

  after(async () => {
    await browser?.close();
    await node.close();
  });

  it('asks for the token, says when it is wrong, and shows the cluster once it is right', async () => {
    const asked = await dashboard.connection();
    assert.equal(asked.state, 'error');
    assert.match(asked.text, /cluster: this cluster asks for its auth token: enter it in the Token field at the top/);
    assert.equal(await dashboard.page.getByTestId('token-form').isVisible(), true);
    assert.deepEqual(await dashboard.bucketOwners(), [], 'nothing of the cluster is shown without the token');

    await dashboard.enterToken('a-wrong-token');
    await dashboard.waitUntil(
      () => dashboard.connection(),
      (line) => /the token entered is not this cluster's/.test(line.text),
      'the wrong token refused',
    );

    await dashboard.enterToken(TOKEN);
    await dashboard.waitUntil(
      () => dashboard.connection(),
      (line) => line.state === 'ok',
      'the cluster with the right token',
    );
    assert.deepEqual(await dashboard.bucketOwners(), [1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    assert.equal(node.authorizations.at(-1), `Bearer ${TOKEN}`);
  });

  it('sends the token with an admin action, and keeps it for the tab across a reload', async () => {
    await dashboard.submitMove('0-1', '2');
    const outcome = await dashboard.confirm();
    assert.equal(outcome.state, 'ok', outcome.text);
    assert.deepEqual(node.posts, [{ path: '/v1/admin/move', body: { buckets: '0-1', gid: 2 } }]);
    await dashboard.page.reload();
    await dashboard.waitUntil(
      () => dashboard.connection(),
      (line) => line.state === 'ok',
      'the cluster after a reload',
    );
    // Chromium reports each 401 answer as a console error, and a poll in flight when the page
    // reloads as aborted (the reload cancels it); anything else would be a problem of the page.
    const others = dashboard.problems.filter(
      (problem) => !/status of 401/.test(problem.text) && !/net::ERR_ABORTED$/.test(problem.text),
    );
    assert.deepEqual(others, []);
  });

  it('a node that stops taking the token (rotated) is explained on the admin form too', async () => {
    node.requiredToken = 'a-rotated-token-0123456789';
    await dashboard.submitLeave('2');
    assert.deepEqual(await dashboard.confirm(), {
      state: 'error',
      text: "leave failed: the token entered is not this cluster's: enter the right one in the Token field at the top",
    });
  });
});
