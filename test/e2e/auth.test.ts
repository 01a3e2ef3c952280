/**
 * A three-member group started with an auth token (--auth-token-file), as
 * its users meet it: redis-cli and ioredis must AUTH, curl must send a
 * bearer token, the TS client and the CLI must have the token; the members
 * themselves give it to each other, and a member with another token is
 * kept out while the others go on serving.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { realClientClock } from '../../src/client/channel.js';
import { ClientError } from '../../src/client/errors.js';
import { KvClient } from '../../src/client/kv-client.js';
import { TcpGroupChannel } from '../../src/client/tcp-channel.js';
import type { NodeStatus } from '../../src/node/node-status.js';
import { ProcessGroup } from './support/process-group.js';

const run = promisify(execFile);
const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../bin/raftkv.js');
const TOKEN = 'e2e-token-5f0c2a9d7e31b8846a1c';
const WRONG_TOKEN = 'e2e-token-of-another-cluster-000';
const WAIT_MS_MAX = 30_000;

async function redisCli(port: number, ...args: string[]): Promise<string> {
  return (await redisCliOutput(port, ...args)).stdout;
}

async function redisCliOutput(port: number, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return { stdout: stdout.trimEnd(), stderr: stderr.trimEnd() };
}

/** `raftkv ...` with `env` added; resolves with its exit code and output instead of throwing on a non-zero exit. */
async function raftkv(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [RAFTKV_BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function waitFor<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS_MAX;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${WAIT_MS_MAX} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a group started with an auth token', { timeout: 120_000 }, () => {
  let directory = '';
  let tokenFile = '';
  let wrongTokenFile = '';
  let group: ProcessGroup;
  const channels: TcpGroupChannel[] = [];
  const redisClients: Redis[] = [];

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-auth-e2e-'));
    tokenFile = path.join(directory, 'token');
    wrongTokenFile = path.join(directory, 'wrong-token');
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    await writeFile(wrongTokenFile, `${WRONG_TOKEN}\n`, { mode: 0o600 });
    group = await ProcessGroup.create(3, ['--auth-token-file', tokenFile], 'node', { http: true });
    await group.startAll();
  });
  after(async () => {
    for (const client of redisClients) client.disconnect();
    for (const channel of channels) channel.close();
    await group?.close();
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  const kvClient = (token?: string, ids = group.ids): KvClient => {
    const channel = new TcpGroupChannel({
      members: new Map(ids.map((id) => [id, { host: '127.0.0.1', port: group.member(id).peerPort }])),
      clusterId: group.clusterId,
      ...(token === undefined ? {} : { token }),
    });
    channels.push(channel);
    return new KvClient({
      members: ids,
      channel,
      clock: realClientClock,
      clientId: `auth-e2e-${channels.length}`,
      random: Math.random,
      deadlineMs: 20_000,
    });
  };
  const http = (id: number, target: string): string => `http://127.0.0.1:${group.member(id).httpPort}${target}`;
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('the TS client works with the token and is refused at once, saying why, without it', async () => {
    const member = kvClient(TOKEN);
    await member.put('greeting', 'hello');
    assert.equal(Buffer.from((await member.get('greeting'))!).toString(), 'hello');
    for (const [token, reason] of [
      [undefined, /requires an auth token and the client sent none/],
      [WRONG_TOKEN, /auth token is not this cluster's/],
    ] as const) {
      await assert.rejects(kvClient(token).get('greeting'), (error: unknown) => {
        assert.ok(error instanceof ClientError && error.code === 'rejected', String(error));
        assert.match(error.message, reason);
        return true;
      });
    }
  });

  it('redis-cli gets NOAUTH without AUTH, and works with -a or --user default --pass', async () => {
    const [first, second] = group.ids.map((id) => group.member(id).respPort) as [number, number];
    assert.equal(await redisCli(first, 'GET', 'greeting'), 'NOAUTH Authentication required.');
    assert.equal(await redisCli(first, 'PING'), 'NOAUTH Authentication required.');
    // redis-cli reports the failed AUTH and sends the command anyway, which is refused.
    const wrong = await redisCliOutput(first, '-a', 'wrong', '--no-auth-warning', 'GET', 'greeting');
    assert.match(wrong.stderr, /AUTH failed: WRONGPASS invalid username-password pair/);
    assert.equal(wrong.stdout, 'NOAUTH Authentication required.');
    assert.equal(await redisCli(first, '-a', TOKEN, '--no-auth-warning', 'SET', 'cli', 'yes'), 'OK');
    assert.equal(
      await redisCli(second, '--user', 'default', '--pass', TOKEN, '--no-auth-warning', 'GET', 'greeting'),
      'hello',
    );
  });

  it('ioredis works with the password and is refused without it', async () => {
    const withPassword = new Redis({ host: '127.0.0.1', port: group.member(1).respPort, password: TOKEN });
    redisClients.push(withPassword);
    assert.equal(await withPassword.set('io', 'value'), 'OK');
    assert.equal(await withPassword.get('cli'), 'yes');
    const without = new Redis({
      host: '127.0.0.1',
      port: group.member(2).respPort,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    });
    redisClients.push(without);
    await assert.rejects(without.get('io'), /NOAUTH Authentication required/);
  });

  it('HTTP needs the bearer token for keys and status, but not for health and /metrics', async () => {
    const refused = await fetch(http(1, '/v1/kv/greeting'));
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="raftkv"');
    assert.equal((await fetch(http(1, '/v1/status'))).status, 401);
    assert.equal(await (await fetch(http(2, '/v1/kv/greeting'), { headers: bearer })).text(), 'hello');
    const put = await fetch(http(3, '/v1/kv/http'), { method: 'PUT', body: 'ok', headers: bearer });
    assert.equal(put.status, 200);
    assert.equal((await fetch(http(1, '/v1/health'))).status, 200);
    assert.equal((await fetch(http(1, '/metrics'))).status, 200);
  });

  it('the CLI takes the token from --token-file or RAFTKV_TOKEN, and says what to do without it', async () => {
    const where = ['--members', group.membersFlag, '--cluster-id', group.clusterId];
    const fromFile = await raftkv(['get', 'http', ...where, '--token-file', tokenFile]);
    assert.deepEqual([fromFile.code, fromFile.stdout], [0, 'ok\n']);
    const fromEnv = await raftkv(['get', 'http', ...where], { RAFTKV_TOKEN: TOKEN });
    assert.deepEqual([fromEnv.code, fromEnv.stdout], [0, 'ok\n']);
    const without = await raftkv(['get', 'http', ...where]);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /requires an auth token and the client sent none: give the client its --token-file/);
    const missingFile = await raftkv(['get', 'http', ...where, '--token-file', path.join(directory, 'nothing')]);
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /--token-file .*nothing: cannot read the token \(no such file\)/);
  });

  it('a member restarted with another token is kept out while the other two serve, and rejoins with the right one', async () => {
    await group.kill(3);
    await group.start(3, { flags: ['--auth-token-file', wrongTokenFile] });
    // Members 1 and 2 only: member 3 refuses even the right token now, and a client stops at a refusal.
    const client = kvClient(TOKEN, [1, 2]);
    for (let index = 0; index < 5; index++) await client.put(`while-out-${index}`, String(index));
    await waitFor(
      () => Promise.resolve(group.output.join('')),
      (output) => /\[node 3\].*the peer refused this node's connection.*auth token is not this cluster's/s.test(output),
      "member 3's log saying its peers refuse it",
    );
    const statusOf = async (id: number): Promise<NodeStatus> =>
      (await (await fetch(http(id, '/v1/status'), { headers: bearer })).json()) as NodeStatus;
    const leaderStatus = await waitFor(
      async () => [await statusOf(1), await statusOf(2)],
      (statuses) => statuses.some((status) => status.role === 'leader'),
      'a leader among members 1 and 2',
    ).then((statuses) => statuses.find((status) => status.role === 'leader')!);
    const outside = (await (
      await fetch(http(3, '/v1/status'), { headers: { authorization: `Bearer ${WRONG_TOKEN}` } })
    ).json()) as NodeStatus;
    assert.ok(outside.appliedIndex < leaderStatus.commitIndex, 'member 3 did not get the writes made without it');

    await group.kill(3);
    await group.start(3);
    await waitFor(
      () => statusOf(3),
      (status) => status.appliedIndex >= leaderStatus.commitIndex && status.leaderId === leaderStatus.id,
      'member 3 caught up with the leader',
    );
  });
});
