/**
 * The web dashboard driven in headless Chromium (Debian's /usr/bin/chromium
 * through playwright-core), for the dashboard's own test against a fake node
 * and for end-to-end tests against a real cluster. It reads the page the way
 * a user does: bucket colors by owner, member rows by role, the admin forms
 * and their confirm dialog; and it collects every console error, uncaught
 * exception and failed request so a test can assert there were none.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Offline, quiet, unsandboxed (tests may run as root in a container): nothing reaches beyond loopback. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long a wait for the page to show something may take: generous, the machine is shared and slow. */
const WAIT_MS_MAX = 20_000;
const WAIT_POLL_MS = 50;

/** Something the page reported that a user would see as broken. */
/**
 * The part of a DOM element that the callbacks run in the page use. The test project's types have no DOM
 * (it is Node code), so the callbacks name what they use here.
 */
interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}

export interface PageProblem {
  readonly kind: 'console' | 'exception' | 'request';
  readonly text: string;
}

export class DashboardBrowser {
  private constructor(
    private readonly context: BrowserContext,
    private readonly userDataDir: string,
  ) {}

  /** Starts Chromium with a fresh profile. Fails, saying how to install it, when Chromium is missing. */
  static async launch(): Promise<DashboardBrowser> {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium is not at ${CHROMIUM_PATH}; the dashboard tests drive it headless. Install it: sudo apt-get install chromium`,
      );
    }
    const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'raftkv-dashboard-chromium-'));
    try {
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        chromiumSandbox: false,
        args: CHROMIUM_ARGS,
        viewport: { width: 1400, height: 1000 },
      });
      return new DashboardBrowser(context, userDataDir);
    } catch (error) {
      await rm(userDataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Opens the dashboard of the node whose HTTP server is at `baseUrl` (http://host:port), polling every
   * `refreshMs`, and waits for its first refresh.
   */
  async open(baseUrl: string, refreshMs = 250): Promise<DashboardPage> {
    const page = await this.context.newPage();
    const dashboard = new DashboardPage(page);
    await page.goto(`${baseUrl}/?refresh=${refreshMs}`);
    await dashboard.waitUntil(
      () => page.getByTestId('connection').getAttribute('data-state'),
      (state) => state !== 'loading',
      'the first refresh',
    );
    return dashboard;
  }

  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      await rm(this.userDataDir, { recursive: true, force: true });
    }
  }
}

export class DashboardPage {
  readonly problems: PageProblem[] = [];

  constructor(readonly page: Page) {
    page.on('console', (message) => {
      const where = message.location().url;
      if (message.type() === 'error') this.problems.push({ kind: 'console', text: `${message.text()} (${where})` });
    });
    page.on('pageerror', (error) => this.problems.push({ kind: 'exception', text: error.message }));
    page.on('requestfailed', (request) => {
      this.problems.push({ kind: 'request', text: `${request.url()}: ${request.failure()?.errorText ?? 'failed'}` });
    });
  }

  /**
   * Calls `read` until `accept` takes its value, and returns it; fails naming `what` and the last value.
   * The page refreshes on its own, so every check of what it shows is a wait for it to show it.
   */
  async waitUntil<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + WAIT_MS_MAX;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      if (Date.now() > deadline) {
        // The page's own errors (a script that did not load, a failed request) usually say why.
        const problems = this.problems.map((problem) => `\n  ${problem.kind}: ${problem.text}`).join('');
        throw new Error(
          `the dashboard did not show ${what} within ${WAIT_MS_MAX} ms; last: ${JSON.stringify(value)}${problems}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }

  /** The owning gid of each bucket in the bucket map, by bucket index (0: unassigned). */
  async bucketOwners(): Promise<number[]> {
    const cells = this.page.getByTestId('bucket-map').locator('.bucket');
    const gids = await cells.evaluateAll((nodes: PageElement[]) =>
      nodes.map((node) => node.getAttribute('data-gid') ?? ''),
    );
    return gids.map(Number);
  }

  /** Buckets marked as moving, with the group each is moving to. */
  async bucketsInFlight(): Promise<{ bucket: number; gid: number }[]> {
    const cells = this.page.getByTestId('bucket-map').locator('.bucket.in-flight');
    const pairs = await cells.evaluateAll((nodes: PageElement[]) =>
      nodes.map((node) => [node.textContent ?? '', node.getAttribute('data-moving-to') ?? '']),
    );
    return pairs.map(([bucket, gid]) => ({ bucket: Number(bucket), gid: Number(gid) }));
  }

  /** What the page says of config and buckets, e.g. "config version 3, 10 buckets, 1 moving". */
  configSummary(): Promise<string> {
    return this.page.getByTestId('config-summary').innerText();
  }

  /** The member's role as its row shows it ('leader', 'follower', ..., 'unreachable'), or null if it has no row. */
  async memberRole(id: number): Promise<string | null> {
    const row = this.page.getByTestId(`member-${id}`);
    return (await row.count()) === 0 ? null : row.getAttribute('data-role');
  }

  /** The ids of the members whose rows are highlighted as leaders in group `gid` (0: meta). */
  async leaders(gid: number): Promise<number[]> {
    const rows = this.page.getByTestId(`group-${gid}`).locator('tr.leader');
    const ids = await rows.evaluateAll((nodes: PageElement[]) =>
      nodes.map((node) => node.getAttribute('data-testid') ?? ''),
    );
    return ids.map((testId) => Number(testId.replace('member-', '')));
  }

  /** The text of a member's row, cell by cell. */
  async memberCells(id: number): Promise<string[]> {
    return this.page.getByTestId(`member-${id}`).locator('td').allInnerTexts();
  }

  /** The row of an operation in the stats table: [ops/s, p50 ms, p99 ms, count, errors], or [] without one. */
  async statsRow(operation: string): Promise<string[]> {
    return this.page.getByTestId(`stats-${operation}`).locator('td').allInnerTexts();
  }

  /** How many samples the ops/s sparkline holds. */
  async sparklineSamples(): Promise<number> {
    return Number((await this.page.getByTestId('sparkline').getAttribute('data-samples')) ?? '0');
  }

  /** The connection line: its state ('ok' or 'error') and what it says. */
  async connection(): Promise<{ state: string | null; text: string }> {
    const line = this.page.getByTestId('connection');
    return { state: await line.getAttribute('data-state'), text: await line.innerText() };
  }

  /** Types a token into the header's token field (which must be showing) and submits it. */
  async enterToken(token: string): Promise<void> {
    await this.page.getByTestId('token-input').fill(token);
    await this.page.getByTestId('token-submit').click();
  }

  /** Fills the move form and submits it; returns the confirm dialog's question (answer with confirm/cancel). */
  async submitMove(buckets: string, gid: string): Promise<string> {
    await this.page.getByTestId('move-buckets').fill(buckets);
    await this.page.getByTestId('move-gid').fill(gid);
    return this.submit('move-submit');
  }

  async submitJoin(gid: string, members: string): Promise<string> {
    await this.page.getByTestId('join-gid').fill(gid);
    await this.page.getByTestId('join-members').fill(members);
    return this.submit('join-submit');
  }

  async submitLeave(gids: string): Promise<string> {
    await this.page.getByTestId('leave-gids').fill(gids);
    return this.submit('leave-submit');
  }

  /** Clicks the dialog's Confirm and waits for the action's outcome. */
  async confirm(): Promise<AdminOutcome> {
    await this.page.getByTestId('confirm-ok').click();
    return this.settledAdminResult();
  }

  /** Clicks the dialog's Cancel and returns what the page says then. */
  async cancel(): Promise<AdminOutcome> {
    await this.page.getByTestId('confirm-cancel').click();
    return this.settledAdminResult();
  }

  /**
   * What the page says under the admin forms: state 'confirming' (the dialog is open), 'pending' (sent),
   * 'ok', 'error' or 'cancelled', and the message; read in one go so the two always match.
   */
  async adminResult(): Promise<AdminOutcome> {
    return this.page.getByTestId('admin-result').evaluate((node: PageElement) => ({
      state: node.getAttribute('data-state') ?? '',
      text: node.textContent ?? '',
    }));
  }

  private settledAdminResult(): Promise<AdminOutcome> {
    return this.waitUntil(
      () => this.adminResult(),
      (result) => result.state !== 'confirming' && result.state !== 'pending',
      'the outcome of the admin action',
    );
  }

  /** Saves a full-page PNG to `file`, creating its directory. */
  async screenshot(file: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file, fullPage: true });
  }

  /**
   * Clicks a form's submit button and returns the confirm dialog's question, or '' when the page refused the
   * form instead (its message is then in adminResult()). The page decides within the click's event handler.
   */
  private async submit(button: string): Promise<string> {
    await this.page.getByTestId(button).click();
    if (!(await this.page.getByTestId('confirm-dialog').isVisible())) return '';
    return this.page.getByTestId('confirm-question').innerText();
  }
}

export interface AdminOutcome {
  readonly state: string;
  readonly text: string;
}
