/**
 * TLS end to end, with certificates made by `raftkv certs` as a user would:
 * a replica group of `raftkv node` processes with TLS on every port serves
 * the TypeScript client, redis-cli --tls, ioredis and HTTPS; plaintext
 * clients are told to use TLS and the nodes go on serving; a member whose
 * certificate another CA signed is refused by the others, which keep
 * serving without it. Then `raftkv local --tls` runs a sharded cluster the
 * same way in one command.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { realClientClock } from '../../src/client/channel.js';
import { KvClient } from '../../src/client/kv-client.js';
import { askNodeStatus } from '../../src/client/status-client.js';
import { TcpGroupChannel } from '../../src/client/tcp-channel.js';
import { waitForPort } from '../../src/local/ports.js';
import type { LocalJson } from './support/local-process.js';
import { exitOf, RAFTKV_BIN, startLocalOnFreePorts } from './support/local-process.js';
import { ProcessGroup } from './support/process-group.js';

const run = promisify(execFile);
/** Elections and a refused member's attempts on a busy machine: the test waits for conditions, never for time. */
const SETTLE_DEADLINE_MS = 30_000;

interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

async function outcome(command: string, args: readonly string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(command, [...args]);
    return { stdout: stdout.trimEnd(), stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout.trimEnd(), stderr: failed.stderr, code: failed.code };
  }
}

const raftkv = (...args: string[]): Promise<Outcome> => outcome(process.execPath, [RAFTKV_BIN, ...args]);
const redisCli = (port: number, ...args: string[]): Promise<Outcome> =>
  outcome('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);

/** An HTTPS request trusting `ca`: the status and the body. */
function https(url: string, ca: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, ca }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${SETTLE_DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('TLS on every port of a replica group', { timeout: 150_000 }, () => {
  let directory: string;
  let group: ProcessGroup;
  let ca: string;
  let caFile: string;
  /** Flags of a node with the cluster's certificate. */
  let nodeTls: string[];

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-tls-e2e-'));
    const made = await raftkv('certs', '--dir', path.join(directory, 'cluster'));
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /made a new CA/);
    caFile = path.join(directory, 'cluster', 'ca.pem');
    ca = await readFile(caFile, 'utf8');
    nodeTls = ['--tls-cert', path.join(directory, 'cluster', 'node.pem')];
    nodeTls.push('--tls-key', path.join(directory, 'cluster', 'node-key.pem'), '--tls-ca', caFile);
    // Four members configured: three with the cluster's certificates (a majority), the fourth an intruder below.
    group = await ProcessGroup.create(4, nodeTls, 'node', { http: true });
    await Promise.all([1, 2, 3].map((id) => group.start(id)));
  });
  after(async () => {
    await group.close();
    await rm(directory, { recursive: true, force: true });
  });

  const members = (): Map<number, { host: string; port: number }> =>
    new Map([1, 2, 3].map((id) => [id, { host: '127.0.0.1', port: group.member(id).peerPort }]));

  it('the TypeScript client writes and reads over TLS, and the raftkv CLI with --tls-ca reads it', async () => {
    const channel = new TcpGroupChannel({ members: members(), clusterId: group.clusterId, tls: { ca } });
    const client = new KvClient({
      members: [1, 2, 3],
      channel,
      clock: realClientClock,
      clientId: `tls-e2e-${randomUUID()}`,
      random: Math.random,
      deadlineMs: SETTLE_DEADLINE_MS,
    });
    try {
      await client.put('greeting', 'hello over tls');
      assert.equal(Buffer.from((await client.get('greeting'))!).toString(), 'hello over tls');
    } finally {
      client.close();
      channel.close();
    }
    const flags = ['--members', group.membersFlag, '--cluster-id', group.clusterId, '--tls-ca', caFile];
    const read = await raftkv('get', 'greeting', ...flags);
    assert.deepEqual([read.code, read.stdout], [0, 'hello over tls'], read.stderr);
  });

  it('redis-cli --tls and ioredis with tls speak RESP over TLS', async () => {
    const [first, second] = [group.member(1).respPort, group.member(2).respPort];
    const set = await redisCli(first, '--tls', '--cacert', caFile, 'SET', 'colour', 'green');
    assert.deepEqual([set.code, set.stdout], [0, 'OK'], set.stderr);
    const redis = new Redis({ host: '127.0.0.1', port: second, tls: { ca }, maxRetriesPerRequest: 1 });
    try {
      assert.equal(await redis.get('colour'), 'green');
      assert.equal(await redis.append('colour', ' and blue'), 14);
    } finally {
      redis.disconnect();
    }
    const get = await redisCli(first, '--tls', '--cacert', caFile, 'GET', 'colour');
    assert.equal(get.stdout, 'green and blue');
  });

  it('HTTPS serves the API to a client that trusts the CA', async () => {
    const base = `https://127.0.0.1:${group.member(3).httpPort}`;
    const put = await https(`${base}/v1/kv/fruit`, ca, 'PUT', 'apple');
    assert.equal(put.status, 200, put.body);
    const got = await https(`${base}/v1/kv/fruit`, ca);
    assert.deepEqual([got.status, got.body], [200, 'apple']);
    const health = await https(`${base}/v1/health`, ca);
    assert.equal(health.status, 200, health.body);
  });

  it('plaintext clients are told to use TLS, and the node goes on serving', async () => {
    const member = group.member(1);
    const plainCli = await raftkv('get', 'greeting', '--members', group.membersFlag, '--cluster-id', group.clusterId);
    assert.equal(plainCli.code, 2);
    assert.match(plainCli.stderr, /this port speaks TLS only: connect with TLS \(raftkv commands: --tls-ca FILE/);
    const plainRedis = await redisCli(member.respPort, 'GET', 'colour');
    assert.match(plainRedis.stdout, /ERR this port speaks TLS only: connect with TLS \(redis-cli --tls --cacert/);
    const plainHttp = await fetch(`http://127.0.0.1:${member.httpPort}/v1/health`);
    assert.equal(plainHttp.status, 400);
    assert.match(await plainHttp.text(), /this port speaks HTTPS only: use https:\/\//);

    const stillServing = await redisCli(member.respPort, '--tls', '--cacert', caFile, 'GET', 'colour');
    assert.equal(stillServing.stdout, 'green and blue');
  });

  it('a member whose certificate another CA signed is refused by the others, which keep serving', async () => {
    const rogue = await raftkv('certs', '--dir', path.join(directory, 'rogue'));
    assert.equal(rogue.code, 0, rogue.stderr);
    const intruder = group.member(4);
    // It trusts the cluster's CA, but its own certificate comes from elsewhere: it starts, with a warning.
    const child: ChildProcess = spawn(
      process.execPath,
      [
        RAFTKV_BIN,
        'node',
        ...['--id', '4', '--members', group.membersFlag, '--dir', path.join(directory, 'node-4')],
        ...['--resp', `127.0.0.1:${intruder.respPort}`, '--cluster-id', group.clusterId],
        ...['--tls-cert', path.join(directory, 'rogue', 'node.pem')],
        ...['--tls-key', path.join(directory, 'rogue', 'node-key.pem'), '--tls-ca', caFile],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let intruderErr = '';
    child.stderr?.on('data', (chunk: Buffer) => (intruderErr += chunk.toString('utf8')));
    intruder.process = child; // group.close() kills it
    await waitForPort('127.0.0.1', intruder.peerPort, () => (child.exitCode === null ? null : intruderErr));
    assert.match(intruderErr, /warning: --tls-cert .* is not signed by --tls-ca/);

    const refusedByMembers = (): boolean =>
      group.output.some(
        (line) =>
          /^\[node [123]\]/.test(line) &&
          /refused peer node 4: its certificate is not signed by this cluster's CA/.test(line),
      );
    await eventually('a member logs that it refused node 4', refusedByMembers);

    const set = await redisCli(group.member(2).respPort, '--tls', '--cacert', caFile, 'SET', 'after', 'intruder');
    assert.equal(set.stdout, 'OK');
    // Its own port presents the rogue certificate, so only that CA lets a client ask it how it is.
    const rogueCa = await readFile(path.join(directory, 'rogue', 'ca.pem'), 'utf8');
    const answer = await askNodeStatus(
      { host: '127.0.0.1', port: intruder.peerPort },
      { clusterId: group.clusterId, timeoutMs: 2_000, tls: { ca: rogueCa } },
    );
    assert.ok(answer.ok, answer.ok ? '' : answer.error);
    assert.equal(answer.status.leaderId, null, 'node 4 never heard from the leader');
    assert.equal(answer.status.commitIndex, 0, 'node 4 holds none of the group log');
  });
});

describe('raftkv local --tls', { timeout: 150_000 }, () => {
  let directory = '';
  let child: ChildProcess | null = null;
  after(async () => {
    if (child !== null && child.exitCode === null) child.kill('SIGKILL');
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it('makes certificates and runs a sharded cluster with TLS everywhere in one command', async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-local-tls-e2e-'));
    const started = await startLocalOnFreePorts(directory, ['--tls', '--groups', '1', '--replicas', '1']);
    child = started.child;
    const info = started.info as LocalJson & { tls: { ca: string } | null };
    assert.ok(info.tls !== null, 'the JSON names the certificates');
    assert.equal(info.tls.ca, path.join(directory, 'tls', 'ca.pem'));
    const node = info.groups[0]!.members[0]!;
    assert.match(node.http, /^https:\/\//);
    const port = Number(node.resp.split(':')[1]);
    const set = await redisCli(port, '--tls', '--cacert', info.tls.ca, 'SET', 'k', 'v');
    assert.equal(set.stdout, 'OK', set.stderr);
    const read = await raftkv('get', 'k', '--meta', info.meta, '--tls-ca', info.tls.ca);
    assert.deepEqual([read.code, read.stdout], [0, 'v'], read.stderr);
    const cluster = await https(`${info.metaNodes[0]!.http}v1/cluster`, await readFile(info.tls.ca, 'utf8'));
    assert.equal(cluster.status, 200);
    const view = JSON.parse(cluster.body) as { groups: { members: { status: unknown; error: string | null }[] }[] };
    for (const member of view.groups.flatMap((each) => each.members)) {
      assert.equal(member.error, null, 'the meta node reaches every node over TLS for its status');
    }
    child.kill('SIGTERM');
    assert.equal(await exitOf(child), 0);
  });
});
