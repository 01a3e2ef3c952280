/**
 * `npm run bench:front-end`: the CPU the RESP and HTTP front ends spend per
 * request, with the replicated store taken away: the servers, sessions,
 * client library and KvReplica of a `raftkv node`, wired as member-server.ts
 * wires them, in this process, over a RaftNode stand-in that applies every
 * write at once. redis-benchmark SET (64 clients, 256-byte values) and wrk
 * PUT (64 connections) run as their own processes; this process's CPU time
 * over each run, less what it spends idle, divided by the requests, is the
 * front end's cost per request.
 *
 *   npm run bench:front-end                       200,000 SETs, then 10 s of PUTs
 *   npm run bench:front-end -- --requests 500000 --duration 20
 *
 * It measures what changes in src/api and src/client buy, apart from Raft,
 * fsync and LevelDB, on a machine too noisy for end-to-end numbers to tell.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ClientBackend } from '../src/api/client-backend.js';
import { HttpApiServer } from '../src/api/http/http-server.js';
import { loneGroupBackend } from '../src/api/http/node-backends.js';
import { RespServer } from '../src/api/resp/resp-server.js';
import { realClientClock } from '../src/client/channel.js';
import { KvClient } from '../src/client/kv-client.js';
import { TcpGroupChannel } from '../src/client/tcp-channel.js';
import { KvReplica } from '../src/kv/kv-replica.js';
import type { KvStateMachine } from '../src/kv/state-machine.js';
import { silentLogger } from '../src/log/logger.js';
import { ProcessMetrics } from '../src/metrics/process-metrics.js';
import type { NodeStatus } from '../src/node/node-status.js';
import type { RaftNode } from '../src/node/raft-node.js';
import { routeServices } from '../src/transport/service-router.js';
import { parseRedisBenchmarkCsv, redisBenchmarkArgs } from './compare/redis-benchmark.js';
import { parseWrkOutput, wrkArgs, wrkScript } from './compare/wrk-load.js';

const USAGE = 'usage: npm run bench:front-end -- [--requests <n>] [--duration <s>]';
const CLIENTS = 64;
const VALUE_BYTES = 256;
const KEYS = 100_000;
const SELF = 1;
const IDLE_MEASURE_MS = 3_000;

/** A leader that applies every write the moment it is proposed, and whose reads need no barrier. */
const instantNode = {
  propose: () => Promise.resolve({ ok: true }),
  readBarrier: () => Promise.resolve(),
} as unknown as RaftNode;
const emptyMachine = { restoring: false, get: () => ({ ok: true }) } as unknown as KvStateMachine;

const status: NodeStatus = {
  id: SELF,
  gid: null,
  role: 'leader',
  term: 1,
  leaderId: SELF,
  commitIndex: 0,
  appliedIndex: 0,
  lastIndex: 0,
  snapshotIndex: 0,
  snapshotTerm: 0,
  logBytes: 0,
  configVersion: null,
  bucketsInTransit: [],
  uptimeSeconds: 0,
};

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${command} exited with ${code}:\n${stdout}`)),
    );
  });
}

/** µs of CPU per second this process spends with no requests at all (metrics collection, timers). */
async function idleCpuUsPerSecond(): Promise<number> {
  const before = process.cpuUsage();
  const startMs = performance.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MEASURE_MS));
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / (performance.now() - startMs);
}

/** This process's CPU time while `work` runs, less what it spends idle over as long, in µs per request. */
async function cpuPerRequest<T>(
  idleUsPerSecond: number,
  work: () => Promise<T>,
  requests: (result: T) => number,
): Promise<[T, number]> {
  const before = process.cpuUsage();
  const startMs = performance.now();
  const result = await work();
  const used = process.cpuUsage(before);
  const idleUs = (idleUsPerSecond * (performance.now() - startMs)) / 1000;
  return [result, (used.user + used.system - idleUs) / Math.max(1, requests(result))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '200000' },
      duration: { type: 'string', default: '10' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const requests = Number(values.requests);
  const seconds = Number(values.duration);
  const replica = new KvReplica(instantNode, emptyMachine);
  const channel = new TcpGroupChannel({
    members: new Map([[SELF, { host: '127.0.0.1', port: 1 }]]),
    clusterId: 'front-end',
    local: { id: SELF, service: routeServices({ kv: replica }) },
  });
  // Before the leader-local path existed, KvReplica had no serve(): the sessions then go through the channel.
  const serve = (replica as Partial<Pick<KvReplica, 'serve'>>).serve;
  const local = serve === undefined ? {} : { local: { id: SELF, serve: serve.bind(replica) } };
  const metrics = new ProcessMetrics();
  const resp = new RespServer({
    backend: ClientBackend.forGroup([SELF], channel, realClientClock, { observer: metrics, ...local }),
    logger: silentLogger,
  });
  const respPort = (await resp.listen({ host: '127.0.0.1', port: 0 })).port;
  const http = new HttpApiServer({
    backend: loneGroupBackend({
      self: { id: SELF, gid: null, clusterId: 'front-end', status: () => status },
      members: new Map([[SELF, { host: '127.0.0.1', port: 1 }]]),
      newSession: () =>
        new KvClient({
          members: [SELF],
          channel,
          clock: realClientClock,
          clientId: `http-${Math.random()}`,
          random: Math.random,
          ...local,
        }),
    }),
    logger: silentLogger,
    metrics,
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  const directory = mkdtempSync(path.join(os.tmpdir(), 'raftkv-front-end-'));
  try {
    const setArgs = redisBenchmarkArgs(respPort, 'set', requests, CLIENTS, VALUE_BYTES, KEYS);
    const idleUsPerSecond = await idleCpuUsPerSecond();
    process.stdout.write(`idle: ${idleUsPerSecond.toFixed(0)} µs of CPU per second, subtracted below\n`);
    const [set, setCpuUs] = await cpuPerRequest(
      idleUsPerSecond,
      async () => parseRedisBenchmarkCsv(await run('redis-benchmark', setArgs), 'set', requests),
      () => requests,
    );
    process.stdout.write(
      `RESP SET, ${CLIENTS} clients: ${set?.opsPerSecond.toFixed(0) ?? '?'} ops/s, ` +
        `${setCpuUs.toFixed(1)} µs of this process's CPU per request\n`,
    );
    const script = path.join(directory, 'put.lua');
    writeFileSync(
      script,
      wrkScript({ system: 'raftkv', operation: 'put', keys: KEYS, valueBytes: VALUE_BYTES, seed: 1 }),
    );
    const url = `http://127.0.0.1:${http.port}`;
    const [put, putCpuUs] = await cpuPerRequest(
      idleUsPerSecond,
      async () => parseWrkOutput(await run('wrk', wrkArgs(url, script, CLIENTS, seconds, 1))),
      (result) => result?.requests ?? 0,
    );
    process.stdout.write(
      `HTTP PUT, ${CLIENTS} connections: ${put?.opsPerSecond.toFixed(0) ?? '?'} ops/s, ` +
        `${putCpuUs.toFixed(1)} µs of this process's CPU per request` +
        (put !== null && put.non2xx + put.socketErrors > 0 ? ` (${put.non2xx + put.socketErrors} failed)` : '') +
        '\n',
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
    await http.close();
    await resp.close();
    channel.close();
  }
}

await main();
