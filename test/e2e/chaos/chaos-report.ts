/**
 * What a chaos run prints: a summary table (operations, faults by kind with
 * their recovery times, the linearizability verdict, acknowledged writes
 * lost, the slowest recovery) and the list of violations, empty when the
 * run passed. A failed run's report ends with the seed and the nodes' logs.
 */
import { formatTable } from '../../../src/cli/text-table.js';
import { EXIT_CODES } from '../../../src/cli/node-failure.js';
import type { MemberExit } from './chaos-cluster.js';
import type { FaultKind } from './chaos-faults.js';
import type { ChaosResult } from './chaos-run.js';
import type { FaultRecord } from './nemesis.js';
import type { Recovery } from './recovery-probe.js';

/** Fewer acknowledged appends than this means the cluster hardly served: a failure too, not a pass by default. */
const ACKNOWLEDGED_APPENDS_MIN = 50;
const PROBLEMS_LISTED_MAX = 10;

/** Everything that makes the run fail; empty when it passed. */
export function violations(result: ChaosResult): string[] {
  const found: string[] = [];
  if (result.aborted !== null) found.push(`the run broke off: ${result.aborted}`);
  if (!result.linearizability.ok) found.push(`the history of key ${result.linearizability.key} is not linearizable`);
  // A history the checker could not finish is not known to be linearizable: not a pass either.
  if (result.linearizability.timedOut === true) found.push('the linearizability check ran out of steps on a key');
  if (result.lostOrDuplicated.length > 0) {
    found.push(
      `${result.lostOrDuplicated.length} appends lost or applied twice: ` +
        result.lostOrDuplicated.slice(0, PROBLEMS_LISTED_MAX).join('; '),
    );
  }
  for (const fault of result.faults) {
    if (!fault.recovery.recovered) {
      found.push(
        `${fault.kind} at ${fault.atSeconds.toFixed(1)} s: ${fault.recovery.stillDown.join(', ')} did not serve again`,
      );
    }
  }
  for (const exit of result.memberExits.filter((candidate) => !candidate.expected)) {
    found.push(
      `${exit.node} exited by itself with ${exitCause(exit)} at ${exit.atSeconds.toFixed(1)} s ` +
        `(only code ${EXIT_CODES.diskFailure} while a disk fault broke its disk is expected)`,
    );
  }
  if (result.unexpectedErrors.length > 0) {
    found.push(
      `${result.unexpectedErrors.length} client errors other than a deadline: ` +
        result.unexpectedErrors.slice(0, PROBLEMS_LISTED_MAX).join('; '),
    );
  }
  if (result.aborted === null && result.acknowledgedAppends < ACKNOWLEDGED_APPENDS_MIN) {
    found.push(`only ${result.acknowledgedAppends} appends were acknowledged: the cluster hardly served`);
  }
  return found;
}

function exitCause(exit: MemberExit): string {
  return exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal ?? 'unknown'}`;
}

function exitsText(exits: readonly MemberExit[]): string {
  const expected = exits.filter((exit) => exit.expected).length;
  if (exits.length === 0) return 'none';
  return `${exits.length} (${expected} with code ${EXIT_CODES.diskFailure} on a broken disk, as they should)`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function recoveryMs(fault: FaultRecord): number | null {
  return fault.recovery.recovered ? fault.recovery.ms : null;
}

function sortedMs(recoveries: readonly Recovery[]): number[] {
  return recoveries.flatMap((recovery) => (recovery.recovered ? [recovery.ms] : [])).sort((a, b) => a - b);
}

function median(sorted: readonly number[]): string {
  return sorted.length === 0 ? '-' : seconds(sorted[Math.floor((sorted.length - 1) / 2)]!);
}

/**
 * One row per kind injected: how many; how many saw every group serve while
 * the fault lasted, and how soon (median); and the median and slowest time
 * until every group served again after the heal.
 */
function faultRows(faults: readonly FaultRecord[]): string[][] {
  const kinds = [...new Set(faults.map((fault) => fault.kind))].sort();
  return kinds.map((kind: FaultKind) => {
    const ofKind = faults.filter((fault) => fault.kind === kind);
    const during = sortedMs(ofKind.map((fault) => fault.servedDuring));
    const after = sortedMs(ofKind.map((fault) => fault.recovery));
    const notRecovered = ofKind.length - after.length;
    return [
      kind,
      String(ofKind.length),
      `${during.length} of ${ofKind.length}, ${median(during)}`,
      median(after),
      notRecovered > 0 ? `${notRecovered} never` : after.length === 0 ? '-' : seconds(after[after.length - 1]!),
    ];
  });
}

function linearizabilityText(result: ChaosResult): string {
  const verdict = result.linearizability;
  if (!verdict.ok) return `NO (key ${verdict.key})`;
  const checked = `${result.keysChecked} keys checked`;
  return verdict.timedOut === true ? `unknown (a key's search ran out of budget), ${checked}` : `yes, ${checked}`;
}

export function formatReport(result: ChaosResult): string {
  const { counts, faults, options } = result;
  const found = violations(result);
  const slowest = faults
    .filter((fault) => fault.recovery.recovered)
    .sort((a, b) => (recoveryMs(b) ?? 0) - (recoveryMs(a) ?? 0))[0];
  const summary = formatTable([
    ['chaos run', `seed ${options.seed}, ${result.elapsedSeconds.toFixed(0)} s, ${options.clients} clients`],
    [
      'operations',
      `${counts.operations} (${counts.acknowledged} answered; gave up: ${counts.gaveUp.writes} writes, ${counts.gaveUp.reads} reads)`,
    ],
    ['faults', `${faults.length} injected, one at a time`],
    ['linearizable', linearizabilityText(result)],
    [
      'lost writes',
      `${result.lostOrDuplicated.length} (of ${result.acknowledgedAppends} acknowledged appends, each read back once)`,
    ],
    ['nodes exited', exitsText(result.memberExits)],
    [
      'slowest recovery',
      slowest === undefined ? '-' : `${seconds(recoveryMs(slowest)!)} (${slowest.kind}: ${slowest.description})`,
    ],
    ['verdict', found.length === 0 ? 'PASS' : `FAIL: ${found.length} violations`],
  ]);
  const table = formatTable(
    [['fault', 'injected', 'served during fault', 'recovery median', 'recovery max'], ...faultRows(faults)],
    (column) => (column === 0 ? 'left' : 'right'),
  );
  const lines = [summary, '', table];
  if (found.length > 0) {
    lines.push('', 'violations:', ...found.map((problem) => `  - ${problem}`));
    lines.push(
      '',
      `replay the schedule with --seed ${options.seed}`,
      '',
      "the end of every node's log:",
      result.logsTail,
    );
  }
  return lines.join('\n');
}
