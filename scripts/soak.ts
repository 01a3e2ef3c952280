/**
 * `npm run test:soak`: the randomized scenarios under hundreds of seeds.
 * Prints a table of runs and failures per scenario and the seeds that failed,
 * each replayable with `SEED=n npm test` or `npm run test:soak -- --seed n`.
 *
 *   npm run test:soak                    500 seeds of each scenario
 *   npm run test:soak -- --seeds 100     fewer
 *   npm run test:soak -- --seed 1234     one seed, with its error
 */
import { SingleBar, Presets } from 'cli-progress';
import { SimCluster } from '../src/sim/cluster.js';
import { churn, figure8 } from '../test/support/raft-scenarios.js';

interface SoakScenario {
  readonly name: string;
  readonly run: (seed: number) => void;
}

const SCENARIOS: readonly SoakScenario[] = [
  {
    name: 'figure 8 unreliable',
    run: (seed) => figure8(new SimCluster({ seed, nodes: 5, reliable: false }), 1000, true),
  },
  { name: 'unreliable churn', run: (seed) => churn(new SimCluster({ seed, nodes: 5 }), true) },
  {
    name: 'figure 8, one entry per message',
    run: (seed) => figure8(new SimCluster({ seed, nodes: 5, raft: { messageBytesMax: 1 } }), 1000, false),
  },
  { name: 'reliable churn', run: (seed) => churn(new SimCluster({ seed, nodes: 5 }), false) },
  {
    name: 'unreliable churn, snapshots, lease reads',
    run: (seed) =>
      churn(new SimCluster({ seed, nodes: 5, snapshotEveryEntries: 10, raft: { readMode: 'lease' } }), true),
  },
  {
    name: 'figure 8 unreliable, snapshots',
    run: (seed) => figure8(new SimCluster({ seed, nodes: 5, reliable: false, snapshotEveryEntries: 10 }), 1000, true),
  },
];

function argument(name: string): number | null {
  const at = process.argv.indexOf(name);
  if (at < 0) return null;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} takes a whole number, got "${process.argv[at + 1] ?? ''}"`);
    process.exit(2);
  }
  return value;
}

const single = argument('--seed');
const seedCount = argument('--seeds') ?? 500;
const seeds = single === null ? Array.from({ length: seedCount }, (_, k) => k + 1) : [single];
const rows: { scenario: string; seeds: number; failed: number; seconds: string; failingSeeds: string }[] = [];

for (const scenario of SCENARIOS) {
  const failed: number[] = [];
  const started = Date.now();
  const bar = new SingleBar(
    { format: `${scenario.name.padEnd(32)} {bar} {value}/{total} seeds, {failed} failed`, noTTYOutput: false },
    Presets.shades_classic,
  );
  if (process.stderr.isTTY) bar.start(seeds.length, 0, { failed: 0 });
  for (const seed of seeds) {
    try {
      scenario.run(seed);
    } catch (error) {
      failed.push(seed);
      if (single !== null || failed.length <= 3)
        console.error(`\n${scenario.name}, seed ${seed}: ${(error as Error).message}`);
    }
    if (process.stderr.isTTY) bar.increment(1, { failed: failed.length });
  }
  if (process.stderr.isTTY) bar.stop();
  rows.push({
    scenario: scenario.name,
    seeds: seeds.length,
    failed: failed.length,
    seconds: ((Date.now() - started) / 1000).toFixed(1),
    failingSeeds: failed.slice(0, 20).join(' ') || '-',
  });
}

console.table(rows);
const failures = rows.reduce((sum, row) => sum + row.failed, 0);
const runs = rows.reduce((sum, row) => sum + row.seeds, 0);
console.log(`soak: ${runs - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
