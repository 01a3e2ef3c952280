/**
 * One chaos run, as `npm run test:chaos` and the short test in `npm test`
 * both make it: start the cluster, start the clients, let the nemesis work
 * for the duration, stop the clients, read every key back, and check the
 * history. Answers everything the report prints; closes the cluster.
 */
import type { CheckResult } from '../../support/linearizability.js';
import { checkKvHistory } from '../../support/linearizability.js';
import { lostOrDuplicatedAppends } from '../support/e2e-workload.js';
import type { FaultKind } from './chaos-faults.js';
import type { MemberExit } from './chaos-cluster.js';
import { ChaosCluster } from './chaos-cluster.js';
import type { WorkloadCounts } from './chaos-workload.js';
import { ChaosWorkload } from './chaos-workload.js';
import type { FaultRecord } from './nemesis.js';
import { runNemesis } from './nemesis.js';
import { RecoveryProbe } from './recovery-probe.js';
import { SeededRandom } from '../../../src/sim/random.js';

export interface ChaosOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly kinds: readonly FaultKind[];
  /** Rounds of every kind to complete even past the duration (the short test asks for one). */
  readonly roundsMin: number;
  readonly clients: number;
  readonly log: (line: string) => void;
}

export interface ChaosResult {
  readonly options: ChaosOptions;
  readonly elapsedSeconds: number;
  readonly counts: WorkloadCounts;
  readonly faults: readonly FaultRecord[];
  readonly linearizability: CheckResult;
  readonly keysChecked: number;
  readonly acknowledgedAppends: number;
  /** Acknowledged appends missing from (or doubled in) the final values, and unacknowledged ones doubled. */
  readonly lostOrDuplicated: readonly string[];
  readonly unexpectedErrors: readonly string[];
  /** Members that exited without being killed: with code 74 while a disk fault broke their disk, or not. */
  readonly memberExits: readonly MemberExit[];
  /** Set when the run broke off (the cluster could not start, a final read gave up): the reason. */
  readonly aborted: string | null;
  /** The last lines of every node's log, kept for a failed run's report. */
  readonly logsTail: string;
}

/** Short deadlines for the recovery probe: each try fails fast, so the measure is close to the truth. */
const PROBE_DEADLINE_MS = 2_000;
const PROBE_ATTEMPT_TIMEOUT_MS = 500;
const ADMIN_DEADLINE_MS = 30_000;
/** The final read waits out whatever the last fault left behind. */
const FINAL_READ_DEADLINE_MS = 60_000;
const LOG_LINES_PER_NODE = 15;

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const startMs = performance.now();
  const cluster = await ChaosCluster.create();
  // The clients' draws come from the seed too, though real processes make their timing differ per run.
  const workloadRandom = new SeededRandom(options.seed + 1);
  const workload = new ChaosWorkload(
    options.clients,
    (deadlineMs, attemptTimeoutMs) => cluster.shardedClient(deadlineMs, attemptTimeoutMs),
    () => workloadRandom.next(),
  );
  let faults: FaultRecord[] = [];
  let aborted: string | null = null;
  let finalValues = new Map<string, string>();
  try {
    options.log(`starting 3 meta nodes and 2 shard groups of 3 (${cluster.proxy.linkCount} proxied peer links)`);
    await cluster.start();
    workload.start();
    options.log(`${options.clients} clients running; the nemesis starts (seed ${options.seed})`);
    const newProbe = (): RecoveryProbe =>
      new RecoveryProbe(
        cluster.metaClient(PROBE_DEADLINE_MS),
        cluster.shardedClient(PROBE_DEADLINE_MS, PROBE_ATTEMPT_TIMEOUT_MS),
        cluster.shardGroups.map((group) => group.gid),
      );
    faults = await runNemesis({
      seed: options.seed,
      kinds: options.kinds,
      durationMs: options.durationMs,
      roundsMin: options.roundsMin,
      context: { cluster, meta: cluster.metaClient(ADMIN_DEADLINE_MS) },
      probe: newProbe(),
      probeDuringFault: newProbe(),
      log: options.log,
    });
    options.log('the nemesis is done; stopping the clients and reading every key back');
    await workload.stop();
    finalValues = await workload.finalRead(FINAL_READ_DEADLINE_MS);
  } catch (error) {
    aborted = error instanceof Error ? error.message : String(error);
    await workload.stop();
  } finally {
    await cluster.close().catch(() => undefined);
  }
  const logsTail = cluster.logsTail(LOG_LINES_PER_NODE);
  options.log('checking the history');
  return {
    options,
    elapsedSeconds: (performance.now() - startMs) / 1000,
    counts: workload.counts,
    faults,
    linearizability: checkKvHistory(workload.history),
    keysChecked: new Set(workload.history.map((operation) => operation.input.key)).size,
    acknowledgedAppends: workload.appends.filter((append) => append.acknowledged).length,
    lostOrDuplicated: aborted === null ? lostOrDuplicatedAppends(workload.appends, finalValues) : [],
    unexpectedErrors: workload.unexpectedErrors,
    memberExits: [...cluster.exits],
    aborted,
    logsTail,
  };
}
