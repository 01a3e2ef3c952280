/**
 * `npm run bench:memory`: whether a member's memory stays bounded under
 * sustained load (issue 6: no growth over a 10-minute run).
 *
 *   npm run bench:memory                              10 minutes, a sample every 10 s
 *   npm run bench:memory -- --minutes 2 --every 5
 *
 * Starts a group of three `raftkv node` processes and keeps redis-benchmark
 * SETs (64 clients, 256-byte values, 1,000,000 random keys) running against
 * the leader, one run after another: each run opens 64 new connections, so
 * new client ids keep arriving as well, as with real clients that come and go.
 * --reconnect makes every SET a connection of its own (redis-benchmark -k 0),
 * so every write is a new client id: the worst case for the dedup table.
 * Every --every seconds it reads each member's /metrics: resident memory,
 * V8 heap used, memory outside the heap (Buffers), and the writes done.
 * Prints a table of the samples and, per member, the first, middle and last
 * sample and the growth per minute over the second half (after the warm-up).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { formatTable } from '../src/cli/text-table.js';
import { ProcessGroup } from '../test/e2e/support/process-group.js';
import { groupLeader, memberMetrics, memberStatus } from './measure/group-http.js';

const USAGE = 'usage: npm run bench:memory -- [--minutes <n>] [--every <seconds>] [--reconnect]';
const GROUP_SIZE = 3;
const LEADER_WAIT_MS = 60_000;
/** Requests of one redis-benchmark run: a few seconds each at the rates this machine does. */
const REQUESTS_PER_RUN = 20_000;
const MIB = 2 ** 20;

interface Sample {
  readonly atSeconds: number;
  readonly member: number;
  readonly leads: boolean;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly externalMiB: number;
  readonly proposals: number;
}

/** redis-benchmark runs one after another until stop() is called. */
function sustainLoad(port: number, reconnect: boolean): { stop: () => Promise<void>; runs: () => number } {
  let stopped = false;
  let child: ChildProcess | null = null;
  let runs = 0;
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      const args = ['-h', '127.0.0.1', '-p', String(port), '-t', 'set', '-n', String(REQUESTS_PER_RUN)];
      const keepAlive = reconnect ? ['-k', '0'] : [];
      child = spawn('redis-benchmark', [...args, ...keepAlive, '-c', '64', '-d', '256', '-r', '1000000', '-q'], {
        stdio: 'ignore',
      });
      const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
      if (!stopped && code !== 0) throw new Error(`redis-benchmark exited with ${code}`);
      runs += 1;
    }
  })();
  return {
    runs: () => runs,
    stop: async () => {
      stopped = true;
      child?.kill('SIGKILL');
      await loop;
    },
  };
}

async function sample(group: ProcessGroup, atSeconds: number): Promise<Sample[]> {
  return Promise.all(
    group.ids.map(async (member) => {
      const { httpPort } = group.member(member);
      const [metrics, status] = await Promise.all([memberMetrics(httpPort), memberStatus(httpPort)]);
      const mib = (name: string): number => (metrics.get(name) ?? NaN) / MIB;
      return {
        atSeconds,
        member,
        leads: status?.role === 'leader',
        rssMiB: mib('process_resident_memory_bytes'),
        heapMiB: mib('nodejs_heap_size_used_bytes'),
        externalMiB: mib('nodejs_external_memory_bytes'),
        proposals: metrics.get('raftkv_raft_proposals_total') ?? 0,
      };
    }),
  );
}

/** MiB per minute, least squares over the samples given. */
function slopePerMinute(samples: readonly Sample[], value: (sample: Sample) => number): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanX = samples.reduce((sum, s) => sum + s.atSeconds, 0) / n;
  const meanY = samples.reduce((sum, s) => sum + value(s), 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.atSeconds - meanX) * (value(s) - meanY);
    den += (s.atSeconds - meanX) ** 2;
  }
  return (num / den) * 60;
}

function report(samples: readonly Sample[]): string {
  const f = (value: number): string => value.toFixed(1);
  const rows = samples.map((s) => [
    String(s.atSeconds),
    `${s.member}${s.leads ? ' (leader)' : ''}`,
    f(s.rssMiB),
    f(s.heapMiB),
    f(s.externalMiB),
    String(s.proposals),
  ]);
  const header = ['s', 'member', 'rss MiB', 'heap MiB', 'external MiB', 'proposals'];
  const lines = [formatTable([header, ...rows], (column) => (column === 1 ? 'left' : 'right')), ''];
  const members = [...new Set(samples.map((s) => s.member))];
  for (const member of members) {
    const own = samples.filter((s) => s.member === member);
    const [first, middle, last] = [own[0]!, own[Math.floor(own.length / 2)]!, own[own.length - 1]!];
    const late = own.slice(Math.floor(own.length / 2));
    lines.push(
      `member ${member}: rss ${f(first.rssMiB)} / ${f(middle.rssMiB)} / ${f(last.rssMiB)} MiB, ` +
        `heap ${f(first.heapMiB)} / ${f(middle.heapMiB)} / ${f(last.heapMiB)} MiB (start / middle / end); ` +
        `second half: rss ${f(slopePerMinute(late, (s) => s.rssMiB))} MiB/min, ` +
        `heap ${f(slopePerMinute(late, (s) => s.heapMiB))} MiB/min`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      every: { type: 'string', default: '10' },
      reconnect: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const minutes = Number(values.minutes);
  const everySeconds = Number(values.every);
  if (!(minutes > 0) || !(everySeconds > 0)) throw new Error(`--minutes and --every take positive numbers\n${USAGE}`);
  const group = await ProcessGroup.create(GROUP_SIZE, [], 'node', { http: true });
  process.once('SIGINT', () => void group.close().finally(() => process.exit(130)));
  try {
    await group.startAll();
    const leader = await groupLeader(group, LEADER_WAIT_MS);
    const load = sustainLoad(group.member(leader).respPort, values.reconnect);
    const samples: Sample[] = [];
    const startMs = performance.now();
    try {
      for (let at = 0; at <= minutes * 60; at += everySeconds) {
        const waitMs = startMs + at * 1000 - performance.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        samples.push(...(await sample(group, at).catch((error: unknown) => explainFailure(group, error))));
        // Proposals count on whichever member led at the time: the sum is the writes so far.
        const writes = samples.slice(-group.ids.length).reduce((sum, s) => sum + s.proposals, 0);
        process.stderr.write(`memory: ${at} s, ${load.runs()} redis-benchmark runs, ${writes} writes\n`);
      }
    } finally {
      await load.stop();
    }
    process.stdout.write(`${report(samples)}\n`);
  } finally {
    await group.close();
  }
}

/** A member stopped answering: what its stderr said is the useful part of the failure. */
function explainFailure(group: ProcessGroup, error: unknown): never {
  process.stderr.write(
    `memory: a member stopped answering; its output, last lines:\n${group.output.slice(-40).join('')}\n`,
  );
  throw error;
}

await main();
