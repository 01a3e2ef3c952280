/**
 * `npm run bench`: throughput and latency of one replica group, three real
 * `raftkv node` processes on loopback, measured by `raftkv bench` (run as a
 * child process, as a user would) and by redis-benchmark over RESP. The
 * workloads are raftkv bench's: put with one client, then put, get, mixed
 * and YCSB A, B and C with many; see `raftkv bench --help`. A table goes to
 * stdout and the full results, as JSON, to bench-results/.
 *
 *   npm run bench                                   10 s per workload
 *   npm run bench -- --duration 5 --clients 16      shorter, fewer clients
 *   npm run bench -- --workload ycsb-a,ycsb-b       only these (after put with one client)
 *   npm run bench -- --value-bytes 1024 --json      bigger values, JSON on stdout
 *   npm run bench -- --tls                          TLS on every port (development certificates)
 *
 * The numbers are of one machine running the group, the clients and the
 * benchmark at once: compare runs on the same machine, not across machines.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CLIENTS_MAX,
  DURATION_SECONDS_MAX,
  KEYS_MAX,
  PLAN_DEFAULTS,
  VALUE_BYTES_PLAN_MAX,
} from '../src/bench/plan-limits.js';
import type { Phase } from '../src/bench/progress.js';
import { stderrProgress } from '../src/bench/progress.js';
import type { BenchReport, TableRow } from '../src/bench/report.js';
import { formatErrorCodes, formatTable } from '../src/bench/report.js';
import { parseWorkloadList, WORKLOAD_NAMES } from '../src/bench/workloads.js';
import { makeDevCertificates } from '../src/certs/dev-certs.js';
import { realClientClock } from '../src/client/channel.js';
import { ClientError } from '../src/client/errors.js';
import { KvClient } from '../src/client/kv-client.js';
import { TcpGroupChannel } from '../src/client/tcp-channel.js';
import { integerOption } from '../src/cli/options.js';
import { ProcessGroup } from '../test/e2e/support/process-group.js';
import { redisBenchmarkColumns } from './compare/redis-benchmark.js';

const USAGE = `usage: npm run bench -- [--duration <s>] [--clients <n>] [--keys <n>] [--value-bytes <n>]
                        [--workload <list>] [--seed <n>] [--tls] [--json]

  --duration <s>       seconds per workload (default ${PLAN_DEFAULTS.durationSeconds})
  --clients <n>        clients of the many-client workloads (default ${PLAN_DEFAULTS.clients})
  --keys <n>           size of the key space (default ${PLAN_DEFAULTS.keys})
  --value-bytes <n>    bytes of each value written (default ${PLAN_DEFAULTS.valueBytes})
  --workload <list>    of ${WORKLOAD_NAMES.join(', ')} (default: all)
  --seed <n>           seed of the operation and key choices (default ${PLAN_DEFAULTS.seed})
  --tls                TLS on every port and for every client, with certificates made for the run
  --json               print the results as JSON instead of a table`;

const GROUP_SIZE = 3;
const RAFTKV_BIN = path.resolve(import.meta.dirname, '..', 'bin', 'raftkv.js');
/** A fresh group elects its first leader well within this, or something is wrong. */
const LEADER_WAIT_MS = 30_000;
/** redis-benchmark stops after a request count, not a time: it is sized from the KV put rate, within these. */
const RESP_REQUESTS_MIN = 1_000;
const RESP_REQUESTS_MAX = 10_000_000;
/** A child (raftkv bench, redis-benchmark) is killed if it runs this many times longer than it should. */
const OVERRUN_FACTOR = 5;
/** ProcessGroup.close() should take well under this; past it the processes are killed and removed by hand. */
const GROUP_CLOSE_TIMEOUT_MS = 5_000;

interface BenchFlags {
  readonly durationSeconds: number;
  readonly clients: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly workloads: readonly string[];
  readonly seed: number;
  readonly tls: boolean;
  readonly json: boolean;
}

/** A measurement that could not be made, and why (redis-benchmark missing, raftkv bench failing). */
interface Skipped {
  readonly workload: string;
  readonly reason: string;
}

/** Everything a run holds that must be released on the way out, however it ends. */
interface BenchRun {
  readonly group: ProcessGroup;
  /** A child being waited for (raftkv bench, redis-benchmark), killed if the run is cut short. */
  child: ChildProcess | null;
  stopProgress: (() => void) | null;
  closing: boolean;
  readonly notes: string[];
  /** With --tls: the certificates' directory (removed with the group) and the CA file clients trust. */
  readonly tls: { readonly directory: string; readonly ca: string } | null;
}

// ---------------------------------------------------------------------------
// Flags: checked before the group starts, with raftkv bench's own limits

function parseFlags(argv: readonly string[]): BenchFlags {
  const values = parseFlagValues(argv);
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  try {
    const integer = (flag: string, text: string | undefined, fallback: number, min: number, max: number): number =>
      text === undefined ? fallback : integerOption(flag, min, max)(text);
    return {
      durationSeconds: integer('--duration', values.duration, PLAN_DEFAULTS.durationSeconds, 1, DURATION_SECONDS_MAX),
      clients: integer('--clients', values.clients, PLAN_DEFAULTS.clients, 1, CLIENTS_MAX),
      keys: integer('--keys', values.keys, PLAN_DEFAULTS.keys, 1, KEYS_MAX),
      valueBytes: integer('--value-bytes', values['value-bytes'], PLAN_DEFAULTS.valueBytes, 1, VALUE_BYTES_PLAN_MAX),
      workloads: values.workload === undefined ? [...WORKLOAD_NAMES] : parseWorkloadList(values.workload),
      seed: integer('--seed', values.seed, PLAN_DEFAULTS.seed, 0, 0xffff_ffff),
      tls: values.tls,
      json: values.json,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

function parseFlagValues(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string' },
        clients: { type: 'string' },
        keys: { type: 'string' },
        'value-bytes': { type: 'string' },
        workload: { type: 'string', multiple: true },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        tls: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    // parseArgs throws a TypeError with a code for an unknown flag or a missing value: the user's mistake.
    if (!(error instanceof TypeError && 'code' in error)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------
// Children: raftkv bench and redis-benchmark

interface ChildOutput {
  /** Null when the child exited with 0; else what went wrong, to follow its name in a sentence. */
  readonly failure: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `command` to completion, killing it if it runs far longer than
 * `expectedMs`. With `showStderr` its stderr is this terminal's, so that
 * raftkv bench draws its own progress bar.
 */
function runChild(
  run: BenchRun,
  command: string,
  args: readonly string[],
  expectedMs: number,
  showStderr: boolean,
): Promise<ChildOutput> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', showStderr ? 'inherit' : 'pipe'] });
    run.child = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const overrunMs = expectedMs * OVERRUN_FACTOR + 30_000;
    let overran = false;
    const timer = setTimeout(() => {
      overran = true;
      child.kill('SIGKILL');
    }, overrunMs);
    child.once('error', (error) => {
      stderr += `${error.message}\n`;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      run.child = null;
      const failure = overran
        ? `was killed after ${overrunMs / 1000} s`
        : code === 0
          ? null
          : `exited with ${code ?? signal ?? 'nothing'}`;
      resolve({ failure, stdout, stderr });
    });
  });
}

/** `raftkv bench --json` against the group: its report, or why there is none. */
async function raftkvBench(
  run: BenchRun,
  flags: BenchFlags,
  workloads: readonly string[],
  clients: number,
): Promise<BenchReport | Skipped> {
  const args = [RAFTKV_BIN, 'bench', '--members', run.group.membersFlag, '--cluster-id', run.group.clusterId];
  args.push('--workload', workloads.join(','), '--clients', String(clients), '--keys', String(flags.keys));
  args.push('--value-bytes', String(flags.valueBytes), '--duration', String(flags.durationSeconds));
  args.push('--seed', String(flags.seed), '--json');
  if (run.tls !== null) args.push('--tls-ca', run.tls.ca);
  const expectedMs = (workloads.length + 1) * flags.durationSeconds * 1000;
  const output = await runChild(run, process.execPath, args, expectedMs, true);
  const name = `raftkv bench --workload ${workloads.join(',')} --clients ${clients}`;
  if (output.failure !== null) return { workload: name, reason: `it ${output.failure}` };
  return JSON.parse(output.stdout) as BenchReport;
}

interface RedisBenchmarkResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

function whyRedisBenchmarkIsMissing(): string | null {
  const probe = spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' });
  if (probe.error === undefined) return null;
  return (probe.error as NodeJS.ErrnoException).code === 'ENOENT'
    ? 'redis-benchmark is not on PATH (it comes with the redis-tools or redis package)'
    : `redis-benchmark --version failed: ${probe.error.message}`;
}

/** SET through the leader's RESP port, as many requests as the KV puts made in the same time. */
async function respSetWorkload(
  run: BenchRun,
  flags: BenchFlags,
  leader: number,
  putOpsPerSecond: number | null,
): Promise<TableRow | Skipped> {
  const name = 'set over RESP';
  const missing = whyRedisBenchmarkIsMissing();
  if (missing !== null) return { workload: name, reason: missing };
  const port = run.group.member(leader).respPort;
  const requests = Math.round(
    Math.min(RESP_REQUESTS_MAX, Math.max(RESP_REQUESTS_MIN, (putOpsPerSecond ?? 0) * flags.durationSeconds)),
  );
  const args = ['-p', String(port), '-t', 'set', '-n', String(requests), '-c', String(flags.clients)];
  args.push('-d', String(flags.valueBytes), '-r', String(flags.keys), '-q', '--csv');
  if (run.tls !== null) args.push('--tls', '--cacert', run.tls.ca);
  const durationMs = flags.durationSeconds * 1000;
  const startedMs = performance.now();
  const phase: Phase = {
    label: name,
    total: durationMs,
    current: () => performance.now() - startedMs,
    status: () => `redis-benchmark -n ${requests} -c ${flags.clients} on node ${leader}`,
  };
  run.stopProgress = stderrProgress()(phase);
  const output = await runChild(run, 'redis-benchmark', args, durationMs, false).finally(() => {
    run.stopProgress?.();
    run.stopProgress = null;
  });
  const parsed = parseRedisBenchmarkCsv(output.stdout);
  if (output.failure !== null || parsed === null) {
    const said = `${output.stderr}${output.stdout}`.trim().slice(0, 500) || 'no output';
    return { workload: name, reason: `redis-benchmark ${output.failure ?? 'printed no SET result'}: ${said}` };
  }
  run.notes.push(`${name}: redis-benchmark ${args.join(' ')} on the RESP port of node ${leader} (the leader)`);
  run.notes.push(`${name}: --csv gives no p90 or p99.9; it gives p95 ${parsed.p95Ms ?? '-'} ms`);
  return {
    workload: name,
    clients: flags.clients,
    ops: requests,
    opsPerSecond: parsed.requestsPerSecond,
    // redis-benchmark 7 exits with 1 at the first error reply, so one that finished saw none.
    errors: 0,
    latencyMs: { p50: parsed.p50Ms, p90: null, p99: parsed.p99Ms, p999: null, max: parsed.maxMs },
  };
}

/**
 * redis-benchmark 7's --csv: a header line
 * "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
 * and a line per test. Columns are found by name, so another version's order does not matter.
 */
function parseRedisBenchmarkCsv(stdout: string): RedisBenchmarkResult | null {
  const column = redisBenchmarkColumns(stdout, 'SET');
  const requestsPerSecond = column?.('rps') ?? null;
  if (column === null || requestsPerSecond === null) return null;
  return {
    requestsPerSecond,
    p50Ms: column('p50_latency_ms'),
    p95Ms: column('p95_latency_ms'),
    p99Ms: column('p99_latency_ms'),
    maxMs: column('max_latency_ms'),
  };
}

// ---------------------------------------------------------------------------
// The group

async function startGroup(withTls: boolean): Promise<BenchRun> {
  const tls = withTls ? await benchCertificates() : null;
  const group = await ProcessGroup.create(GROUP_SIZE, tls === null ? [] : tls.nodeFlags);
  const run: BenchRun = { group, child: null, stopProgress: null, closing: false, notes: [], tls };
  if (tls !== null) run.notes.push('TLS on every port, ECDSA P-256 certificates (raftkv certs)');
  installCleanup(run);
  process.stderr.write(`bench: starting ${GROUP_SIZE} nodes in ${group.directory}\n`);
  await group.startAll();
  for (const member of group.members.values()) {
    member.process?.once('exit', (code, signal) => {
      if (!run.closing) run.notes.push(`node ${member.id} exited during the run (${code ?? signal ?? '?'})`);
    });
  }
  return run;
}

/** A development CA and node certificate for the run, as `raftkv certs` makes them. */
async function benchCertificates(): Promise<{ directory: string; ca: string; nodeFlags: string[] }> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'raftkv-bench-tls-'));
  const files = await makeDevCertificates({ directory, certName: 'node', names: [] });
  return {
    directory,
    ca: files.ca,
    nodeFlags: ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca],
  };
}

/** The first put succeeds once some member leads; the client then knows which. */
async function waitForLeader(run: BenchRun): Promise<number> {
  const addresses = new Map(
    run.group.ids.map((id) => [id, { host: '127.0.0.1', port: run.group.member(id).peerPort }]),
  );
  const tls = run.tls === null ? {} : { tls: { ca: readFileSync(run.tls.ca, 'utf8') } };
  const channel = new TcpGroupChannel({ members: addresses, clusterId: run.group.clusterId, ...tls });
  const client = new KvClient({
    members: run.group.ids,
    channel,
    clock: realClientClock,
    clientId: `bench-leader-wait-${randomUUID()}`,
    random: Math.random,
  });
  const startedMs = performance.now();
  try {
    for (;;) {
      try {
        await client.put('bench-leader-wait', 'ok');
        break;
      } catch (error) {
        if (!(error instanceof ClientError) || performance.now() - startedMs > LEADER_WAIT_MS) throw error;
      }
    }
  } finally {
    client.close();
    channel.close();
  }
  const leader = client.knownLeader;
  if (leader === null) throw new Error('a put succeeded but the client knows no leader');
  process.stderr.write(`bench: node ${leader} leads after ${Math.round(performance.now() - startedMs)} ms\n`);
  return leader;
}

/** Stops the group and anything else the run started; safe to call more than once. */
async function closeRun(run: BenchRun): Promise<void> {
  run.closing = true;
  run.stopProgress?.();
  run.stopProgress = null;
  run.child?.kill('SIGKILL');
  // close() waits for each process's 'exit' event, which never comes again for a process that already
  // exited (Ctrl-C reaches the nodes too): forget those first, in the same tick, so no exit slips between.
  for (const member of run.group.members.values()) {
    const child = member.process;
    if (child !== null && (child.exitCode !== null || child.signalCode !== null)) member.process = null;
  }
  const closed = await Promise.race([
    run.group.close().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), GROUP_CLOSE_TIMEOUT_MS).unref()),
  ]);
  if (!closed) killGroupNow(run);
  if (run.tls !== null) rmSync(run.tls.directory, { recursive: true, force: true });
}

/** The last resort, synchronous so that it can run in an 'exit' handler. */
function killGroupNow(run: BenchRun): void {
  run.child?.kill('SIGKILL');
  for (const member of run.group.members.values()) {
    const child = member.process;
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  rmSync(run.group.directory, { recursive: true, force: true });
  if (run.tls !== null) rmSync(run.tls.directory, { recursive: true, force: true });
}

function installCleanup(run: BenchRun): void {
  const onSignal = (signal: NodeJS.Signals, exitCode: number): void => {
    if (run.closing) return;
    process.stderr.write(`\nbench: ${signal}, stopping the group\n`);
    process.exitCode = exitCode;
    void closeRun(run).finally(() => process.exit(exitCode));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('exit', () => killGroupNow(run));
}

// ---------------------------------------------------------------------------
// The benchmark

interface Outcomes {
  readonly reports: BenchReport[];
  readonly rows: TableRow[];
  readonly skipped: Skipped[];
}

async function runWorkloads(run: BenchRun, flags: BenchFlags, leader: number): Promise<Outcomes> {
  const outcomes: Outcomes = { reports: [], rows: [], skipped: [] };
  const collect = (result: BenchReport | Skipped): BenchReport | null => {
    if ('reason' in result) {
      outcomes.skipped.push(result);
      return null;
    }
    outcomes.reports.push(result);
    outcomes.rows.push(...result.results);
    return result;
  };
  // One client alone shows the latency of a write with nothing to batch it with.
  collect(await raftkvBench(run, flags, ['put'], 1));
  if (run.closing) return outcomes;
  const many = collect(await raftkvBench(run, flags, flags.workloads, flags.clients));
  if (run.closing) return outcomes;
  const putMany = many?.results.find((result) => result.workload === 'put');
  const resp = await respSetWorkload(run, flags, leader, putMany === undefined ? null : putMany.opsPerSecond);
  if ('reason' in resp) outcomes.skipped.push(resp);
  else outcomes.rows.push(resp);
  return outcomes;
}

function writeResults(document: object): string {
  const directory = path.resolve(import.meta.dirname, '..', 'bench-results');
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `group-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const run = await startGroup(flags.tls);
  try {
    const leader = await waitForLeader(run);
    const outcomes = await runWorkloads(run, flags, leader);
    // Cut short by a signal: the rows are partial, and the signal handler exits once the group is down.
    if (run.closing) return;
    const document = {
      date: new Date().toISOString(),
      flags,
      groupSize: GROUP_SIZE,
      leader,
      host: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length },
      raftkvBench: outcomes.reports,
      resp: outcomes.rows.filter((row) => row.workload === 'set over RESP'),
      skipped: outcomes.skipped,
      notes: run.notes,
    };
    const file = writeResults(document);
    const errors = formatErrorCodes(outcomes.reports.flatMap((report) => report.results));
    const skipped = outcomes.skipped.map((skip) => `${skip.workload}: skipped, ${skip.reason}`);
    console.log(flags.json ? JSON.stringify(document, null, 2) : [formatTable(outcomes.rows), ...errors].join('\n'));
    for (const line of [...skipped, ...run.notes]) process.stderr.write(`bench: ${line}\n`);
    process.stderr.write(`bench: results in ${path.relative(process.cwd(), file)}\n`);
  } catch (error) {
    if (run.closing) return;
    process.stderr.write(`bench: failed; the nodes said:\n${run.group.output.slice(-20).join('')}\n`);
    throw error;
  } finally {
    await closeRun(run);
  }
}

await main();
