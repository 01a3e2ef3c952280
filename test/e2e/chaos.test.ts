/**
 * The short form of `npm run test:chaos`, in every `npm test`: the same
 * sharded cluster of real processes, clients and nemesis, for one round of
 * every fault kind (about a minute of faults). The seed is printed; set
 * RAFTKV_CHAOS_SEED to replay a failed run's schedule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAULT_KINDS, NETWORK_FAULTS } from './chaos/chaos-faults.js';
import { formatReport, violations } from './chaos/chaos-report.js';
import { runChaos } from './chaos/chaos-run.js';

const SEED = Number(process.env.RAFTKV_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
const DURATION_MS = 60_000;
const CLIENTS = 4;

describe('chaos: a sharded cluster of real processes under a seeded nemesis', { timeout: 600_000 }, () => {
  it('loses no acknowledged write and stays linearizable through kills, pauses, partitions and bucket moves', async () => {
    console.log(`chaos test: seed ${SEED} (replay with RAFTKV_CHAOS_SEED=${SEED})`);
    const result = await runChaos({
      seed: SEED,
      durationMs: DURATION_MS,
      kinds: FAULT_KINDS,
      roundsMin: 1,
      clients: CLIENTS,
      log: (line) => console.log(`chaos test: ${line}`),
    });
    const report = formatReport(result);
    console.log(report);
    assert.deepEqual(violations(result), [], `seed ${SEED}:\n${report}`);
    const injected = new Set(result.faults.map((fault) => fault.kind));
    for (const kind of NETWORK_FAULTS) assert.ok(injected.has(kind), `no ${kind} was injected (seed ${SEED})`);
  });
});
