/**
 * The dashboard against a real cluster, as a user meets it: `raftkv local
 * --auth` started, the page of one shard node opened in headless Chromium
 * (Debian's chromium), the cluster's token entered when the page asks for
 * it. It must show the real bucket map and leaders, this node's live
 * request rates, and a move confirmed on the page must reach the meta group,
 * as `raftkv admin query` then reports.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { DashboardPage } from '../support/dashboard-browser.js';
import { DashboardBrowser } from '../support/dashboard-browser.js';
import { exitOf, RAFTKV_BIN, startLocalOnFreePorts } from './support/local-process.js';

const run = promisify(execFile);
const SCREENSHOT = path.resolve(import.meta.dirname, '../../test-output/dashboard-cluster.png');
/** Slower than the page's default: nine real nodes answer each refresh. */
const REFRESH_MS = 500;

interface AdminQuery {
  readonly config: { readonly version: number; readonly buckets: readonly number[] };
  readonly groups: readonly {
    readonly gid: number;
    readonly members: readonly { readonly id: number; readonly status: { readonly role: string } | null }[];
  }[];
}

async function adminQuery(meta: string, tokenFile: string): Promise<AdminQuery> {
  const { stdout } = await run(process.execPath, [
    RAFTKV_BIN,
    'admin',
    '--meta',
    meta,
    '--token-file',
    tokenFile,
    'query',
    '--json',
  ]);
  return JSON.parse(stdout) as AdminQuery;
}

function leadersOf(query: AdminQuery, gid: number): number[] {
  const group = query.groups.find((candidate) => candidate.gid === gid);
  return (group?.members ?? []).filter((member) => member.status?.role === 'leader').map((member) => member.id);
}

describe('the dashboard of a real cluster, in headless Chromium', { timeout: 180_000 }, () => {
  let directory = '';
  let local: ChildProcess | null = null;
  let browser: DashboardBrowser | null = null;
  after(async () => {
    await browser?.close();
    if (local !== null && local.exitCode === null) {
      local.kill('SIGTERM');
      await exitOf(local);
    }
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it('shows the real buckets, leaders and traffic, and a move started on the page reaches admin query', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-dashboard-e2e-'));
    const cluster = await startLocalOnFreePorts(directory, ['--auth']);
    local = cluster.child;
    const tokenFile = cluster.info.tokenFile;
    assert.ok(tokenFile !== null, 'raftkv local --auth names its token file');
    const token = (await readFile(tokenFile, 'utf8')).trim();
    const withToken = { authorization: `Bearer ${token}` };
    const node = cluster.info.groups[0]!.members[0]!;
    browser = await DashboardBrowser.launch();
    const page: DashboardPage = await browser.open(node.http.replace(/\/$/, ''), REFRESH_MS);

    // The page asks for the token before it shows anything of the cluster.
    assert.match((await page.connection()).text, /this cluster asks for its auth token/);
    await page.enterToken(token);

    // The page shows what the meta group and the members say, not something of its own.
    const before = await adminQuery(cluster.info.meta, tokenFile);
    await page.waitUntil(
      () => page.bucketOwners(),
      (owners) => JSON.stringify(owners) === JSON.stringify(before.config.buckets),
      `the bucket map ${JSON.stringify(before.config.buckets)}`,
    );
    for (const gid of [0, 1, 2]) {
      const leaders = await page.waitUntil(
        () => page.leaders(gid),
        (ids) => ids.length === 1,
        `one leader in group ${gid}`,
      );
      assert.deepEqual(
        leaders,
        leadersOf(await adminQuery(cluster.info.meta, tokenFile), gid),
        `group ${gid}'s leader`,
      );
    }

    // Requests served by this node show up in its live stats; without the token, none is served.
    const refused = await fetch(`${node.http}v1/kv/dashboard-0`, { method: 'PUT', body: 'value-0' });
    assert.equal(refused.status, 401);
    for (let index = 0; index < 20; index++) {
      const response = await fetch(`${node.http}v1/kv/dashboard-${index}`, {
        method: 'PUT',
        body: `value-${index}`,
        headers: withToken,
      });
      assert.equal(response.status, 200);
    }
    await page.waitUntil(
      () => page.statsRow('put'),
      (cells) => cells.length > 0 && Number(cells[cells.length - 2]) >= 20,
      'at least 20 puts in the stats of this node',
    );

    // A move of buckets 0-1 to group 2, confirmed in the page, becomes the meta group's config.
    const question = await page.submitMove('0-1', '2');
    assert.match(question, /0-1/);
    const outcome = await page.confirm();
    assert.equal(outcome.state, 'ok', outcome.text);
    const after = await adminQuery(cluster.info.meta, tokenFile);
    assert.ok(after.config.version > before.config.version, 'the move made a new config');
    assert.deepEqual(after.config.buckets.slice(0, 2), [2, 2], 'admin query shows buckets 0 and 1 in group 2');
    await page.waitUntil(
      () => page.bucketOwners(),
      (owners) => owners[0] === 2 && owners[1] === 2,
      'buckets 0 and 1 owned by group 2',
    );
    await page.screenshot(SCREENSHOT);
    assert.deepEqual(
      // Chromium reports the 401s answered before the token was entered as console errors.
      page.problems.filter((problem) => problem.kind !== 'request' && !/status of 401/.test(problem.text)),
      [],
      'no console errors or exceptions in the page',
    );
  });
});
