/**
 * The short form of `npm run test:chaos`, in every `npm test`: the same
 * sharded cluster of real processes, clients and nemesis, for one round of
 * every kind but the disk ones, and one disk kind the seed picks (about a
 * minute of faults: all three would add half a minute to every npm test).
 * The seed is printed; set RAFTKV_CHAOS_SEED to replay a failed run's schedule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../src/sim/random.js';
import { DISK_FAULTS, FAULT_KINDS, NETWORK_FAULTS } from './chaos/chaos-faults.js';
import { formatReport, violations } from './chaos/chaos-report.js';
import { runChaos } from './chaos/chaos-run.js';

const SEED = Number(process.env.RAFTKV_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
const DURATION_MS = 60_000;
const CLIENTS = 4;
const DISK_KIND = new SeededRandom(SEED).pick(DISK_FAULTS);
const KINDS = [...FAULT_KINDS.filter((kind) => !DISK_FAULTS.includes(kind)), DISK_KIND];

describe('chaos: a sharded cluster of real processes under a seeded nemesis', { timeout: 600_000 }, () => {
  it('loses no acknowledged write and stays linearizable through kills, pauses, partitions, bucket moves, member replacements and a disk fault', async () => {
    console.log(`chaos test: seed ${SEED} (replay with RAFTKV_CHAOS_SEED=${SEED})`);
    const result = await runChaos({
      seed: SEED,
      durationMs: DURATION_MS,
      kinds: KINDS,
      roundsMin: 1,
      clients: CLIENTS,
      log: (line) => console.log(`chaos test: ${line}`),
    });
    const report = formatReport(result);
    console.log(report);
    assert.deepEqual(violations(result), [], `seed ${SEED}:\n${report}`);
    const injected = new Set(result.faults.map((fault) => fault.kind));
    for (const kind of [...NETWORK_FAULTS, DISK_KIND]) {
      assert.ok(injected.has(kind), `no ${kind} was injected (seed ${SEED})`);
    }
    // A broken disk must make its node exit (violations() already fails any other exit).
    if (DISK_KIND !== 'torn-tail') {
      assert.ok(
        result.memberExits.some((exit) => exit.expected),
        `the node whose disk broke did not exit with 74 (seed ${SEED})`,
      );
    }
  });
});
