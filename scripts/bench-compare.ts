/**
 * `npm run bench:compare`: raftkv against etcd on this machine, issue 6's
 * comparison. A 3-member etcd cluster (Debian's etcd-server, installed with
 * apt-get when missing, as is wrk) and a 3-member raftkv group, one after the
 * other, each get the same wrk load over HTTP at their leader: puts of 8-byte
 * keys from a 100,000-key space with 256-byte values over 64 connections,
 * linearizable gets over 64 connections, puts over 1 connection; then
 * redis-benchmark runs SET and GET against raftkv's RESP port. One table
 * goes to stdout (or JSON with --json); the JSON is also written to
 * bench-results/.
 *
 *   npm run bench:compare                              10 s per workload
 *   npm run bench:compare -- --duration 5 --json       shorter, JSON on stdout
 *   npm run bench:compare -- --systems raftkv --workload put --profile
 *                                                      profile raftkv's leader under the put load
 *
 * With --perf, Linux perf records every CPU during each raftkv workload and the
 * notes say where the CPU went, by process and by kind of work in each node
 * (scripts/compare/perf-breakdown.ts says why beside --profile).
 *
 * With --profile every raftkv node runs with node --cpu-prof; the leader's and
 * one follower's profiles are summarized (scripts/profile-summary.ts) over the put workload's
 * time window (the SET's when no put runs), next to the profiles in bench-results/profile-<time>/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessGroup } from '../test/e2e/support/process-group.js';
import type { CompareRow, Measured, WorkloadName } from './compare/compare-table.js';
import { formatCompareTable, tableLines } from './compare/compare-table.js';
import { EtcdCluster } from './compare/etcd-cluster.js';
import type { MeteredProcess } from './compare/process-cpu.js';
import { meterCpu } from './compare/process-cpu.js';
import { formatPerfBreakdown, PerfRecording, perfBreakdown } from './compare/perf-breakdown.js';
import { parseRedisBenchmarkCsv, redisBenchmarkArgs } from './compare/redis-benchmark.js';
import type { HttpOperation, HttpSystem } from './compare/wrk-load.js';
import { parseWrkOutput, wrkArgs, wrkScript } from './compare/wrk-load.js';
import { loadProfile, summarizeProfile } from './profile/cpu-profile.js';
import { formatProfileSummary } from './profile/profile-report.js';

const WORKLOADS: readonly WorkloadName[] = ['put', 'get', 'put-1', 'resp-set', 'resp-get'];
const SYSTEMS: readonly HttpSystem[] = ['etcd', 'raftkv'];
const USAGE = `usage: npm run bench:compare -- [--duration <s>] [--workload <list>] [--systems <list>] [--profile] [--perf] [--json]

  --duration <s>       seconds per workload (default 10)
  --workload <list>    of ${WORKLOADS.join(', ')} (default: all)
  --systems <list>     of ${SYSTEMS.join(', ')} (default: both)
  --profile            run raftkv's nodes under node --cpu-prof and summarize the leader's and a follower's
  --perf               record every CPU with Linux perf during each raftkv workload and print where it went
                       (by process, and by kind of work inside each node); needs perf (apt-get install linux-perf)
  --json               print the results as JSON instead of the table`;

const GROUP_SIZE = 3;
const CONNECTIONS = 64;
const KEYS = 100_000;
const VALUE_BYTES = 256;
const SEED = 1;
/** Gets read keys that exist: these many (00000000 upwards) are written first on each system. */
const GET_KEYS = 1_000;
const PRELOAD_CONCURRENCY = 32;
/** Seconds of put load, unmeasured, before the measured put: JIT warm-up, first compaction, connections. */
const WARMUP_SECONDS = 3;
/** redis-benchmark stops after a count: sized from this rate guess times the duration, within these. */
const RESP_REQUESTS_MIN = 2_000;
const RESP_REQUESTS_MAX = 2_000_000;
/** A child (wrk, redis-benchmark) running this much longer than it should is killed. */
const OVERRUN_MS = 60_000;
/** A node writing its CPU profile after SIGTERM should take well under this. */
const PROFILE_EXIT_TIMEOUT_MS = 30_000;
const LEADER_WAIT_MS = 60_000;
const RESULTS_DIR = path.resolve(import.meta.dirname, '..', 'bench-results');

interface Flags {
  readonly durationSeconds: number;
  readonly workloads: readonly WorkloadName[];
  readonly systems: readonly HttpSystem[];
  readonly profile: boolean;
  readonly perf: boolean;
  readonly json: boolean;
}

/** Everything started, released on the way out however the run ends (Ctrl-C included). */
interface Run {
  readonly scratch: string;
  etcd: EtcdCluster | null;
  group: ProcessGroup | null;
  child: ReturnType<typeof spawn> | null;
  /** Where --perf keeps its recordings, or null without it; `perf` is the one running. */
  perfDir: string | null;
  perf: PerfRecording | null;
  closing: boolean;
  readonly notes: string[];
}

// ---------------------------------------------------------------------------
// Flags

function parseList<T extends string>(flag: string, text: string | undefined, all: readonly T[]): T[] {
  if (text === undefined) return [...all];
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(all as readonly string[]).includes(name))
      throw new Error(`${flag}: "${name}" is not one of ${all.join(', ')}`);
  }
  return names as T[];
}

function parseFlags(argv: readonly string[]): Flags {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string' },
        workload: { type: 'string' },
        systems: { type: 'string' },
        profile: { type: 'boolean', default: false },
        perf: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const durationSeconds = values.duration === undefined ? 10 : Number(values.duration);
    if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > 3600) {
      throw new Error(`--duration: ${values.duration} is not a whole number of seconds from 1 to 3600`);
    }
    return {
      durationSeconds,
      workloads: parseList('--workload', values.workload, WORKLOADS),
      systems: parseList('--systems', values.systems, SYSTEMS),
      profile: values.profile,
      perf: values.perf,
      json: values.json,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------
// Tools: etcd and wrk from Debian when missing; redis-benchmark only used when present

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function ensurePackages(flags: Flags): void {
  const wanted: string[] = [];
  if (flags.systems.includes('etcd') && !onPath('etcd')) wanted.push('etcd-server');
  if (!onPath('wrk')) wanted.push('wrk');
  if (wanted.length === 0) return;
  process.stderr.write(`compare: installing ${wanted.join(' ')} with apt-get\n`);
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...wanted], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (install.status !== 0) {
    throw new Error(
      `apt-get install ${wanted.join(' ')} failed (${install.error?.message ?? `exit ${install.status}`}): ` +
        'run it as root, after apt-get update, or install them yourself',
    );
  }
}

// ---------------------------------------------------------------------------
// Children

function runChild(run: Run, command: string, args: readonly string[], expectedMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    run.child = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), expectedMs + OVERRUN_MS);
    child.once('error', (error) => (stderr += `${error.message}\n`));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      run.child = null;
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} ended with ${code ?? signal}: ${`${stderr}${stdout}`.trim().slice(0, 800)}`,
          ),
        );
    });
  });
}

async function wrkRun(
  run: Run,
  system: HttpSystem,
  operation: HttpOperation,
  url: string,
  connections: number,
  seconds: number,
  keys: number,
): Promise<Measured> {
  const script = path.join(run.scratch, `${system}-${operation}-${keys}.lua`);
  writeFileSync(script, wrkScript({ system, operation, keys, valueBytes: VALUE_BYTES, seed: SEED }));
  const args = wrkArgs(url, script, connections, seconds, os.cpus().length);
  const stdout = await runChild(run, 'wrk', args, seconds * 1000);
  const result = parseWrkOutput(stdout);
  if (result === null) throw new Error(`wrk printed no summary I can read:\n${stdout.slice(0, 800)}`);
  run.notes.push(
    `${system} ${operation} c${connections}: wrk ${args.slice(0, -3).join(' ')} ${url} (${result.requests} requests)`,
  );
  return {
    opsPerSecond: result.opsPerSecond,
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    errors: result.non2xx + result.socketErrors,
  };
}

/** Writes keys 00000000 .. GET_KEYS-1 so that the gets find values (a miss is a 404 on raftkv). */
async function preload(system: HttpSystem, url: string): Promise<void> {
  const value = 'v'.repeat(VALUE_BYTES);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < GET_KEYS) {
      const key = String(next++).padStart(8, '0');
      const response =
        system === 'raftkv'
          ? await fetch(`${url}/v1/kv/${key}`, { method: 'PUT', body: value })
          : await fetch(`${url}/v3/kv/put`, {
              method: 'POST',
              body: JSON.stringify({
                key: Buffer.from(key).toString('base64'),
                value: Buffer.from(value).toString('base64'),
              }),
            });
      if (!response.ok)
        throw new Error(`preloading ${system}: ${key} answered ${response.status} ${await response.text()}`);
      await response.arrayBuffer().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: PRELOAD_CONCURRENCY }, worker));
}

// ---------------------------------------------------------------------------
// The systems

type Results = Map<WorkloadName, Measured>;

/** The workload whose window the profile summaries cover: the put's, or the SET's when no put runs. */
interface ProfileWindow {
  workload: 'put' | 'resp-set';
  /** Microseconds of the monotonic clock, the one V8's profiles are stamped with. */
  startUs: number;
  endUs: number;
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The HTTP workloads on one system's leader, in the table's order. */
async function httpWorkloads(
  run: Run,
  flags: Flags,
  system: HttpSystem,
  url: string,
  onPut: (phase: 'before' | 'after', put: Measured | null) => Promise<void>,
  onGet: (phase: 'before' | 'after', get: Measured | null) => Promise<void> = () => Promise.resolve(),
): Promise<Results> {
  const results: Results = new Map();
  const seconds = flags.durationSeconds;
  const say = (what: string): boolean => process.stderr.write(`compare: ${system}: ${what}\n`);
  if (flags.workloads.includes('put')) {
    say(`${WARMUP_SECONDS} s of put to warm up`);
    await wrkRun(run, system, 'put', url, CONNECTIONS, WARMUP_SECONDS, KEYS);
    run.notes.pop(); // the warm-up's, which is not in the table
    say(`put, ${CONNECTIONS} connections, ${seconds} s`);
    await onPut('before', null);
    const put = await wrkRun(run, system, 'put', url, CONNECTIONS, seconds, KEYS);
    results.set('put', put);
    await onPut('after', put);
  }
  if (flags.workloads.includes('get')) {
    say(`writing ${GET_KEYS} keys, then linearizable get, ${CONNECTIONS} connections, ${seconds} s`);
    await preload(system, url);
    await onGet('before', null);
    const get = await wrkRun(run, system, 'get', url, CONNECTIONS, seconds, GET_KEYS);
    results.set('get', get);
    await onGet('after', get);
  }
  if (flags.workloads.includes('put-1')) {
    say(`put, 1 connection, ${seconds} s`);
    results.set('put-1', await wrkRun(run, system, 'put', url, 1, seconds, KEYS));
  }
  return results;
}

async function measureEtcd(run: Run, flags: Flags): Promise<Results> {
  const cluster = await EtcdCluster.create(GROUP_SIZE);
  run.etcd = cluster;
  process.stderr.write(`compare: starting ${GROUP_SIZE} etcd members in ${cluster.directory}\n`);
  cluster.start();
  const leader = await cluster.waitForLeader();
  const version = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '?';
  run.notes.push(`etcd: ${version}, leader ${leader.name} at ${cluster.url(leader)}`);
  let cpu: ReturnType<typeof meterCpu> | null = null;
  const onPut = (phase: 'before' | 'after', put: Measured | null): Promise<void> => {
    if (phase === 'before') {
      cpu = meterCpu(
        cluster.members.map((m) => ({ label: `${m.name}${m === leader ? ' (leader)' : ''}`, pid: m.process?.pid })),
      );
    } else if (cpu !== null && put !== null) {
      run.notes.push(`etcd put: ${cpu(flags.durationSeconds, put.opsPerSecond * flags.durationSeconds)}`);
    }
    return Promise.resolve();
  };
  const results = await httpWorkloads(run, flags, 'etcd', cluster.url(leader), onPut);
  await cluster.close();
  run.etcd = null;
  return results;
}

/** GET /v1/health of any member names the leader once there is one. */
async function raftkvLeader(group: ProcessGroup): Promise<number> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    for (const id of group.ids) {
      try {
        const response = await fetch(`http://127.0.0.1:${group.member(id).httpPort}/v1/health`);
        const health = (await response.json()) as { leaderId?: number | null };
        if (response.ok && typeof health.leaderId === 'number') return health.leaderId;
      } catch {
        // Still starting: ask the next one.
      }
    }
    if (Date.now() > deadline) throw new Error(`raftkv elected no leader within ${LEADER_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What the leader's /metrics says: event-loop lag (prom-client resets its histogram at each scrape) and counters. */
async function leaderMetrics(httpPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const values = new Map<string, number>();
  const names =
    /^(nodejs_eventloop_lag_(?:mean|p50|p99|max)_seconds|raftkv_fsync_duration_seconds_(?:count|sum)|raftkv_raft_proposals_total|raftkv_transport_messages_sent_total)\s+([\d.e+-]+)$/gm;
  for (const match of text.matchAll(names)) values.set(match[1]!, Number(match[2]));
  return values;
}

/** What a workload's leader metrics say, from the values before and after it and its length. */
type DescribeWindow = (
  before: Map<string, number>,
  after: Map<string, number>,
  seconds: number,
  requests: number,
) => string;

/**
 * Starts metering a workload: the function returned notes each node's CPU
 * per request since, and what `describe` makes of the leader's metrics
 * (for writes its fsyncs, batches and event-loop lag; for reads its Raft
 * messages per read).
 */
async function meterWorkload(
  run: Run,
  label: string,
  nodes: readonly MeteredProcess[],
  leaderHttpPort: number,
  describe: DescribeWindow,
): Promise<(measured: Measured) => Promise<void>> {
  const before = await leaderMetrics(leaderHttpPort);
  const cpu = meterCpu(nodes);
  const perf =
    run.perfDir === null ? null : PerfRecording.start(path.join(run.perfDir, `${label.replace(/\W+/g, '-')}.data`));
  run.perf = perf;
  const startUs = monotonicUs();
  return async (measured) => {
    const seconds = (monotonicUs() - startUs) / 1e6;
    const requests = measured.opsPerSecond * seconds;
    run.notes.push(`${label}: ${cpu(seconds, requests)}`);
    const after = await leaderMetrics(leaderHttpPort);
    run.notes.push(`${label}: ${describe(before, after, seconds, requests)}`);
    if (perf !== null) {
      const perfSeconds = await perf.stop();
      run.perf = null;
      const processes = nodes.map((node) => ({ ...node, brokenDown: true }));
      const breakdown = perfBreakdown(perf.script(), processes, perfSeconds);
      run.notes.push(
        `${formatPerfBreakdown(label, breakdown, os.cpus().length)}\n  (samples in ${path.relative(process.cwd(), perf.file)})`,
      );
    }
  };
}

/** The Raft messages per read, which say how many reads share a ReadIndex round. */
function describeReadWindow(
  before: Map<string, number>,
  after: Map<string, number>,
  _seconds: number,
  reads: number,
): string {
  const name = 'raftkv_transport_messages_sent_total';
  const messages = (after.get(name) ?? 0) - (before.get(name) ?? 0);
  return `the leader sent ${messages} Raft messages (${(messages / Math.max(1, reads)).toFixed(3)} per read)`;
}

/** The leader's work per write during a write workload, from its metrics before and after. */
function describePutWindow(before: Map<string, number>, after: Map<string, number>, seconds: number): string {
  const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const proposals = delta('raftkv_raft_proposals_total');
  const fsyncs = delta('raftkv_fsync_duration_seconds_count');
  const fsyncMs = (1000 * delta('raftkv_fsync_duration_seconds_sum')) / Math.max(1, fsyncs);
  const messages = delta('raftkv_transport_messages_sent_total');
  const lag = (name: string): string => ((after.get(`nodejs_eventloop_lag_${name}_seconds`) ?? NaN) * 1000).toFixed(1);
  return (
    `the leader took ${proposals} proposals in ${fsyncs} fsyncs (${(proposals / Math.max(1, fsyncs)).toFixed(1)} per fsync, ` +
    `${(fsyncs / seconds).toFixed(0)} fsyncs/s, ${fsyncMs.toFixed(2)} ms each) and sent ${messages} Raft messages ` +
    `(${(messages / Math.max(1, proposals)).toFixed(2)} per proposal); event-loop lag mean ${lag('mean')} ms, ` +
    `p50 ${lag('p50')}, p99 ${lag('p99')}, max ${lag('max')} (prom-client samples it every 10 ms)`
  );
}

async function measureRaftkv(run: Run, flags: Flags, profileDir: string | null): Promise<Results> {
  const nodeFlags = profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const group = await ProcessGroup.create(GROUP_SIZE, [], 'node', { http: true, nodeFlags });
  run.group = group;
  process.stderr.write(`compare: starting ${GROUP_SIZE} raftkv nodes in ${group.directory}\n`);
  await group.startAll();
  const leader = await raftkvLeader(group);
  const member = group.member(leader);
  const url = `http://127.0.0.1:${member.httpPort}`;
  run.notes.push(`raftkv: leader node ${leader} at ${url}, RESP 127.0.0.1:${member.respPort}`);
  const window: ProfileWindow = { workload: 'put', startUs: 0, endUs: 0 };
  const nodes = group.ids.map((id) => ({
    label: `node ${id}${id === leader ? ' (leader)' : ''}`,
    pid: group.member(id).process?.pid,
  }));
  let finish: ((measured: Measured) => Promise<void>) | null = null;
  const onPut = async (phase: 'before' | 'after', put: Measured | null): Promise<void> => {
    if (phase === 'before') {
      finish = await meterWorkload(run, 'raftkv put', nodes, member.httpPort, describePutWindow);
      window.startUs = monotonicUs();
    } else {
      window.endUs = monotonicUs();
      if (finish !== null && put !== null) await finish(put);
    }
  };
  let finishGet: ((measured: Measured) => Promise<void>) | null = null;
  const onGet = async (phase: 'before' | 'after', get: Measured | null): Promise<void> => {
    if (phase === 'before')
      finishGet = await meterWorkload(run, 'raftkv get', nodes, member.httpPort, describeReadWindow);
    else if (finishGet !== null && get !== null) await finishGet(get);
  };
  const results = await httpWorkloads(run, flags, 'raftkv', url, onPut, onGet);
  const putRate = results.get('put')?.opsPerSecond ?? 5_000;
  const getRate = results.get('get')?.opsPerSecond ?? 10_000;
  if (flags.workloads.includes('resp-set')) {
    const finishSet = await meterWorkload(run, 'raftkv resp-set', nodes, member.httpPort, describePutWindow);
    // Without a put workload the profile summaries cover the SET's window instead.
    const profilesThisWindow = window.endUs === 0;
    if (profilesThisWindow) {
      window.workload = 'resp-set';
      window.startUs = monotonicUs();
    }
    const measured = await respRun(run, flags, member.respPort, 'set', putRate);
    if (profilesThisWindow) window.endUs = monotonicUs();
    await finishSet(measured);
    results.set('resp-set', measured);
  }
  if (flags.workloads.includes('resp-get'))
    results.set('resp-get', await respRun(run, flags, member.respPort, 'get', getRate));
  if (profileDir !== null) await stopForProfiles(run, group, leader, profileDir, window);
  await group.close();
  run.group = null;
  return results;
}

async function respRun(
  run: Run,
  flags: Flags,
  port: number,
  test: 'set' | 'get',
  expectedRate: number,
): Promise<Measured> {
  if (!onPath('redis-benchmark')) throw new Error('redis-benchmark is not on PATH: apt-get install redis-tools');
  const requests = Math.round(
    Math.min(RESP_REQUESTS_MAX, Math.max(RESP_REQUESTS_MIN, expectedRate * flags.durationSeconds)),
  );
  process.stderr.write(`compare: raftkv: redis-benchmark ${test}, ${CONNECTIONS} clients, ${requests} requests\n`);
  const args = redisBenchmarkArgs(port, test, requests, CONNECTIONS, VALUE_BYTES, KEYS);
  const stdout = await runChild(run, 'redis-benchmark', args, flags.durationSeconds * 1000 * 5);
  const result = parseRedisBenchmarkCsv(stdout, test, requests);
  if (result === null) throw new Error(`redis-benchmark printed no ${test} result:\n${stdout.slice(0, 800)}`);
  run.notes.push(`raftkv resp-${test}: redis-benchmark ${args.join(' ')}`);
  // redis-benchmark 7 exits with 1 at the first error reply, so one that finished saw none.
  return { opsPerSecond: result.opsPerSecond, p50Ms: result.latencyMs.p50, p99Ms: result.latencyMs.p99, errors: 0 };
}

/** SIGTERM lets each node exit cleanly, which is when node --cpu-prof writes its profile; then the leader's and one follower's are summarized. */
async function stopForProfiles(
  run: Run,
  group: ProcessGroup,
  leader: number,
  profileDir: string,
  window: ProfileWindow,
): Promise<void> {
  const pids = new Map<number, number>();
  const exits: Promise<void>[] = [];
  for (const member of group.members.values()) {
    const child = member.process;
    if (child === null || child.pid === undefined || child.exitCode !== null) continue;
    pids.set(child.pid, member.id);
    exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
    child.kill('SIGTERM');
  }
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, PROFILE_EXIT_TIMEOUT_MS).unref());
  await Promise.race([Promise.all(exits), timeout]);
  for (const member of group.members.values()) {
    if (member.process?.exitCode !== null) member.process = null;
  }
  for (const file of readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))) {
    // node names a profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main one (another
    // is tsx's module loader, idle once the sources are loaded).
    const [, , , pid, thread] = file.split('.');
    const id = pids.get(Number(pid));
    if (id === undefined) continue;
    const role = `${id === leader ? '-leader' : ''}${thread === '0' ? '' : `-thread-${thread}`}`;
    const named = path.join(profileDir, `node-${id}${role}.cpuprofile`);
    spawnSync('mv', [path.join(profileDir, file), named]);
  }
  const windowed = window.endUs > window.startUs ? window : null;
  const follower = [...pids.values()].find((id) => id !== leader);
  const roles: [string, string][] = [[`node-${leader}-leader.cpuprofile`, 'leader-summary.txt']];
  if (follower !== undefined) roles.push([`node-${follower}.cpuprofile`, 'follower-summary.txt']);
  const written: string[] = [];
  for (const [profileName, summaryName] of roles) {
    const file = path.join(profileDir, profileName);
    if (!existsSync(file)) {
      run.notes.push(`profile: no ${profileName} in ${profileDir} (the node did not exit in time?)`);
      continue;
    }
    const summary = formatProfileSummary(summarizeProfile(loadProfile(file), windowed));
    writeFileSync(path.join(profileDir, summaryName), `${summary}\n`);
    process.stderr.write(`${profileName}:\n${summary}\n`);
    written.push(summaryName);
  }
  if (written.length === 0) return;
  run.notes.push(
    `profile: ${path.relative(process.cwd(), profileDir)} (the ${window.workload} window in ${written.join(' and ')}; ` +
      `others with scripts/profile-summary.ts FILE --from-us ${window.startUs} --to-us ${window.endUs})`,
  );
}

// ---------------------------------------------------------------------------
// Cleanup and main

function killNow(run: Run): void {
  run.child?.kill('SIGKILL');
  run.perf?.kill();
  run.etcd?.killNow();
  if (run.etcd !== null) rmSync(run.etcd.directory, { recursive: true, force: true });
  if (run.group !== null) {
    for (const member of run.group.members.values()) {
      const child = member.process;
      if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(run.group.directory, { recursive: true, force: true });
  }
  rmSync(run.scratch, { recursive: true, force: true });
}

function installCleanup(run: Run): void {
  const onSignal = (signal: NodeJS.Signals, exitCode: number): void => {
    if (run.closing) return;
    run.closing = true;
    process.stderr.write(`\ncompare: ${signal}, stopping everything it started\n`);
    killNow(run);
    process.exit(exitCode);
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('exit', () => killNow(run));
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  ensurePackages(flags);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const run: Run = {
    scratch: mkdtempSync(path.join(os.tmpdir(), 'raftkv-compare-')),
    etcd: null,
    group: null,
    child: null,
    perfDir: flags.perf ? path.join(RESULTS_DIR, `perf-${stamp}`) : null,
    perf: null,
    closing: false,
    notes: [],
  };
  installCleanup(run);
  if (run.perfDir !== null) mkdirSync(run.perfDir, { recursive: true });
  const loadBefore = os.loadavg();
  const etcd: Results = flags.systems.includes('etcd')
    ? await measureEtcd(run, flags)
    : new Map<WorkloadName, Measured>();
  let profileDir: string | null = null;
  if (flags.profile) {
    profileDir = path.join(RESULTS_DIR, `profile-${stamp}`);
    mkdirSync(profileDir, { recursive: true });
  }
  const raftkv: Results = flags.systems.includes('raftkv')
    ? await measureRaftkv(run, flags, profileDir)
    : new Map<WorkloadName, Measured>();
  const rows: CompareRow[] = flags.workloads.map((workload) => ({
    workload,
    etcd: etcd.get(workload) ?? null,
    raftkv: raftkv.get(workload) ?? null,
  }));
  const lines = tableLines(rows);
  const document = {
    date: new Date().toISOString(),
    flags,
    load: { connections: CONNECTIONS, keys: KEYS, valueBytes: VALUE_BYTES, getKeys: GET_KEYS, groupSize: GROUP_SIZE },
    host: {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg(),
    },
    table: lines,
    notes: run.notes,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `compare-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  console.log(flags.json ? JSON.stringify(document, null, 2) : formatCompareTable(lines));
  for (const note of run.notes) process.stderr.write(`compare: ${note}\n`);
  const load = (values: number[]): string => values.map((value) => value.toFixed(2)).join(' ');
  process.stderr.write(`compare: load average ${load(loadBefore)} before, ${load(os.loadavg())} after\n`);
  process.stderr.write(`compare: results in ${path.relative(process.cwd(), file)}\n`);
}

await main();
