/**
 * `raftkv bench`: throughput and latency of a running cluster (--meta) or
 * replica group (--members) under closed-loop workloads, as a table or JSON.
 * The engine is src/bench/; this file turns flags into a plan and the report
 * into output and an exit code.
 */
import os from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { TargetAddresses, TargetCluster } from '../bench/bench-target.js';
import { connectTarget } from '../bench/bench-target.js';
import { LoadFailedError } from '../bench/load-phase.js';
import {
  CLIENTS_MAX,
  DURATION_SECONDS_MAX,
  KEYS_MAX,
  PLAN_DEFAULTS,
  VALUE_BYTES_PLAN_MAX,
} from '../bench/plan-limits.js';
import { stderrProgress } from '../bench/progress.js';
import type { BenchPlan, BenchReport } from '../bench/report.js';
import { formatErrorCodes, formatJson, formatTable } from '../bench/report.js';
import { probeTarget, runBench } from '../bench/run-bench.js';
import type { WorkloadName } from '../bench/workloads.js';
import { parseWorkloadList, WORKLOAD_NAMES, WORKLOADS } from '../bench/workloads.js';
import type { HostPort } from './options.js';
import { integerOption, membersOption } from './options.js';
import { CLIENT_TOKEN_HELP, clientToken } from './token-flags.js';
import { clientTlsOrExit, withClientTlsFlags } from './tls-flags.js';

/** Exit code when the cluster cannot be reached or the keys cannot be loaded (flag errors exit with 1, as commander does). */
const EXIT_UNREACHABLE = 2;
const EXIT_INTERRUPTED = 130;

const EXAMPLE_MEMBERS = '1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003';
const EXAMPLE_META = '1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103';

function workloadOption(value: string, previous: WorkloadName[] | undefined): WorkloadName[] {
  try {
    const names = parseWorkloadList([value]);
    return [...(previous ?? []), ...names.filter((name) => !previous?.includes(name))];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

const WORKLOAD_HELP = WORKLOAD_NAMES.map((name) => `  ${name.padEnd(8)} ${WORKLOADS[name].description}`).join('\n');

export function addBenchCommand(program: Command): void {
  const command = withClientTlsFlags(
    program
      .command('bench')
      .description('measure throughput and latency of a running cluster with closed-loop workloads')
      .option(
        '--meta <list>',
        'a sharded cluster, by its meta group: 1=host:port,2=host:port,...',
        membersOption('--meta'),
      )
      .option('--members <list>', 'or one replica group, by its members: 1=host:port,...', membersOption('--members'))
      .option('--cluster-id <name>', 'the cluster id the nodes were started with', 'raftkv')
      .option('--token-file <file>', CLIENT_TOKEN_HELP)
      .option(
        '--workload <names>',
        `what to run, in order: a comma list, or the flag again (default: all)`,
        workloadOption,
      )
      .option(
        '--clients <n>',
        'concurrent clients, each one call at a time',
        integerOption('--clients', 1, CLIENTS_MAX),
        PLAN_DEFAULTS.clients,
      )
      .option('--keys <n>', 'size of the key space', integerOption('--keys', 1, KEYS_MAX), PLAN_DEFAULTS.keys)
      .option(
        '--value-bytes <n>',
        'bytes of each value put',
        integerOption('--value-bytes', 1, VALUE_BYTES_PLAN_MAX),
        PLAN_DEFAULTS.valueBytes,
      )
      .option(
        '--duration <s>',
        'seconds per workload',
        integerOption('--duration', 1, DURATION_SECONDS_MAX),
        PLAN_DEFAULTS.durationSeconds,
      )
      .option(
        '--seed <n>',
        'seed of the operation and key choices',
        integerOption('--seed', 0, 0xffff_ffff),
        PLAN_DEFAULTS.seed,
      )
      .option(
        '--timeout-ms <ms>',
        'the first request, and every call after, gives up after this long',
        integerOption('--timeout-ms', 1),
        5_000,
      )
      .option('--json', 'print one JSON object instead of the table'),
  )
    // A bad flag is reported in one line that says what to change; the whole help would bury it.
    .showHelpAfterError(false)
    .addHelpText(
      'after',
      `
Workloads:
${WORKLOAD_HELP}

Workloads that read first put every key once (the load phase). Keys are
"bench:" and 8 digits; a run against a cluster in use writes them there.

Examples:
  raftkv bench --members ${EXAMPLE_MEMBERS}
  raftkv bench --meta ${EXAMPLE_META} --workload ycsb-a,ycsb-b --clients 64
  raftkv bench --members ${EXAMPLE_MEMBERS} --workload put --duration 5 --json | jq .results

Progress goes to stderr, the table (or JSON) to stdout. Exits with 1 on a bad
flag, with 2 if the cluster does not answer within --timeout-ms or the keys
cannot be loaded, and with 130 after Ctrl-C (printing what it measured).`,
    );
  command.action(async (flags) => {
    const addresses = targetAddresses(flags.meta, flags.members);
    if (addresses === null) {
      return command.error('error: say where the cluster is: --meta for a sharded cluster, or --members for one group');
    }
    const plan: BenchPlan = {
      workloads: flags.workload ?? [...WORKLOAD_NAMES],
      clients: flags.clients,
      keys: flags.keys,
      valueBytes: flags.valueBytes,
      durationSeconds: flags.duration,
      seed: flags.seed,
    };
    const tls = clientTlsOrExit(command, flags);
    const cluster = { clusterId: flags.clusterId, token: await clientToken(command, flags), tls };
    process.exitCode = await benchmark(addresses, cluster, plan, flags.timeoutMs, flags.json === true);
  });
}

/** Exactly one of the two flags says where the cluster is; null otherwise. */
function targetAddresses(
  meta: ReadonlyMap<number, HostPort> | undefined,
  members: ReadonlyMap<number, HostPort> | undefined,
): TargetAddresses | null {
  if (meta !== undefined && members === undefined) return { kind: 'meta', meta };
  if (members !== undefined && meta === undefined) return { kind: 'members', members };
  return null;
}

/** Runs the plan and prints the report; resolves with the exit code. */
async function benchmark(
  addresses: TargetAddresses,
  cluster: TargetCluster,
  plan: BenchPlan,
  timeoutMs: number,
  json: boolean,
): Promise<number> {
  const target = connectTarget(addresses, cluster);
  const stop = { stopped: false };
  const onSignal = (): void => {
    // A second Ctrl-C does not wait for calls in flight.
    if (stop.stopped) process.exit(EXIT_INTERRUPTED);
    stop.stopped = true;
    process.stderr.write('\nbench: stopping after the calls in flight; Ctrl-C again to quit now\n');
  };
  process.on('SIGINT', onSignal);
  try {
    const unreachable = await probeTarget(target, timeoutMs);
    if (unreachable !== null) {
      process.stderr.write(
        `raftkv bench: the ${target.description} did not answer within ${timeoutMs} ms; check that it is running ` +
          `and that the addresses and --cluster-id are right (${unreachable})\n`,
      );
      return EXIT_UNREACHABLE;
    }
    process.stderr.write(
      `bench: ${target.description}; ${plan.clients} clients, ${plan.keys} keys, ${plan.valueBytes}-byte values, ` +
        `${plan.durationSeconds} s per workload, seed ${plan.seed}\n`,
    );
    const report = await runBench({ target, plan, callDeadlineMs: timeoutMs, progress: stderrProgress(), stop });
    printReport(report, json);
    return report.interrupted ? EXIT_INTERRUPTED : 0;
  } catch (error) {
    if (!(error instanceof LoadFailedError)) throw error;
    process.stderr.write(`raftkv bench: ${error.message}\n`);
    return EXIT_UNREACHABLE;
  } finally {
    process.off('SIGINT', onSignal);
    target.close();
  }
}

function printReport(report: BenchReport, json: boolean): void {
  if (json) {
    const environment = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
    };
    process.stdout.write(`${formatJson(report, environment)}\n`);
    return;
  }
  const lines = [formatTable(report.results), ...formatErrorCodes(report.results)];
  if (report.load !== null) {
    const { keys, seconds, keysPerSecond } = report.load;
    const rate = `${Math.round(keysPerSecond)} keys/s`;
    lines.push(`loaded ${keys} of ${report.plan.keys} keys first, in ${seconds.toFixed(1)} s (${rate})`);
  }
  if (report.interrupted) lines.push('interrupted by Ctrl-C: the last phase ran for less than planned');
  process.stdout.write(`${lines.join('\n')}\n`);
}
