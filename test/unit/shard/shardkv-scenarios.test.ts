/**
 * The MIT 6.824 ShardKV scenarios (lab 4B and its challenges), written fresh
 * on the simulated network: a meta group, shard groups of three that move
 * buckets between them as the config changes (ShardDriver, ShardReplica),
 * and ShardedKvClients routing by the config. Each runs under several
 * seeds; a failure names its seed. Where clients run concurrently, the
 * history is checked for linearizability.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientError } from '../../../src/client/errors.js';
import type { ShardedKvClient } from '../../../src/client/sharded-client.js';
import { utf8Text } from '../../../src/kv/commands.js';
import type { GroupId, ShardConfig } from '../../../src/meta/index.js';
import { bucketsOf } from '../../../src/meta/index.js';
import { bucketOf } from '../../../src/shard/index.js';
import { bucketOfKey, keyKind } from '../../../src/shard/keyspace.js';
import { SeededRandom } from '../../../src/sim/random.js';
import { checkKvHistory } from '../../support/linearizability.js';
import type { ShardWorldOptions } from '../../support/shard-world.js';
import { ShardWorld } from '../../support/shard-world.js';
import { ShardWorkload } from '../../support/shard-workload.js';

/** SHARD_SEEDS=4,5,6 runs other seeds, to hunt for a failing one. */
const SEEDS = (process.env.SHARD_SEEDS ?? '1,2,3').split(',').map(Number);
/** Keys the static checks write: enough that every one of the 10 buckets holds some. */
const KEY_COUNT = 30;
/** Simulated time a config change may take to settle everywhere. */
const SETTLE_MS = 10_000;

async function startWorld(seed: number, options: ShardWorldOptions): Promise<ShardWorld> {
  const world = new ShardWorld(seed, options);
  await world.startAll();
  return world;
}

/** Waits until every running member of `gids` has applied the latest config and moved everything it had to. */
async function settle(world: ShardWorld, gids: readonly GroupId[]): Promise<ShardConfig> {
  const latest = await world.await(world.admin.query());
  const settled = await world.runUntil(() => world.settledAt(latest.version, gids), SETTLE_MS);
  assert.ok(
    settled,
    `seed ${world.seed}: groups ${gids.join(',')} did not settle at version ${latest.version}\n` +
      world.recentProblems(),
  );
  return latest;
}

function assertNoFailures(world: ShardWorld): void {
  assert.deepEqual(world.failures, [], `seed ${world.seed}`);
}

/** What the test wrote to each key, checked against what the cluster answers. */
class Keys {
  readonly values = new Map<string, string>();

  constructor(
    private readonly world: ShardWorld,
    private readonly client: ShardedKvClient,
  ) {}

  async fill(count = KEY_COUNT): Promise<void> {
    for (let index = 0; index < count; index++) {
      const key = `key-${index}`;
      const value = `value-${index}-${this.world.random.int(1_000_000)}`;
      await this.world.await(this.client.put(key, value));
      this.values.set(key, value);
    }
  }

  /** Every key (or those `filter` keeps) reads what was last written to it. */
  async check(filter: (key: string) => boolean = () => true): Promise<number> {
    let checked = 0;
    for (const [key, value] of this.values) {
      if (!filter(key)) continue;
      const read = await this.world.await(this.client.get(key));
      assert.equal(read === null ? null : utf8Text(read), value, `seed ${this.world.seed}: key ${key}`);
      checked += 1;
    }
    return checked;
  }

  async appendAll(tag: string, filter: (key: string) => boolean = () => true): Promise<void> {
    for (const [key, value] of this.values) {
      if (!filter(key)) continue;
      const suffix = `-${tag}`;
      await this.world.await(this.client.append(key, suffix));
      this.values.set(key, value + suffix);
    }
  }
}

function bucketOfText(key: string, config: ShardConfig): number {
  return bucketOf(Buffer.from(key, 'utf8'), config.buckets.length);
}

/** Whether the running members of group `gid` still wait for a bucket. */
function isPulling(world: ShardWorld, gid: GroupId): boolean {
  return world
    .idsOf(gid)
    .filter((id) => world.isUp(id))
    .every((id) => [...world.machine(id).bucketStates().values()].some((state) => state.type === 'pulling'));
}

/** Data pairs a member's engine holds for buckets that `config` does not give its group. */
function foreignPairs(world: ShardWorld, id: number, gid: GroupId, config: ShardConfig): number {
  const owned = new Set(bucketsOf(config, gid));
  return world
    .engineDisk(id)
    .entries.filter((entry) => keyKind(entry.key) === 'data' && !owned.has(bucketOfKey(entry.key))).length;
}

describe('ShardKV scenarios', () => {
  for (const seed of SEEDS) {
    it(`static shards: with one group down, the other's keys are still served (seed ${seed})`, async () => {
      const world = await startWorld(seed, { gids: [1, 2] });
      await world.await(world.admin.join([world.groupInfo(1), world.groupInfo(2)]));
      const client = world.client(0);
      const keys = new Keys(world, client);
      await keys.fill();
      await keys.check();
      const config = await settle(world, [1, 2]);

      await world.crashGroup(2);
      const ofGroup1 = (key: string): boolean => config.buckets[bucketOfText(key, config)] === 1;
      assert.ok((await keys.check(ofGroup1)) > 0, `seed ${seed}: no key of group 1`);
      // A key of the group that is down gets no answer (6.824 counts the gets that complete).
      const downKey = [...keys.values.keys()].find((key) => !ofGroup1(key))!;
      const shortClient = world.client(1, { deadlineMs: 2_000 });
      await assert.rejects(
        world.await(shortClient.get(downKey)),
        (error: unknown) => error instanceof ClientError && error.code === 'deadlineExceeded',
      );

      await world.startGroup(2);
      await keys.check();
      assertNoFailures(world);
      world.close();
    });

    it(`join then leave: data moves, every key readable after each change (seed ${seed})`, async () => {
      const world = await startWorld(seed, { gids: [1, 2, 3] });
      await world.await(world.admin.join([world.groupInfo(1)]));
      const keys = new Keys(world, world.client(0));
      await keys.fill();
      await world.await(world.admin.join([world.groupInfo(2)]));
      await keys.check();
      await keys.appendAll('a');
      await world.await(world.admin.join([world.groupInfo(3)]));
      await keys.check();
      await keys.appendAll('b');
      await world.await(world.admin.leave([1]));
      await keys.check();
      await keys.appendAll('c');
      const config = await settle(world, [1, 2, 3]);
      assert.deepEqual(bucketsOf(config, 1), [], `seed ${seed}`);
      // The group that left holds nothing anyone needs: reads go on without it.
      await world.crashGroup(1);
      await keys.check();
      assertNoFailures(world);
      world.close();
    });

    it(`snapshots: small logs, then every member of every group restarts (seed ${seed})`, async () => {
      const snapshotEveryEntries = 20;
      const world = await startWorld(seed, { gids: [1, 2, 3], snapshotEveryEntries, partBytesMax: 200 });
      await world.await(world.admin.join([world.groupInfo(1)]));
      const keys = new Keys(world, world.client(0));
      await keys.fill();
      await world.await(world.admin.join([world.groupInfo(2)]));
      await world.await(world.admin.join([world.groupInfo(3)]));
      await keys.appendAll('a');
      await world.await(world.admin.leave([2]));
      await keys.check();
      await world.await(world.admin.join([world.groupInfo(2)]));
      await keys.appendAll('b');
      await settle(world, [1, 2, 3]);
      for (const gid of [1, 2, 3]) {
        for (const id of world.idsOf(gid)) {
          // 6.824's checklogs: the log stays near the snapshot threshold, whatever ran through it.
          assert.ok(
            world.logEntries(id) <= snapshotEveryEntries * 2,
            `seed ${seed}: node ${id} log too long: ${world.logEntries(id)}`,
          );
        }
      }
      assert.ok(
        world.idsOf(1).every((id) => world.snapshotCount(id) > 0),
        `seed ${seed}: group 1 took no snapshot`,
      );
      for (const gid of [0, 1, 2, 3]) await world.crashGroup(gid);
      for (const gid of [0, 1, 2, 3]) await world.startGroup(gid);
      await keys.check();
      await keys.appendAll('c');
      await keys.check();
      assertNoFailures(world);
      world.close();
    });

    it(`missed changes: members and a whole group down through several changes catch up in order (seed ${seed})`, async () => {
      const world = await startWorld(seed, { gids: [1, 2, 3] });
      await world.await(world.admin.join([world.groupInfo(1), world.groupInfo(2)]));
      const keys = new Keys(world, world.client(0));
      await keys.fill();
      // One member of each group misses the next changes (6.824's TestMissChange).
      for (const gid of [1, 2, 3]) await world.crash(world.idsOf(gid)[0]!);
      await world.await(world.admin.join([world.groupInfo(3)]));
      await keys.appendAll('a');
      await world.await(world.admin.leave([1]));
      await keys.appendAll('b');
      await world.await(world.admin.join([world.groupInfo(1)]));
      await keys.check();
      for (const gid of [1, 2, 3]) await world.start(world.idsOf(gid)[0]!);
      await settle(world, [1, 2, 3]);
      // Now another member of each is down: the restarted ones must have caught up to serve.
      for (const gid of [1, 2, 3]) await world.crash(world.idsOf(gid)[1]!);
      await keys.check();
      await keys.appendAll('c');
      for (const gid of [1, 2, 3]) await world.start(world.idsOf(gid)[1]!);

      // A whole group down while buckets move among the others: it walks the versions it missed, in order.
      const before = await settle(world, [1, 2, 3]);
      await world.crashGroup(3);
      const notOf3 = before.buckets.map((owner, bucket) => (owner === 3 ? -1 : bucket)).filter((b) => b >= 0);
      const [first, second] = [notOf3[0]!, notOf3[1]!];
      await world.await(world.admin.move(first, first, before.buckets[first] === 1 ? 2 : 1));
      await world.await(world.admin.move(second, second, before.buckets[second] === 1 ? 2 : 1));
      await settle(world, [1, 2]);
      await world.startGroup(3);
      const after = await settle(world, [1, 2, 3]);
      assert.equal(after.version, before.version + 2, `seed ${seed}`);
      // A move that needs group 3 at the latest version works.
      const of3 = bucketsOf(after, 3)[0]!;
      await world.await(world.admin.move(of3, of3, 1));
      await settle(world, [1, 2, 3]);
      await keys.check();
      assertNoFailures(world);
      world.close();
    });

    it(`concurrent 1: clients run while groups join and leave; the history linearizes (seed ${seed})`, async () => {
      await concurrentRun(seed, { unreliable: false });
    });

    it(`concurrent 2: whole groups crash and restart while buckets move under load (seed ${seed})`, async () => {
      await concurrentRun(seed, { crashes: true });
    });

    it(`concurrent 3: with small snapshots, every shard member restarts after each change under load (seed ${seed})`, async () => {
      await concurrentRun(seed, { restartAll: true, snapshotEveryEntries: 30 });
    });

    it(`partitions: a shard group's leader is cut off after each change under load (seed ${seed})`, async () => {
      await concurrentRun(seed, { partitions: true });
    });

    it(`unreliable: the same with both networks losing, delaying and reordering (seed ${seed})`, async () => {
      await concurrentRun(seed, { unreliable: true });
    });

    it(`challenge deletion: the old owner keeps no data of buckets it gave away (seed ${seed})`, async () => {
      const world = await startWorld(seed, { gids: [1, 2, 3] });
      await world.await(world.admin.join([world.groupInfo(1)]));
      const keys = new Keys(world, world.client(0));
      await keys.fill();
      await world.await(world.admin.join([world.groupInfo(2)]));
      await world.await(world.admin.join([world.groupInfo(3)]));
      await world.await(world.admin.leave([2]));
      const config = await settle(world, [1, 2, 3]);
      for (const gid of [1, 2, 3]) {
        for (const id of world.idsOf(gid)) {
          assert.equal(foreignPairs(world, id, gid, config), 0, `seed ${seed}: node ${id} kept given-away data`);
        }
      }
      // Group 2 left: it holds no data at all.
      for (const id of world.idsOf(2)) {
        assert.equal(
          world.engineDisk(id).entries.filter((entry) => keyKind(entry.key) === 'data').length,
          0,
          `seed ${seed}: node ${id}`,
        );
      }
      await keys.check();
      assertNoFailures(world);
      world.close();
    });

    it(`challenge unaffected: buckets not moving are served while the old owner of moving ones is down (seed ${seed})`, async () => {
      const world = await startWorld(seed, { gids: [1, 2] });
      await world.await(world.admin.join([world.groupInfo(1)]));
      const keys = new Keys(world, world.client(0));
      await keys.fill();
      await world.await(world.admin.join([world.groupInfo(2)]));
      const config = await settle(world, [1, 2]);
      const ofGroup2 = (key: string): boolean => config.buckets[bucketOfText(key, config)] === 2;
      await keys.appendAll('2', ofGroup2);
      // Group 1 goes down and leaves: group 2 cannot pull its buckets, but serves its own throughout.
      await world.crashGroup(1);
      await world.await(world.admin.leave([1]));
      await world.runFor(1_000);
      assert.ok(isPulling(world, 2), `seed ${seed}: group 2 finished the change without group 1`);
      assert.ok((await keys.check(ofGroup2)) > 0, `seed ${seed}: no key of group 2`);
      await keys.appendAll('3', ofGroup2);
      assert.ok((await keys.check(ofGroup2)) > 0);
      // Once group 1 is back, the rest arrives.
      await world.startGroup(1);
      await keys.check();
      assertNoFailures(world);
      world.close();
    });

    it(`challenge partial: a received bucket is served before the whole change completes (seed ${seed})`, async () => {
      const world = await startWorld(seed, { gids: [1, 2, 3] });
      await world.await(world.admin.join([world.groupInfo(1), world.groupInfo(2), world.groupInfo(3)]));
      const keys = new Keys(world, world.client(0));
      await keys.fill();
      const config = await settle(world, [1, 2, 3]);
      const ofGroup3 = (key: string): boolean => config.buckets[bucketOfText(key, config)] === 3;
      // Group 1 is down; 1 and 3 leave: group 2 gets 3's buckets, but never 1's while it is down.
      await world.crashGroup(1);
      await world.await(world.admin.leave([1, 3]));
      await world.runFor(2_000);
      assert.ok(isPulling(world, 2), `seed ${seed}: group 2 finished the change without group 1`);
      assert.ok((await keys.check(ofGroup3)) > 0, `seed ${seed}: no key of group 3`);
      await keys.appendAll('p', ofGroup3);
      assert.ok((await keys.check(ofGroup3)) > 0);
      await world.startGroup(1);
      await keys.check();
      assertNoFailures(world);
      world.close();
    });
  }
});

/** Simulated time between two config changes of a concurrent run: longer when packets get lost, so that work gets done. */
const CHANGE_GAP_MS = 300;
const UNRELIABLE_CHANGE_GAP_MS = 1_000;
/** How long a crashed group stays down in concurrent 2. */
const GROUP_DOWN_MS = 300;
/** How long a leader stays cut off: long enough for the others to elect another. */
const PARTITION_MS = 600;

/**
 * 6.824's TestConcurrent1-3 and TestUnreliable: clients run through joins
 * and leaves (with whole groups crashing and restarting in between, every
 * member restarting from small snapshots, or over a lossy network), then
 * every append must be there once and the whole history must linearize.
 */
interface ConcurrentOptions {
  readonly unreliable?: boolean;
  /** After each change, one whole group crashes and comes back. */
  readonly crashes?: boolean;
  /** After each change, the leader of a random shard group is cut off from everyone for a while. */
  readonly partitions?: boolean;
  /** After each change, every member of every shard group crashes and comes back. */
  readonly restartAll?: boolean;
  readonly snapshotEveryEntries?: number;
}

async function concurrentRun(seed: number, options: ConcurrentOptions): Promise<void> {
  const world = await startWorld(seed, {
    gids: [1, 2, 3],
    ...(options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: options.snapshotEveryEntries }),
  });
  await world.await(world.admin.join([world.groupInfo(1)]));
  const random = new SeededRandom(seed * 7919 + 1);
  const workload = new ShardWorkload(world, random.fork(), 5);
  world.setReliable(options.unreliable !== true);
  workload.start();
  const changes: (() => Promise<ShardConfig>)[] = [
    () => world.admin.join([world.groupInfo(2)]),
    () => world.admin.join([world.groupInfo(3)]),
    () => world.admin.leave([1]),
    () => world.admin.join([world.groupInfo(1)]),
    () => world.admin.leave([2]),
    () => world.admin.join([world.groupInfo(2)]),
  ];
  for (const change of changes) {
    await world.runFor(options.unreliable === true ? UNRELIABLE_CHANGE_GAP_MS : CHANGE_GAP_MS);
    await world.await(change());
    if (options.crashes === true) {
      const gid = 1 + random.int(3);
      await world.crashGroup(gid);
      await world.runFor(GROUP_DOWN_MS);
      await world.startGroup(gid);
    }
    if (options.partitions === true) {
      const gid = 1 + random.int(3);
      const leader = world.idsOf(gid).find((id) => world.isUp(id) && world.node(id).core.role === 'leader');
      if (leader !== undefined) {
        world.isolate(leader);
        await world.runFor(PARTITION_MS);
        world.heal();
      }
    }
    if (options.restartAll === true) {
      for (const gid of [1, 2, 3]) await world.crashGroup(gid);
      for (const gid of [1, 2, 3]) await world.startGroup(gid);
    }
  }
  await world.runFor(1_000);
  world.setReliable(true);
  await workload.stop();
  await workload.checkAppends();
  await settle(world, [1, 2, 3]);
  assertNoFailures(world);
  const verdict = checkKvHistory(workload.history);
  assert.ok(verdict.ok, `seed ${seed}: history of key ${verdict.key} is not linearizable`);
  assert.ok(workload.operations > 20, `seed ${seed}: only ${workload.operations} operations ran`);
  if (process.env.SHARD_SCENARIO_VERBOSE !== undefined) {
    console.log(`seed ${seed}: ${workload.operations} operations, ${world.nowMs} simulated ms`);
  }
  workload.close();
  world.close();
}
