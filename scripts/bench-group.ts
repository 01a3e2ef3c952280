/**
 * `npm run bench`: throughput and latency of one replica group, three real
 * `raftkv node` processes on loopback. Each workload is a closed loop: every
 * client sends its next request when the last one answered, for a fixed time.
 * Latencies go into an HDR histogram (microseconds, three significant
 * digits); a table goes to stdout and the full results, as JSON, to
 * bench-results/.
 *
 *   npm run bench                                   10 s per workload
 *   npm run bench -- --duration 5 --clients 32      shorter, fewer clients
 *   npm run bench -- --value-bytes 1024 --json      bigger values, JSON on stdout
 *
 * The numbers are of one machine running the group, the clients and the
 * benchmark at once: compare runs on the same machine, not across machines.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import type { Histogram } from 'hdr-histogram-js';
import { build as buildHistogram } from 'hdr-histogram-js';
import { realClientClock } from '../src/client/channel.js';
import { ClientError } from '../src/client/errors.js';
import { KvClient } from '../src/client/kv-client.js';
import { TcpGroupChannel } from '../src/client/tcp-channel.js';
import { VALUE_BYTES_MAX } from '../src/kv/commands.js';
import { CALLS_IN_FLIGHT_MAX_DEFAULT } from '../src/transport/index.js';
import { ProcessGroup } from '../test/e2e/support/process-group.js';

const USAGE = `usage: npm run bench -- [--duration <s>] [--clients <n>] [--value-bytes <n>] [--json]

  --duration <s>       seconds per workload (default 10)
  --clients <n>        clients of the many-client workloads (default 64)
  --value-bytes <n>    bytes of each value written (default 256)
  --json               print the results as JSON instead of a table`;

const GROUP_SIZE = 3;
/** Keys are 'k' and seven digits: 8 bytes, 100k of them, as redis-benchmark's -r 100000. */
const KEY_SPACE = 100_000;
const DURATION_SECONDS_DEFAULT = 10;
const DURATION_SECONDS_MAX = 3_600;
const CLIENTS_DEFAULT = 64;
/** All clients share one connection per member, and a connection refuses calls past this many in flight. */
const CLIENTS_MAX = CALLS_IN_FLIGHT_MAX_DEFAULT;
const VALUE_BYTES_DEFAULT = 256;
/** Long enough to ride out an election, short enough that a stall shows as errors within a run. */
const CLIENT_DEADLINE_MS = 5_000;
/** A fresh group elects its first leader well within this, or something is wrong. */
const LEADER_WAIT_MS = 30_000;
/** The histogram's range; a longer call still counts, it is only recorded at this value. */
const LATENCY_US_MAX = 60_000_000;
const PROGRESS_INTERVAL_MS = 200;
/** redis-benchmark stops after a request count, not a time: it is sized from the KV put rate, within these. */
const RESP_REQUESTS_MIN = 1_000;
const RESP_REQUESTS_MAX = 10_000_000;
/** redis-benchmark is killed if it runs this many times longer than a workload should. */
const RESP_OVERRUN_FACTOR = 5;
/** ProcessGroup.close() should take well under this; past it the processes are killed and removed by hand. */
const GROUP_CLOSE_TIMEOUT_MS = 5_000;
const NAME_COLUMN_CHARS = 30;

interface BenchFlags {
  readonly durationSeconds: number;
  readonly clients: number;
  readonly valueBytes: number;
  readonly json: boolean;
}

interface LatencyPercentilesMs {
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly p999: number | null;
}

interface BenchRow {
  readonly workload: string;
  readonly clients: number;
  /** Calls that succeeded. */
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly latencyMs: LatencyPercentilesMs;
  /** Calls that failed. */
  readonly errors: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
}

type WorkloadOutcome =
  | { readonly status: 'ran'; readonly row: BenchRow }
  | { readonly status: 'skipped'; readonly workload: string; readonly reason: string };

/** What a call of a workload came to; a failed call that threw is counted by its ClientError code instead. */
type CallOutcome = 'ok' | 'missingValue';

/** Everything a run holds that must be released on the way out, however it ends. */
interface BenchRun {
  readonly group: ProcessGroup;
  readonly channel: TcpGroupChannel;
  readonly members: readonly number[];
  /** Which keys some put wrote, for the reads to ask for. */
  readonly written: WrittenKeys;
  leader: number | null;
  /** A workload's external tool, killed if the run is cut short. */
  child: ChildProcess | null;
  stopProgress: (() => void) | null;
  closing: boolean;
  readonly notes: string[];
}

// ---------------------------------------------------------------------------
// Flags

function parseFlags(argv: readonly string[]): BenchFlags {
  const values = parseFlagValues(argv);
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    durationSeconds: integerFlag('--duration', values.duration, DURATION_SECONDS_DEFAULT, 1, DURATION_SECONDS_MAX),
    clients: integerFlag('--clients', values.clients, CLIENTS_DEFAULT, 1, CLIENTS_MAX),
    valueBytes: integerFlag('--value-bytes', values['value-bytes'], VALUE_BYTES_DEFAULT, 1, VALUE_BYTES_MAX),
    json: values.json,
  };
}

function parseFlagValues(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string' },
        clients: { type: 'string' },
        'value-bytes': { type: 'string' },
        json: { type: 'boolean', default: false },
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

function integerFlag(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    console.error(`${name} takes a whole number from ${min} to ${max}, got "${text}"\n\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

// ---------------------------------------------------------------------------
// Keys and latencies

function keyBytes(index: number): Uint8Array {
  return Buffer.from(`k${String(index).padStart(7, '0')}`, 'latin1');
}

class WrittenKeys {
  private readonly seen = new Uint8Array(KEY_SPACE);
  private readonly indexes: number[] = [];

  get size(): number {
    return this.indexes.length;
  }

  add(index: number): void {
    if (this.seen[index] === 1) return;
    this.seen[index] = 1;
    this.indexes.push(index);
  }

  pick(): number {
    if (this.indexes.length === 0) throw new Error('WrittenKeys.pick: no key was written yet');
    return this.indexes[Math.floor(Math.random() * this.indexes.length)]!;
  }
}

/** Successes with their latencies, and failures by code, of one workload. */
class Tally {
  ops = 0;
  errors = 0;
  readonly errorsByCode: Record<string, number> = {};
  private readonly histogram: Histogram = buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_US_MAX,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });

  succeeded(latencyMs: number): void {
    this.ops += 1;
    this.histogram.recordValue(Math.min(LATENCY_US_MAX, Math.max(1, Math.round(latencyMs * 1000))));
  }

  failed(code: string): void {
    this.errors += 1;
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
  }

  percentilesMs(): LatencyPercentilesMs {
    if (this.ops === 0) return { p50: null, p90: null, p99: null, p999: null };
    const at = (percentile: number): number => this.histogram.getValueAtPercentile(percentile) / 1000;
    return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9) };
  }
}

// ---------------------------------------------------------------------------
// Progress on stderr

/** A bar over the workload's duration while it runs; returns the function that stops it. */
function startProgress(name: string, durationMs: number, status: () => string): () => void {
  if (!process.stderr.isTTY) {
    process.stderr.write(`bench: ${name} for ${durationMs / 1000} s\n`);
    return () => process.stderr.write(`bench: ${name}: ${status()}\n`);
  }
  const bar = new SingleBar(
    {
      format: `${name.padEnd(NAME_COLUMN_CHARS)} {bar} {seconds} s | {status}`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const startedMs = performance.now();
  const payload = (): { seconds: string; status: string } => ({
    seconds: ((performance.now() - startedMs) / 1000).toFixed(1),
    status: status(),
  });
  bar.start(durationMs, 0, payload());
  const timer = setInterval(
    () => bar.update(Math.min(durationMs, performance.now() - startedMs), payload()),
    PROGRESS_INTERVAL_MS,
  );
  return () => {
    clearInterval(timer);
    bar.update(Math.min(durationMs, performance.now() - startedMs), payload());
    bar.stop();
  };
}

function withProgress<T>(
  run: BenchRun,
  name: string,
  durationMs: number,
  status: () => string,
  work: Promise<T>,
): Promise<T> {
  run.stopProgress = startProgress(name, durationMs, status);
  const stop = (): void => {
    run.stopProgress?.();
    run.stopProgress = null;
  };
  return work.finally(stop);
}

// ---------------------------------------------------------------------------
// KV workloads through the client library

function makeClients(run: BenchRun, count: number, label: string): KvClient[] {
  return Array.from(
    { length: count },
    (_, k) =>
      new KvClient({
        members: run.members,
        channel: run.channel,
        clock: realClientClock,
        clientId: `bench-${label}-${k}-${randomUUID()}`,
        random: Math.random,
        deadlineMs: CLIENT_DEADLINE_MS,
      }),
  );
}

type Call = (client: KvClient, value: Uint8Array) => Promise<CallOutcome>;

/** Each client calls `call` again as soon as its last call settled, until `durationMs` passed. */
async function closedLoop(
  run: BenchRun,
  name: string,
  clientCount: number,
  flags: BenchFlags,
  call: Call,
): Promise<BenchRow> {
  const clients = makeClients(run, clientCount, name.replace(/\W+/g, '-'));
  const tally = new Tally();
  const durationMs = flags.durationSeconds * 1000;
  const startedMs = performance.now();
  const endsAtMs = startedMs + durationMs;
  const loop = async (client: KvClient): Promise<void> => {
    const value = randomBytes(flags.valueBytes);
    while (performance.now() < endsAtMs && !run.closing) {
      const callStartedMs = performance.now();
      try {
        const outcome = await call(client, value);
        if (outcome === 'ok') tally.succeeded(performance.now() - callStartedMs);
        else tally.failed(outcome);
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        tally.failed(error.code);
      }
    }
  };
  const status = (): string => {
    const seconds = Math.max(0.001, (performance.now() - startedMs) / 1000);
    return `${tally.ops} ops | ${Math.round(tally.ops / seconds)} ops/s | ${tally.errors} errors`;
  };
  const label = `${name}, ${clientCount} client${clientCount === 1 ? '' : 's'}`;
  await withProgress(run, label, durationMs, status, Promise.all(clients.map(loop)));
  // Calls in flight at the end are waited for, and the time they took is part of the run.
  const seconds = (performance.now() - startedMs) / 1000;
  for (const client of clients) client.close();
  return {
    workload: name,
    clients: clientCount,
    ops: tally.ops,
    seconds,
    opsPerSecond: tally.ops / seconds,
    latencyMs: tally.percentilesMs(),
    errors: tally.errors,
    errorsByCode: tally.errorsByCode,
    notes: [],
  };
}

function putCall(run: BenchRun): Call {
  return async (client, value) => {
    const index = Math.floor(Math.random() * KEY_SPACE);
    await client.put(keyBytes(index), value);
    run.written.add(index);
    return 'ok';
  };
}

/** A linearizable read of a key some put wrote: it must be there. */
function getCall(run: BenchRun): Call {
  return async (client) => {
    const value = await client.get(keyBytes(run.written.pick()));
    return value === null ? 'missingValue' : 'ok';
  };
}

// ---------------------------------------------------------------------------
// SET over RESP through redis-benchmark

interface RedisBenchmarkResult {
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencyPercentilesMs;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

function whyRedisBenchmarkIsMissing(): string | null {
  const probe = spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' });
  if (probe.error === undefined) return null;
  return (probe.error as NodeJS.ErrnoException).code === 'ENOENT'
    ? 'redis-benchmark is not on PATH (it comes with the redis-tools or redis package)'
    : `redis-benchmark --version failed: ${probe.error.message}`;
}

async function respSetWorkload(
  run: BenchRun,
  flags: BenchFlags,
  putOpsPerSecond: number | null,
): Promise<WorkloadOutcome> {
  const name = 'set over RESP';
  const missing = whyRedisBenchmarkIsMissing();
  if (missing !== null) return { status: 'skipped', workload: name, reason: missing };
  const memberId = run.leader ?? run.members[0]!;
  const port = run.group.member(memberId).respPort;
  const requests = Math.round(
    Math.min(RESP_REQUESTS_MAX, Math.max(RESP_REQUESTS_MIN, (putOpsPerSecond ?? 0) * flags.durationSeconds)),
  );
  const args = ['-p', String(port), '-t', 'set', '-n', String(requests), '-c', String(flags.clients)];
  args.push('-d', String(flags.valueBytes), '-r', String(KEY_SPACE), '-q', '--csv');
  const startedMs = performance.now();
  const status = (): string => `redis-benchmark -n ${requests} -c ${flags.clients} on node ${memberId}`;
  const durationMs = flags.durationSeconds * 1000;
  const output = await withProgress(run, name, durationMs, status, runTool(run, 'redis-benchmark', args, durationMs));
  const seconds = (performance.now() - startedMs) / 1000;
  const parsed = parseRedisBenchmarkCsv(output.stdout);
  if (output.failure !== null || parsed === null) {
    const said = `${output.stderr}${output.stdout}`.trim().slice(0, 500) || 'no output';
    const what = output.failure ?? 'printed no SET result';
    return { status: 'skipped', workload: name, reason: `redis-benchmark ${what}: ${said}` };
  }
  const notes = [
    `redis-benchmark ${args.join(' ')}`,
    `RESP port of node ${memberId}${run.leader === memberId ? ' (the leader)' : ''}`,
    `--csv gives no p90 or p99.9; it gives p95 ${parsed.p95Ms ?? '-'} ms and max ${parsed.maxMs ?? '-'} ms`,
    ...output.stderr.split('\n').filter((line) => line.trim() !== ''),
  ];
  const row: BenchRow = {
    workload: name,
    clients: flags.clients,
    ops: requests,
    seconds,
    opsPerSecond: parsed.requestsPerSecond,
    latencyMs: parsed.latencyMs,
    // redis-benchmark 7 exits with 1 at the first error reply, so one that finished saw none.
    errors: 0,
    errorsByCode: {},
    notes,
  };
  return { status: 'ran', row };
}

interface ToolOutput {
  /** Null when the tool exited with 0; else what went wrong, to follow the tool's name in a sentence. */
  readonly failure: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` to completion, killing it if it runs far longer than `expectedMs`. */
function runTool(run: BenchRun, command: string, args: readonly string[], expectedMs: number): Promise<ToolOutput> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    run.child = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const overrunMs = expectedMs * RESP_OVERRUN_FACTOR + 30_000;
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

/**
 * redis-benchmark 7's --csv: a header line
 * "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
 * and a line per test. Columns are found by name, so another version's order does not matter.
 */
function parseRedisBenchmarkCsv(stdout: string): RedisBenchmarkResult | null {
  const rows = stdout
    .split(/\r?\n|\r/)
    .filter((line) => line.startsWith('"'))
    .map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
  const header = rows.find((cells) => cells[0] === 'test');
  const set = rows.find((cells) => cells[0]?.toUpperCase() === 'SET');
  if (header === undefined || set === undefined) return null;
  const column = (name: string): number | null => {
    const at = header.indexOf(name);
    const value = at < 0 ? NaN : Number(set[at]);
    return Number.isFinite(value) ? value : null;
  };
  const requestsPerSecond = column('rps');
  if (requestsPerSecond === null) return null;
  return {
    requestsPerSecond,
    latencyMs: { p50: column('p50_latency_ms'), p90: null, p99: column('p99_latency_ms'), p999: null },
    p95Ms: column('p95_latency_ms'),
    maxMs: column('max_latency_ms'),
  };
}

// ---------------------------------------------------------------------------
// The group

async function startGroup(): Promise<BenchRun> {
  const group = await ProcessGroup.create(GROUP_SIZE);
  const addresses = new Map([...group.members.values()].map((m) => [m.id, { host: '127.0.0.1', port: m.peerPort }]));
  const run: BenchRun = {
    group,
    channel: new TcpGroupChannel({ members: addresses, clusterId: group.clusterId }),
    members: group.ids,
    written: new WrittenKeys(),
    leader: null,
    child: null,
    stopProgress: null,
    closing: false,
    notes: [],
  };
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

/** The first put succeeds once some member leads; the client then knows which. */
async function waitForLeader(run: BenchRun): Promise<number> {
  const startedMs = performance.now();
  const [client] = makeClients(run, 1, 'leader-wait');
  try {
    for (;;) {
      try {
        await client!.put('bench-leader-wait', 'ok');
        break;
      } catch (error) {
        if (!(error instanceof ClientError) || performance.now() - startedMs > LEADER_WAIT_MS) throw error;
      }
    }
  } finally {
    client!.close();
  }
  const leader = client!.knownLeader;
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
  run.channel.close();
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
}

/** The last resort, synchronous so that it can run in an 'exit' handler. */
function killGroupNow(run: BenchRun): void {
  run.child?.kill('SIGKILL');
  for (const member of run.group.members.values()) {
    const child = member.process;
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  rmSync(run.group.directory, { recursive: true, force: true });
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

async function runWorkloads(run: BenchRun, flags: BenchFlags): Promise<WorkloadOutcome[]> {
  const outcomes: WorkloadOutcome[] = [];
  const ran = (row: BenchRow): BenchRow => {
    outcomes.push({ status: 'ran', row });
    return row;
  };
  ran(await closedLoop(run, 'put', 1, flags, putCall(run)));
  const putMany = ran(await closedLoop(run, 'put', flags.clients, flags, putCall(run)));
  if (run.closing) return outcomes;
  if (run.written.size === 0) {
    outcomes.push({ status: 'skipped', workload: 'get (linearizable)', reason: 'no put succeeded' });
  } else {
    ran(await closedLoop(run, 'get (linearizable)', flags.clients, flags, getCall(run)));
  }
  if (run.closing) return outcomes;
  outcomes.push(await respSetWorkload(run, flags, putMany.ops === 0 ? null : putMany.opsPerSecond));
  return outcomes;
}

function formatTable(outcomes: readonly WorkloadOutcome[]): string {
  const number = (value: number | null, digits: number): string => (value === null ? '-' : value.toFixed(digits));
  const header = ['workload', 'clients', 'ops', 'ops/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'errors'];
  const lines: string[][] = [header];
  const skipped: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'skipped') {
      skipped.push(`${outcome.workload}: skipped, ${outcome.reason}`);
      continue;
    }
    const { row } = outcome;
    const { p50, p90, p99, p999 } = row.latencyMs;
    lines.push([
      row.workload,
      String(row.clients),
      String(row.ops),
      number(row.opsPerSecond, 0),
      number(p50, 2),
      number(p90, 2),
      number(p99, 2),
      number(p999, 2),
      String(row.errors),
    ]);
  }
  const widths = header.map((_, column) => Math.max(...lines.map((cells) => cells[column]!.length)));
  const aligned = lines.map((cells) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join('  '),
  );
  return [...aligned, ...skipped].join('\n');
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
  const run = await startGroup();
  try {
    run.leader = await waitForLeader(run);
    const outcomes = await runWorkloads(run, flags);
    // Cut short by a signal: the rows are partial, and the signal handler exits once the group is down.
    if (run.closing) return;
    const document = {
      date: new Date().toISOString(),
      flags,
      keySpace: KEY_SPACE,
      groupSize: GROUP_SIZE,
      leader: run.leader,
      host: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length },
      results: outcomes,
      notes: run.notes,
    };
    const file = writeResults(document);
    console.log(flags.json ? JSON.stringify(document, null, 2) : formatTable(outcomes));
    for (const note of run.notes) process.stderr.write(`bench: ${note}\n`);
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
