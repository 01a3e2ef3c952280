/**
 * The MIT 6.824 KV-Raft scenarios (lab 3A and 3B), written fresh on the
 * simulated network: five replicas, several clients, faults while they run,
 * and every history checked for linearizability. Each runs under several
 * seeds; a failure names its seed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../../src/sim/random.js';
import { KvSim } from '../../support/kv-sim.js';
import { Workload } from '../../support/kv-workload.js';
import { checkKvHistory } from '../../support/linearizability.js';

const SEEDS = [1, 2, 3];
const MEMBERS = [1, 2, 3, 4, 5];
/** Entries a member keeps behind its snapshot for followers that lag a little. */
const SNAPSHOT_CATCH_UP_ENTRIES = 10;

interface GenericOptions {
  readonly clients: number;
  readonly unreliable?: boolean;
  readonly crash?: boolean;
  readonly partitions?: boolean;
  /** Snapshot every this many entries (6.824's maxraftstate); none when absent. */
  readonly snapshotEveryEntries?: number;
  readonly oneKey?: boolean;
  readonly rounds?: number;
  readonly roundMs?: number;
}

interface GenericOutcome {
  readonly sim: KvSim;
  readonly operations: number;
}

/**
 * 6.824's GenericTest: rounds of concurrent clients under the chosen faults;
 * after each round the network heals, crashed members restart, and every
 * client checks its key; at the end the whole history must linearize.
 */
async function genericTest(seed: number, options: GenericOptions): Promise<GenericOutcome> {
  const sim = new KvSim(seed, MEMBERS, {
    snapshotEveryEntries: options.snapshotEveryEntries ?? 1_000_000,
    snapshotCatchUpEntries: SNAPSHOT_CATCH_UP_ENTRIES,
  });
  const random = new SeededRandom(seed * 7919 + 1);
  await sim.startAll();
  const workload = new Workload(sim, random.fork(), { clients: options.clients, oneKey: options.oneKey });
  for (let round = 0; round < (options.rounds ?? 3); round++) {
    sim.setReliable(options.unreliable !== true);
    workload.start();
    const stopPartitioner = options.partitions === true ? startPartitioner(sim, random.fork()) : () => undefined;
    await sim.runFor(options.roundMs ?? 1500);
    stopPartitioner();
    sim.heal();
    sim.setReliable(true);
    await workload.stop();
    if (options.crash === true) {
      for (const id of MEMBERS) await sim.crash(id);
      for (const id of MEMBERS) await sim.start(id);
    }
    await workload.checkAppends();
    if (options.snapshotEveryEntries !== undefined) assertLogBounded(sim, options.snapshotEveryEntries);
  }
  assert.deepEqual(sim.group.failures, [], `seed ${seed}`);
  const verdict = checkKvHistory(workload.history);
  assert.ok(verdict.ok, `seed ${seed}: history of key ${verdict.key} is not linearizable`);
  assert.ok(verdict.timedOut !== true, `seed ${seed}: the linearizability check ran out of steps`);
  assert.ok(workload.operations > options.clients * 3, `seed ${seed}: only ${workload.operations} operations ran`);
  if (process.env.KV_SCENARIO_VERBOSE !== undefined) {
    console.log(`seed ${seed}: ${workload.operations} operations, ${sim.nowMs} simulated ms`);
  }
  return { sim, operations: workload.operations };
}

/** Every so often, splits the members into two random sides (6.824's partitioner). */
function startPartitioner(sim: KvSim, random: SeededRandom): () => void {
  let running = true;
  const repartition = (): void => {
    if (!running) return;
    const shuffled = random.shuffle([...MEMBERS]);
    const cut = random.intBetween(1, MEMBERS.length - 1);
    sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    sim.group.scheduler.after(random.intBetween(200, 600), repartition);
  };
  repartition();
  return () => {
    running = false;
  };
}

/** The log a member keeps stays near the snapshot threshold (6.824's maxraftstate check). */
function assertLogBounded(sim: KvSim, snapshotEveryEntries: number): void {
  for (const id of MEMBERS) {
    const entries = sim.group.disks.get(id)!.log.entries.length;
    assert.ok(
      entries <= snapshotEveryEntries + SNAPSHOT_CATCH_UP_ENTRIES + MEMBERS.length,
      `seed ${sim.seed}: node ${id} keeps ${entries} log entries with snapshots every ${snapshotEveryEntries}`,
    );
  }
}

describe('6.824 KV-Raft scenarios', () => {
  for (const seed of SEEDS) {
    describe(`seed ${seed}`, () => {
      it('basic: one client, its appends come back in order', async () => {
        await genericTest(seed, { clients: 1 });
      });

      it('concurrent clients', async () => {
        await genericTest(seed, { clients: 5 });
      });

      it('unreliable network', async () => {
        await genericTest(seed, { clients: 5, unreliable: true });
      });

      it('one key under many clients stays linearizable', async () => {
        await genericTest(seed, { clients: 5, oneKey: true, unreliable: true });
      });

      it('many partitions', async () => {
        await genericTest(seed, { clients: 5, partitions: true });
      });

      it('persistence: every member crashes after each round', async () => {
        await genericTest(seed, { clients: 5, crash: true });
      });

      it('persistence with partitions and an unreliable network', async () => {
        await genericTest(seed, { clients: 5, crash: true, partitions: true, unreliable: true });
      });

      it('snapshot recovery: crashes with snapshots', async () => {
        await genericTest(seed, { clients: 5, crash: true, snapshotEveryEntries: 20 });
      });

      it('persist + partition + unreliable + snapshots, all at once', async () => {
        await genericTest(seed, {
          clients: 5,
          crash: true,
          partitions: true,
          unreliable: true,
          snapshotEveryEntries: 20,
        });
      });
    });
  }
});

describe('6.824 KV-Raft targeted scenarios', () => {
  for (const seed of SEEDS) {
    it(`one partition: the majority serves, the minority's client waits until the heal (seed ${seed})`, async () => {
      const sim = new KvSim(seed, MEMBERS);
      await sim.startAll();
      const majorityClient = sim.client(0);
      const minorityClient = sim.client(1);
      await sim.await(majorityClient.put('1', '13'));

      const leader = sim.group.leader()!.id;
      const others = MEMBERS.filter((id) => id !== leader);
      const majority = [leader, others[0]!, others[1]!];
      const minority = [others[2]!, others[3]!];
      sim.partition(
        [majority, minority],
        [
          [...majority, sim.clientEndpoint(0)],
          [...minority, sim.clientEndpoint(1)],
        ],
      );
      await sim.await(majorityClient.put('1', '14'));
      assert.equal(await sim.await(majorityClient.get('1').then(text)), '14', `seed ${seed}`);

      let minorityDone = false;
      const minorityPut = minorityClient.put('1', '15').then(() => (minorityDone = true));
      const minorityGet = minorityClient.get('1');
      await sim.runFor(2000);
      assert.equal(minorityDone, false, `seed ${seed}: a write completed in a minority partition`);

      sim.heal();
      sim.clientNetwork.heal();
      await sim.await(minorityPut);
      assert.equal(await sim.await(minorityGet.then(text)), '15', `seed ${seed}`);
      assert.equal(await sim.await(majorityClient.get('1').then(text)), '15', `seed ${seed}`);
    });

    it(`snapshot install: a member cut off while the log is compacted catches up from a snapshot (seed ${seed})`, async () => {
      const sim = new KvSim(seed, [1, 2, 3], { snapshotEveryEntries: 20, snapshotCatchUpEntries: 5 });
      await sim.startAll();
      const client = sim.client(0);
      await sim.await(client.put('a', 'A'));
      const leader = sim.group.leader()!.id;
      const lagging = [1, 2, 3].find((id) => id !== leader)!;
      sim.partition([[1, 2, 3].filter((id) => id !== lagging), [lagging]]);
      for (let index = 0; index < 60; index++) await sim.await(client.put(`k${index}`, `v${index}`));

      sim.heal();
      const caughtUp = await sim.runUntil(
        () => sim.group.machine(lagging).appliedIndex >= sim.group.machine(leader).appliedIndex,
        10_000,
      );
      assert.ok(caughtUp, `seed ${seed}: node ${lagging} did not catch up`);
      assert.ok(sim.group.disks.get(lagging)!.snapshots.snapshots.size > 0, `seed ${seed}: no snapshot reached it`);
      for (let index = 0; index < 60; index += 7) {
        const reply = sim.group.machine(lagging).get(new TextEncoder().encode(`k${index}`));
        assert.equal(
          reply.ok && reply.value !== undefined && reply.value !== null ? text(reply.value) : null,
          `v${index}`,
        );
      }
      // The caught-up member can now carry a majority.
      sim.partition([[leader], [1, 2, 3].filter((id) => id !== leader)]);
      await sim.await(client.put('b', 'B'), 20_000);
      assert.equal(await sim.await(client.get('a').then(text)), 'A', `seed ${seed}`);
    });

    it(`snapshot size bound: the log and the snapshot stay small under many writes to few keys (seed ${seed})`, async () => {
      const sim = new KvSim(seed, [1, 2, 3], { snapshotEveryEntries: 20, snapshotCatchUpEntries: 5 });
      await sim.startAll();
      const client = sim.client(0);
      for (let index = 0; index < 200; index++) {
        await sim.await(client.put('x', index % 2 === 0 ? '0' : '1'));
      }
      await sim.runFor(500);
      for (const id of [1, 2, 3]) {
        const disk = sim.group.disks.get(id)!;
        assert.ok(disk.log.entries.length <= 20 + 5 + 3, `seed ${seed}: node ${id} keeps ${disk.log.entries.length}`);
        for (const { stored } of disk.snapshots.snapshots.values()) {
          assert.ok(stored.meta.sizeBytes < 500, `seed ${seed}: a snapshot of ${stored.meta.sizeBytes} bytes`);
        }
      }
    });
  }
});

function text(value: Uint8Array | null): string | null {
  return value === null ? null : new TextDecoder().decode(value);
}
