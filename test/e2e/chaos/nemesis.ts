/**
 * The nemesis: one fault at a time, on a schedule drawn from a seed. Each
 * round shuffles the chosen kinds, so a run of a round or more injects every
 * kind at least once; between faults the cluster gets a quiet gap. After
 * each heal it measures the time until every group serves again, and waits
 * for that before the next fault, so recoveries are not mixed up.
 */
import { SeededRandom } from '../../../src/sim/random.js';
import type { FaultContext, FaultKind } from './chaos-faults.js';
import { FAULTS } from './chaos-faults.js';
import type { Recovery, RecoveryProbe } from './recovery-probe.js';

const QUIET_MS = [1_000, 3_000] as const;

export interface FaultRecord {
  readonly kind: FaultKind;
  /** Seconds since the nemesis started. */
  readonly atSeconds: number;
  readonly description: string;
  /** Whether, and how soon, every group served while the fault was still in place (a new leader elected, say). */
  readonly servedDuring: Recovery;
  /** How soon after the heal every group served again. */
  readonly recovery: Recovery;
}

export interface NemesisOptions {
  readonly seed: number;
  readonly kinds: readonly FaultKind[];
  /** No fault starts after this long... */
  readonly durationMs: number;
  /** ...unless fewer rounds than this have been completed. */
  readonly roundsMin: number;
  readonly context: FaultContext;
  readonly probe: RecoveryProbe;
  /** A second probe with its own clients, for the time the fault lasts. */
  readonly probeDuringFault: RecoveryProbe;
  /** One line per fault, as it happens. */
  readonly log: (line: string) => void;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

export async function runNemesis(options: NemesisOptions): Promise<FaultRecord[]> {
  if (options.kinds.length === 0) throw new Error('the nemesis needs at least one fault kind');
  const schedule = new SeededRandom(options.seed);
  const startMs = performance.now();
  const elapsedMs = (): number => performance.now() - startMs;
  const records: FaultRecord[] = [];
  for (let round = 0; elapsedMs() < options.durationMs || round < options.roundsMin; round++) {
    for (const kind of schedule.shuffle([...options.kinds])) {
      if (elapsedMs() >= options.durationMs && round >= options.roundsMin) break;
      // Its own stream per fault: a fault that draws more or less does not shift the ones after it.
      const random = schedule.fork();
      await sleep(random.intBetween(QUIET_MS[0], QUIET_MS[1]));
      const atSeconds = elapsedMs() / 1000;
      const fault = await FAULTS[kind](options.context, random);
      options.log(`${kind}: ${fault.description}; healing in ${fault.holdMs} ms`);
      // Until the heal is done: a restart takes seconds of its own, and the others serve meanwhile.
      let healedAtMs = Infinity;
      const during = options.probeDuringFault.measure(performance.now(), () => healedAtMs);
      let healed: string;
      try {
        await sleep(fault.holdMs);
        healed = await fault.heal();
      } finally {
        // Also when the heal fails: the probe of the fault's time must end, or it would try forever.
        healedAtMs = performance.now();
      }
      const recovery = await options.probe.measure(healedAtMs);
      const servedDuring = await during;
      options.log(
        `${kind}: ${healed}; ` +
          (servedDuring.recovered
            ? `every group served during the fault after ${seconds(servedDuring.ms)}, `
            : `not every group served during the fault, `) +
          (recovery.recovered
            ? `and again ${seconds(recovery.ms)} after the heal`
            : `and NOT AGAIN after the heal: ${recovery.stillDown.join(', ')}`),
      );
      records.push({ kind, atSeconds, description: fault.description, servedDuring, recovery });
    }
  }
  return records;
}
