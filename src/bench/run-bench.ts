/**
 * A whole benchmark against a reachable target: the workloads of the plan in
 * order, each a closed loop of `clients` clients for the duration, with the
 * load phase before the first workload that reads.
 */
import { ClientError } from '../client/errors.js';
import { SeededRandom } from '../sim/random.js';
import type { BenchTarget } from './bench-target.js';
import type { StopSignal } from './closed-loop.js';
import { runClosedLoop } from './closed-loop.js';
import { LatencyTally } from './latency-tally.js';
import { LoadPhase } from './load-phase.js';
import { benchKey, OperationStream } from './operation-stream.js';
import type { ProgressDisplay } from './progress.js';
import type { BenchPlan, BenchReport, LoadResult, WorkloadResult } from './report.js';
import { WORKLOADS } from './workloads.js';
import type { WorkloadSpec } from './workloads.js';
import { ZipfianShape } from './zipfian.js';

export interface BenchRunOptions {
  readonly target: BenchTarget;
  readonly plan: BenchPlan;
  /** A call with no answer after this long counts as a deadlineExceeded error. */
  readonly callDeadlineMs: number;
  readonly progress: ProgressDisplay;
  readonly stop: StopSignal;
}

/**
 * Null if the target answers a linearizable read within `timeoutMs` (so a
 * leader is there, and for a sharded cluster a config); else why not.
 */
export async function probeTarget(target: BenchTarget, timeoutMs: number): Promise<string | null> {
  const client = target.newClient(timeoutMs);
  try {
    await client.get(benchKey(0));
    return null;
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return error.message;
  } finally {
    client.close();
  }
}

export async function runBench(options: BenchRunOptions): Promise<BenchReport> {
  const { plan, stop } = options;
  const random = new SeededRandom(plan.seed);
  const results: WorkloadResult[] = [];
  let load: LoadResult | null = null;
  // Computing zeta(n) is a pass over the key count: once per run, not per workload.
  let zipfian: ZipfianShape | null = null;
  for (const name of plan.workloads) {
    // Forked whether or not the workload runs, so that one workload's streams do not depend on the others run.
    const workloadRandom = random.fork();
    if (stop.stopped) break;
    const spec = WORKLOADS[name];
    if (spec.needsLoad && load === null) {
      load = await loadKeys(options);
      if (stop.stopped) break;
    }
    if (spec.keyChoice === 'zipfian') zipfian ??= new ZipfianShape(plan.keys);
    results.push(await runWorkload(options, spec, zipfian, workloadRandom));
  }
  return { target: options.target.description, plan, load, results, interrupted: stop.stopped };
}

async function loadKeys(options: BenchRunOptions): Promise<LoadResult> {
  const { plan } = options;
  const phase = new LoadPhase({
    target: options.target,
    keyCount: plan.keys,
    clientCount: plan.clients,
    valueBytes: plan.valueBytes,
    callDeadlineMs: options.callDeadlineMs,
    stop: options.stop,
  });
  const startedMs = performance.now();
  const rate = (): number => phase.loaded / Math.max(0.001, (performance.now() - startedMs) / 1000);
  const stopProgress = options.progress({
    label: `load ${plan.keys} keys`,
    total: plan.keys,
    current: () => phase.loaded,
    status: () => `${phase.loaded}/${plan.keys} keys | ${Math.round(rate())} keys/s`,
  });
  try {
    const seconds = await phase.run();
    return { keys: phase.loaded, seconds, keysPerSecond: phase.loaded / seconds };
  } finally {
    stopProgress();
  }
}

async function runWorkload(
  options: BenchRunOptions,
  spec: WorkloadSpec,
  zipfian: ZipfianShape | null,
  random: SeededRandom,
): Promise<WorkloadResult> {
  const { plan } = options;
  const streams = Array.from(
    { length: plan.clients },
    () => new OperationStream(spec, plan.keys, zipfian, random.fork()),
  );
  const tally = new LatencyTally();
  const durationMs = plan.durationSeconds * 1000;
  const startedMs = performance.now();
  const elapsedMs = (): number => performance.now() - startedMs;
  const stopProgress = options.progress({
    label: `${spec.name}, ${plan.clients} client${plan.clients === 1 ? '' : 's'}`,
    total: durationMs,
    current: elapsedMs,
    status: () =>
      `${tally.ops} ops | ${Math.round(tally.ops / Math.max(0.001, elapsedMs() / 1000))} ops/s | ${tally.errors} errors`,
  });
  let seconds: number;
  try {
    seconds = await runClosedLoop(
      {
        target: options.target,
        streams,
        durationMs,
        valueBytes: plan.valueBytes,
        callDeadlineMs: options.callDeadlineMs,
        stop: options.stop,
      },
      tally,
    );
  } finally {
    stopProgress();
  }
  return {
    workload: spec.name,
    clients: plan.clients,
    ops: tally.ops,
    reads: tally.reads,
    puts: tally.puts,
    errors: tally.errors,
    errorsByCode: tally.errorsByCode,
    seconds,
    opsPerSecond: tally.ops / seconds,
    latencyMs: tally.latencyMs(),
  };
}
