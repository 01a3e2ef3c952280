/**
 * Where the machine's CPU went during a workload, from Linux perf, for
 * `npm run bench:compare -- --perf`.
 *
 * Why perf beside node --cpu-prof: V8's profiler samples wall-clock time on
 * the main thread only. Under load on this 2-core machine a node thread that
 * wakes another (a socket write, a thread-pool hand-over) is often preempted
 * by the thread it woke, and every sample taken while it waits for a core is
 * charged to the call it made, so writes and hand-overs look several times
 * dearer than they are; LevelDB's own threads, V8's GC helpers and the
 * kernel's work do not show at all. `perf record -a -e cpu-clock` samples
 * every CPU, so each sample is CPU really spent, by whichever process and
 * thread spent it, in the kernel or out of it.
 *
 * The breakdown sorts each sample of a raftkv node by the function it was in
 * (perf script's leaf symbol and the file it is in) into a few kinds of work.
 * It needs `perf` (Debian's linux-perf) and permission to sample every CPU.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** Samples per second per CPU: enough for percentages to a few tenths over 10 s, cheap enough not to skew them. */
const SAMPLES_PER_SECOND = 499;
/** perf writes its file when it stops; it needs a moment past SIGINT. */
const STOP_TIMEOUT_MS = 15_000;

export interface PerfProcess {
  readonly label: string;
  readonly pid: number | undefined;
  /** Whether its samples are sorted into kinds of work (the raftkv nodes), or only counted. */
  readonly brokenDown: boolean;
}

/** What each kind of work in the raftkv nodes is recognised by: the first rule that matches a sample wins. */
const KINDS: readonly { readonly kind: string; readonly matches: (symbol: string, file: string) => boolean }[] = [
  {
    kind: 'LevelDB (memtable, its log, compaction)',
    matches: (s, f) => /^(leveldb|snappy)::/.test(s) || /classic-level/.test(f),
  },
  {
    kind: 'V8 garbage collection',
    matches: (s) =>
      /^v8::internal::.*(Scaveng|Mark|Sweep|Evacuat|Compact|GCTracer|Heap::|MemoryChunk|PagedSpace|Collect)/.test(s),
  },
  { kind: 'V8 compiler', matches: (s) => /^v8::internal::(compiler|maglev|baseline)::/.test(s) },
  // Without node --perf-basic-prof, JIT-compiled code is in no file perf knows: [unknown] or an anonymous mapping.
  {
    kind: 'JavaScript (JIT-compiled)',
    matches: (s, f) => s.startsWith('JS:') || /^\[JIT\]|perf-\d+\.map|unknown|anon/.test(f),
  },
  { kind: 'V8 builtins (property loads, calls, typed arrays)', matches: (s) => s.startsWith('Builtins_') },
  { kind: 'V8, Node and libuv in C++', matches: (_s, f) => f.endsWith('/node') },
  {
    kind: 'libc: malloc, free, memory copies and compares',
    matches: (s) => /malloc|free|_int_|consolidate|unlink_chunk|mem(cpy|move|set|cmp)/.test(s),
  },
  {
    kind: 'kernel: disk writes (ext4, block layer, virtio)',
    matches: (s, f) =>
      isKernel(f) &&
      /ext4|jbd2|blk_|bio|iowrite|ioread|virtio|vring|folio|filemap|block_|generic_perform_write|_page/.test(s),
  },
  {
    kind: 'kernel: loopback TCP, soft interrupts',
    matches: (s, f) =>
      isKernel(f) &&
      /tcp|sock|skb|inet|^ip_|__ip_|net_|netif|softirq|loopback|dev_queue|eth_|_copy_(to|from)_iter/.test(s),
  },
  {
    kind: 'kernel: scheduling and wake-ups',
    matches: (s, f) =>
      isKernel(f) &&
      /task_switch|wake|schedule|futex|spin_unlock|irqentry|sysvec|ipi|enqueue|dequeue|epoll|ep_poll|pick_next|update_curr/.test(
        s,
      ),
  },
  { kind: 'kernel: other', matches: (_s, f) => isKernel(f) },
];
const OTHER_KIND = 'other native code';

function isKernel(file: string): boolean {
  return file.includes('kernel');
}

export interface PerfBreakdown {
  readonly seconds: number;
  readonly samples: number;
  /** Share of every sample (all CPUs) by process label, then 'idle', 'kernel threads' and 'other processes'. */
  readonly byProcess: ReadonlyMap<string, number>;
  /** Per broken-down process label: share of that process's samples by kind of work. */
  readonly byKind: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** A running `perf record` of every CPU; stop() ends it and writes its file. */
export class PerfRecording {
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
    private readonly startedMs: number,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Throws, saying what to install, where perf is missing. */
  static start(file: string): PerfRecording {
    if (spawnSync('sh', ['-c', 'command -v perf'], { stdio: 'ignore' }).status !== 0) {
      throw new Error('--perf needs perf on PATH: apt-get install linux-perf');
    }
    const args = ['record', '-a', '-e', 'cpu-clock', '-F', String(SAMPLES_PER_SECOND), '-o', file, '--quiet'];
    const child = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return new PerfRecording(child, file, Date.now());
  }

  /** Stops the recording; answers the seconds it covered. */
  async stop(): Promise<number> {
    const seconds = (Date.now() - this.startedMs) / 1000;
    this.child.kill('SIGINT');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
    const code = await Promise.race([this.exited, timeout]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`perf record did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGINT`);
    }
    return seconds;
  }

  /** Ends the recording at once, its file unfinished (on the way out of an interrupted run). */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** The samples as `perf script` prints them: comm, pid, address, symbol and file, one sample a line. */
  script(): string {
    const result = spawnSync('perf', ['script', '-i', this.file, '-F', 'comm,pid,ip,sym,dso'], {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    if (result.status !== 0) throw new Error(`perf script failed: ${result.stderr.slice(0, 500)}`);
    return result.stdout;
  }
}

/** One line of `perf script -F comm,pid,ip,sym,dso`: "redis-benchmark  9750 ffffffff81 tcp_ack ([kernel.kallsyms])". */
const SAMPLE_LINE = /^\s*(.+?)\s+(\d+)\s+[0-9a-f]+\s+(.*?)\s*\(([^()]*)\)\s*$/;

/** Sorts perf script's samples by process and, for the raftkv nodes, by kind of work. */
export function perfBreakdown(script: string, processes: readonly PerfProcess[], seconds: number): PerfBreakdown {
  const labelOf = new Map<number, PerfProcess>();
  for (const process of processes) if (process.pid !== undefined) labelOf.set(process.pid, process);
  const processCounts = new Map<string, number>();
  // In the order given, so that the table's columns are.
  const kindCounts = new Map<string, Map<string, number>>(
    processes.filter((process) => process.brokenDown).map((process) => [process.label, new Map<string, number>()]),
  );
  let samples = 0;
  for (const line of script.split('\n')) {
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const [, comm, pidText, symbol, file] = match as unknown as [string, string, string, string, string];
    samples += 1;
    const pid = Number(pidText);
    const known = labelOf.get(pid);
    const label =
      known?.label ??
      (pid === 0
        ? 'idle'
        : comm.startsWith('kworker') || comm.startsWith('jbd2') || comm.startsWith('ksoftirqd')
          ? 'kernel threads'
          : comm);
    processCounts.set(label, (processCounts.get(label) ?? 0) + 1);
    if (known?.brokenDown !== true) continue;
    const kind = KINDS.find((rule) => rule.matches(symbol, file))?.kind ?? OTHER_KIND;
    const counts = kindCounts.get(label)!;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const share = (count: number, of: number): number => (of === 0 ? 0 : count / of);
  const byProcess = new Map(
    [...processCounts].sort((a, b) => b[1] - a[1]).map(([label, n]) => [label, share(n, samples)]),
  );
  const byKind = new Map(
    [...kindCounts].map(([label, counts]) => {
      const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
      return [label, new Map([...counts].map(([kind, n]) => [kind, share(n, total)]))] as const;
    }),
  );
  return { seconds, samples, byProcess, byKind };
}

/** Two tables: the machine's CPU by process, and each raftkv node's by kind of work. */
export function formatPerfBreakdown(title: string, breakdown: PerfBreakdown, cpus: number): string {
  const percent = (value: number | undefined): string => `${(100 * (value ?? 0)).toFixed(1)}%`;
  const lines = [
    `${title}: where the ${cpus} CPUs went (perf, ${breakdown.samples} samples over ${breakdown.seconds.toFixed(1)} s)`,
  ];
  const processWidth = Math.max(8, ...[...breakdown.byProcess.keys()].map((label) => label.length));
  lines.push(`  ${'process'.padEnd(processWidth)}  share of all CPUs`);
  // Processes under half a percent are left out: perf itself, shells, the bench script.
  for (const [label, value] of breakdown.byProcess) {
    if (value >= 0.005) lines.push(`  ${label.padEnd(processWidth)}  ${percent(value).padStart(17)}`);
  }
  const nodes = [...breakdown.byKind.keys()];
  if (nodes.length === 0) return lines.join('\n');
  const kinds = [...KINDS.map((rule) => rule.kind), OTHER_KIND];
  const kindWidth = Math.max(...kinds.map((kind) => kind.length));
  const columnWidth = Math.max(...nodes.map((label) => label.length)) + 2;
  lines.push(
    `  ${"share of each node's CPU".padEnd(kindWidth)}${nodes.map((label) => label.padStart(columnWidth)).join('')}`,
  );
  for (const kind of kinds) {
    const values = nodes.map((label) => breakdown.byKind.get(label)?.get(kind));
    if (values.every((value) => value === undefined)) continue;
    lines.push(`  ${kind.padEnd(kindWidth)}${values.map((value) => percent(value).padStart(columnWidth)).join('')}`);
  }
  return lines.join('\n');
}
