/**
 * `npm run test:chaos`: a sharded cluster of real processes on loopback
 * under concurrent clients while a seeded nemesis kills, pauses and
 * partitions its nodes, breaks their disks and moves buckets; prints the run's table and exits
 * non-zero on any violation (with the seed and the nodes' logs).
 *
 *   npm run test:chaos -- [--seed N] [--duration 10m] [--faults all|kills|network|disk|KIND,...] [--clients N]
 */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, FAULT_SETS, parseFaultKinds } from '../test/e2e/chaos/chaos-faults.js';
import { formatReport, violations } from '../test/e2e/chaos/chaos-report.js';
import { runChaos } from '../test/e2e/chaos/chaos-run.js';

const USAGE = `usage: npm run test:chaos -- [--seed N] [--duration 10m] [--faults LIST] [--clients N]
  --seed N        the nemesis's schedule (printed by every run, to replay one); random when absent
  --duration D    how long the nemesis works: 90s, 10m or plain seconds (default 10m)
  --faults LIST   comma separated: ${[...Object.keys(FAULT_SETS), ...FAULT_KINDS].join(', ')} (default all)
  --clients N     concurrent clients (default 6)`;

function fail(message: string): never {
  console.error(`chaos: ${message}\n${USAGE}`);
  process.exit(2);
}

/** "90s", "10m", "1h" or plain seconds, in milliseconds. */
function parseDurationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  if (match === null) fail(`--duration takes a number of seconds or 90s, 10m, 1h; got '${value}'`);
  const unitMs = { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1_000;
  return Number(match[1]) * unitMs;
}

function parseWholeNumber(flag: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) fail(`${flag} takes a whole number, got '${value}'`);
  return parsed;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seed: { type: 'string' },
        duration: { type: 'string', default: '10m' },
        faults: { type: 'string', default: 'all' },
        clients: { type: 'string', default: '6' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : parseWholeNumber('--seed', values.seed);
  let kinds;
  try {
    kinds = parseFaultKinds(values.faults);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const durationMs = parseDurationMs(values.duration);
  const clients = parseWholeNumber('--clients', values.clients);
  if (clients < 1) fail('--clients takes at least 1');
  console.log(`chaos: seed ${seed}, duration ${durationMs / 1000} s, faults ${kinds.join(', ')}`);
  const startMs = performance.now();
  const result = await runChaos({
    seed,
    durationMs,
    kinds,
    roundsMin: 0,
    clients,
    log: (line) => console.log(`[${((performance.now() - startMs) / 1000).toFixed(0).padStart(4)} s] ${line}`),
  });
  console.log(`\n${formatReport(result)}`);
  if (violations(result).length > 0) {
    console.error(`\nchaos: FAILED with seed ${seed}; replay with npm run test:chaos -- --seed ${seed}`);
    process.exitCode = 1;
  }
}

await main();
