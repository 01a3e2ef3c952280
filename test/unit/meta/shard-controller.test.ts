/**
 * The MIT 6.824 shard controller tests (lab 4A), on a three-member meta
 * group of real RaftNodes on the seeded simulated network. Writes go
 * through admin clients that find the leader and retry with the same stamp;
 * reads take a ReadIndex barrier first. Each scenario runs on several seeds
 * (SEED=n replays one).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupId, ShardConfig } from '../../../src/meta/index.js';
import { bucketsMoved, canonicalConfigJson } from '../../../src/meta/index.js';
import { seedFromEnv } from '../../../src/sim/random.js';
import type { MetaAdmin } from '../../support/meta-sim.js';
import { checkBalanced, configOf, groupInfo, MetaSim } from '../../support/meta-sim.js';

const SEEDS = seedFromEnv([1, 2, 3]);

async function started(seed: number, snapshotEveryEntries?: number): Promise<MetaSim> {
  const sim = new MetaSim(seed, [1, 2, 3], snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries });
  await sim.start();
  return sim;
}

/** Every running member holds the same chain, and it agrees with the configs the admins were given. */
async function checkSameChain(sim: MetaSim, returned: readonly ShardConfig[] = []): Promise<void> {
  const chains = [...(await sim.chains()).values()];
  for (const chain of chains) assert.deepEqual(chain, chains[0], `seed ${sim.seed}: members disagree`);
  for (const config of returned) {
    assert.equal(
      chains[0]![config.version],
      canonicalConfigJson(config),
      `seed ${sim.seed}: version ${config.version}`,
    );
  }
  assert.deepEqual(sim.group.failures, []);
}

/** Buckets that changed owner between two configs, as [bucket, from, to]. */
function transfers(before: ShardConfig, after: ShardConfig): [number, GroupId, GroupId][] {
  return before.buckets.flatMap((gid, bucket) =>
    gid === after.buckets[bucket] ? [] : [[bucket, gid, after.buckets[bucket]!] as [number, GroupId, GroupId]],
  );
}

describe('shard controller (6.824 lab 4A)', () => {
  for (const seed of SEEDS) {
    it(`basic join, leave and query, with historical queries (seed ${seed})`, async () => {
      const sim = await started(seed);
      const admin = sim.admin('admin');
      const empty = configOf(await sim.await(admin.query(null)));
      assert.deepEqual(empty, { version: 0, buckets: [], groups: [] });
      const returned: ShardConfig[] = [];

      returned.push(configOf(await sim.await(admin.join([groupInfo(1)]))));
      checkBalanced(returned.at(-1)!, [1], seed);
      returned.push(configOf(await sim.await(admin.join([groupInfo(2)]))));
      checkBalanced(returned.at(-1)!, [1, 2], seed);
      const refused = await sim.await(admin.join([groupInfo(2)]));
      assert.equal(!refused.ok && refused.error.code, 'groupExists');
      returned.push(configOf(await sim.await(admin.join([groupInfo(3)]))));
      checkBalanced(returned.at(-1)!, [1, 2, 3], seed);
      returned.push(configOf(await sim.await(admin.leave([1]))));
      checkBalanced(returned.at(-1)!, [2, 3], seed);
      returned.push(configOf(await sim.await(admin.leave([2]))));
      checkBalanced(returned.at(-1)!, [3], seed);
      const last = await sim.await(admin.leave([3]));
      assert.equal(!last.ok && last.error.code, 'lastGroupOwnsBuckets');

      assert.deepEqual(
        returned.map((config) => config.version),
        [1, 2, 3, 4, 5],
      );
      // Version 0 had no buckets while their count was unknown; the first join fixed it at 10.
      const zero = configOf(await sim.await(admin.query(0)));
      assert.deepEqual(zero, { version: 0, buckets: new Array(10).fill(0), groups: [] });
      for (const config of returned) {
        const again = configOf(await sim.await(sim.admin(`reader-${config.version}`).query(config.version)));
        assert.equal(canonicalConfigJson(again), canonicalConfigJson(config));
      }
      const missing = await sim.await(admin.query(6));
      assert.equal(!missing.ok && missing.error.code, 'noSuchVersion');
      await checkSameChain(sim, returned);
    });

    it(`historical queries answer the same while each member in turn is down (seed ${seed})`, async () => {
      const sim = await started(seed);
      const admin = sim.admin('admin');
      const returned: ShardConfig[] = [];
      for (const gid of [1, 2, 3]) returned.push(configOf(await sim.await(admin.join([groupInfo(gid)]))));
      returned.push(configOf(await sim.await(admin.leave([2]))));
      for (const id of sim.group.ids) {
        await sim.group.crash(id);
        for (const config of returned) {
          const again = configOf(await sim.await(admin.query(config.version)));
          assert.equal(canonicalConfigJson(again), canonicalConfigJson(config), `member ${id} down`);
        }
        await sim.group.start(id);
      }
      await checkSameChain(sim, returned);
    });

    it(`move: single buckets, a range, then a join that rebalances (seed ${seed})`, async () => {
      const sim = await started(seed);
      const admin = sim.admin('admin');
      await sim.await(admin.join([groupInfo(503)]));
      await sim.await(admin.join([groupInfo(504)]));
      let config: ShardConfig | null = null;
      for (let bucket = 0; bucket < 10; bucket++) {
        config = configOf(await sim.await(admin.move(bucket, bucket, bucket < 5 ? 504 : 503)));
      }
      assert.deepEqual(config!.buckets, [504, 504, 504, 504, 504, 503, 503, 503, 503, 503]);
      // eraft's walkthrough: `move 0-4 1`, `move 5-9 2`, with the groups the other way round.
      configOf(await sim.await(admin.move(0, 4, 503)));
      config = configOf(await sim.await(admin.move(5, 9, 504)));
      assert.deepEqual(config.buckets, [503, 503, 503, 503, 503, 504, 504, 504, 504, 504]);
      // An uneven spread by hand, then a join: balanced again, moving only what must move.
      const uneven = configOf(await sim.await(admin.move(0, 7, 503)));
      const joined = configOf(await sim.await(admin.join([groupInfo(505)])));
      checkBalanced(joined, [503, 504, 505], seed);
      assert.equal(bucketsMoved(uneven.buckets, joined.buckets), 3 + 1, `seed ${seed}: 503 gives 4 (8 -> 4)`);
      const out = await sim.await(admin.move(3, 10, 503));
      assert.equal(!out.ok && out.error.code, 'bucketOutOfRange');
      await checkSameChain(sim);
    });

    it(`minimal transfers after joins and after leaves (seed ${seed})`, async () => {
      const sim = await started(seed);
      const admin = sim.admin('admin');
      for (let gid = 1; gid <= 5; gid++) await sim.await(admin.join([groupInfo(gid)]));
      let before = configOf(await sim.await(admin.query(null)));
      for (let gid = 6; gid <= 10; gid++) {
        const after = configOf(await sim.await(admin.join([groupInfo(gid)])));
        checkBalanced(
          after,
          Array.from({ length: gid }, (_, k) => k + 1),
          seed,
        );
        for (const [bucket, from, to] of transfers(before, after)) {
          assert.equal(to, gid, `seed ${seed}: bucket ${bucket} moved from ${from} to ${to}, not to the new group`);
        }
        before = after;
      }
      // 10 groups on 10 buckets: each owns one. A leave moves only the buckets of the group that left.
      for (let gid = 6; gid <= 10; gid++) {
        const after = configOf(await sim.await(admin.leave([gid])));
        const moved = transfers(before, after);
        assert.equal(moved.length, 1, `seed ${seed}: a leave of a group with one bucket moved ${moved.length}`);
        for (const [bucket, from] of moved) assert.equal(from, gid, `seed ${seed}: bucket ${bucket} left ${from}`);
        before = after;
      }
      checkBalanced(before, [1, 2, 3, 4, 5], seed);
      await checkSameChain(sim);
    });

    it(`multi-group join and leave in one command, with minimal transfers (seed ${seed})`, async () => {
      const sim = await started(seed);
      const admin = sim.admin('admin');
      const first = configOf(
        await sim.await(
          admin.join(
            [1, 2, 3, 4, 5].map((gid) => groupInfo(gid)),
            20,
          ),
        ),
      );
      checkBalanced(first, [1, 2, 3, 4, 5], seed);
      assert.equal(first.buckets.length, 20);
      const joined = configOf(await sim.await(admin.join([6, 7, 8].map((gid) => groupInfo(gid)))));
      checkBalanced(joined, [1, 2, 3, 4, 5, 6, 7, 8], seed);
      for (const [bucket, , to] of transfers(first, joined))
        assert.ok(to >= 6, `seed ${seed}: bucket ${bucket} to ${to}`);
      const left = configOf(await sim.await(admin.leave([1, 6, 8])));
      checkBalanced(left, [2, 3, 4, 5, 7], seed);
      for (const [bucket, from] of transfers(joined, left)) {
        assert.ok([1, 6, 8].includes(from), `seed ${seed}: bucket ${bucket} moved from ${from}, which stayed`);
      }
      const mixed = await sim.await(admin.leave([2, 9]));
      assert.equal(!mixed.ok && mixed.error.code, 'unknownGroup');
      assert.equal(
        configOf(await sim.await(admin.query(null))).version,
        left.version,
        'a refused leave made a version',
      );
      await checkSameChain(sim, [first, joined, left]);
    });

    it(`concurrent admin clients joining and leaving end with a valid, balanced config (seed ${seed})`, async () => {
      const sim = await started(seed);
      const clientCount = 6;
      const admins = Array.from({ length: clientCount }, (_, k) => sim.admin(`admin-${k}`));
      const random = sim.group.random.fork();
      const pause = (): Promise<void> =>
        new Promise((resolve) => sim.group.scheduler.after(random.int(40), () => resolve()));
      // Each client owns gids 10k+1 .. 10k+4: it joins them all, then leaves its odd ones.
      const runs = admins.map(async (admin: MetaAdmin, k) => {
        const gids = [1, 2, 3, 4].map((n) => 10 * k + n);
        for (const gid of gids) {
          await pause();
          configOf(await admin.join([groupInfo(gid)]));
        }
        await pause();
        configOf(await admin.leave(gids.filter((gid) => gid % 2 === 1)));
      });
      // Once a third of the changes are in, the leader crashes and later comes back: clients retry with the same stamps.
      const crashLeader = (async () => {
        const leader = await sim.group.electLeader();
        while (sim.group.machine(leader.id).latest.version < 10) {
          await new Promise<void>((resolve) => sim.group.scheduler.after(1, resolve));
        }
        await sim.group.crash(leader.id);
        await new Promise<void>((resolve) => sim.group.scheduler.after(500, resolve));
        await sim.group.start(leader.id);
      })();
      await sim.await(Promise.all([...runs, crashLeader]), 60_000);
      const final = configOf(await sim.await(admins[0]!.query(null)));
      const expected = admins.flatMap((_, k) => [10 * k + 2, 10 * k + 4]);
      checkBalanced(final, expected, seed);
      // Exactly once: 4 joins and 1 leave per client, however many times each was sent.
      assert.equal(final.version, clientCount * 5, `seed ${seed}: a retried command made a second version`);
      assert.ok(
        admins.some((admin) => admin.retries > 0),
        `seed ${seed}: the crash hit no request in flight`,
      );
      await checkSameChain(sim);
    });

    it(`a join cut off from its leader is retried with the same stamp and applied once (seed ${seed})`, async () => {
      const sim = await started(seed);
      const admin = sim.admin('admin');
      await sim.await(admin.join([groupInfo(1)]));
      const leader = sim.group.leader()!;
      const pending = admin.join([groupInfo(2)]);
      // The leader may or may not get the entry out before it is cut off; either way the outcome is unknown.
      await sim.group.runFor(1);
      sim.group.network.partition([[leader.id], sim.group.ids.filter((id) => id !== leader.id)]);
      await sim.group.runFor(2000);
      sim.group.network.heal();
      const reply = configOf(await sim.await(pending));
      assert.ok(admin.retries > 0, `seed ${seed}: the join was never resent`);
      checkBalanced(reply, [1, 2], seed);
      assert.equal(reply.version, 2);
      assert.equal(configOf(await sim.await(admin.query(null))).version, 2, `seed ${seed}: the retry made a version`);
      await checkSameChain(sim);
    });

    it(`the chain of configs survives crashes and restarts of members between operations (seed ${seed})`, async () => {
      const sim = await started(seed, 3);
      const admin = sim.admin('admin');
      const random = sim.group.random.fork();
      const returned: ShardConfig[] = [];
      const live = new Set<GroupId>();
      let nextGid = 1;
      for (let step = 0; step < 16; step++) {
        if (live.size < 2 || random.chance(0.6)) {
          const gid = nextGid++;
          returned.push(configOf(await sim.await(admin.join([groupInfo(gid)]))));
          live.add(gid);
        } else {
          const gid = random.pick([...live]);
          returned.push(configOf(await sim.await(admin.leave([gid]))));
          live.delete(gid);
        }
        checkBalanced(returned.at(-1)!, [...live], seed);
        // A member (the leader half of the time) crashes; the one down before comes back.
        const victim = random.chance(0.5) ? sim.group.leader()!.id : random.pick(sim.group.ids);
        const down = sim.group.ids.filter((id) => sim.group.nodes.get(id) === null);
        await sim.group.crash(victim);
        for (const id of down) if (id !== victim) await sim.group.start(id);
      }
      for (const id of sim.group.ids) if (sim.group.nodes.get(id) === null) await sim.group.start(id);
      // Everyone restarts at once: the chain comes back from snapshots and logs alone.
      for (const id of sim.group.ids) await sim.group.crash(id);
      for (const id of sim.group.ids) await sim.group.start(id);
      await sim.group.electLeader();
      for (const config of returned) {
        assert.equal(
          canonicalConfigJson(configOf(await sim.await(admin.query(config.version)))),
          canonicalConfigJson(config),
        );
      }
      const snapshotted = sim.group.ids.filter((id) => sim.group.disks.get(id)!.snapshots.snapshots.size > 0);
      assert.ok(snapshotted.length > 0, `seed ${seed}: no member ever took a snapshot`);
      await checkSameChain(sim, returned);
    });
  }
});
