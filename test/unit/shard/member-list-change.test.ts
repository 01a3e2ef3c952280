/**
 * A config version that only changes a group's member list (the meta
 * group's members command, which `admin replace` sends once the Raft side
 * has swapped a node): shard groups walk it like any other version, no
 * bucket moves, and clients and bucket transfers reach the group through
 * the new list, even a transfer of an older version that names the old one.
 *
 * The simulated groups' Raft membership stays fixed, so the scenario plays
 * the replacement the other way round: the config names a member that is
 * gone (19) and leaves out one that runs (13), as it would between the
 * Raft change and the members command; then node 13 is made to lead, so
 * that nothing reaches group 1 through the old list.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8Text } from '../../../src/kv/commands.js';
import type { GroupId, ShardConfig } from '../../../src/meta/index.js';
import { bucketOf } from '../../../src/shard/index.js';
import type { NodeId } from '../../../src/raft/index.js';
import { ShardWorld } from '../../support/shard-world.js';

const SEEDS = (process.env.SHARD_SEEDS ?? '1,2,3').split(',').map(Number);
const KEY_COUNT = 30;
/** Simulated time a config change may take to settle everywhere. */
const SETTLE_MS = 10_000;
/** Leader changes tried before giving up on making one node lead: each picks one of two nodes. */
const LEADER_MOVES_MAX = 30;

function leaderOf(world: ShardWorld, gid: GroupId): NodeId | null {
  return world.idsOf(gid).find((id) => world.isUp(id) && world.node(id).core.role === 'leader') ?? null;
}

/** Crashes (and restarts) whoever leads group `gid` until `target` leads it. */
async function makeLeader(world: ShardWorld, gid: GroupId, target: NodeId): Promise<void> {
  for (let moves = 0; moves < LEADER_MOVES_MAX; moves++) {
    assert.ok(await world.runUntil(() => leaderOf(world, gid) !== null, 5_000), `seed ${world.seed}: no leader`);
    const leader = leaderOf(world, gid)!;
    if (leader === target) return;
    await world.crash(leader);
    await world.runUntil(() => leaderOf(world, gid) !== null, 5_000);
    await world.start(leader);
  }
  assert.fail(`seed ${world.seed}: node ${target} never came to lead group ${gid}`);
}

async function settle(world: ShardWorld): Promise<ShardConfig> {
  const latest = await world.await(world.admin.query());
  const settled = await world.runUntil(() => world.settledAt(latest.version, [1, 2]), SETTLE_MS);
  assert.ok(
    settled,
    `seed ${world.seed}: groups did not settle at version ${latest.version}\n${world.recentProblems()}`,
  );
  return latest;
}

describe("a config that changes only a group's member list", () => {
  for (const seed of SEEDS) {
    it(`moves no bucket, and clients and an older version's transfer reach the new members (seed ${seed})`, async () => {
      const world = new ShardWorld(seed, { gids: [1, 2] });
      await world.startAll();
      // Node 13 runs in group 1, but the config still names 19, the node it replaced.
      const stale = {
        gid: 1,
        members: [...world.groupInfo(1).members.slice(0, 2), { id: 19, address: 'n19.sim:7000' }],
      };
      await makeLeader(world, 1, 11);
      await world.await(world.admin.join([stale, world.groupInfo(2)]));
      const client = world.client(0);
      const values = new Map<string, string>();
      for (let index = 0; index < KEY_COUNT; index++) {
        values.set(`key-${index}`, `value-${index}`);
        await world.await(client.put(`key-${index}`, `value-${index}`));
      }
      const before = await settle(world);

      // Nothing reaches group 1 through the config's list any more.
      await makeLeader(world, 1, 13);
      // A move at version v: group 2 pulls from group 1, which version v - 1 lists as {11, 12, 19}...
      const bucket = before.buckets.indexOf(1);
      const moved = await world.await(world.admin.move(bucket, bucket, 2));
      // ...and version v + 1 lists as it is.
      const fixed = await world.await(world.admin.setMembers(1, world.groupInfo(1).members));
      assert.equal(fixed.version, moved.version + 1);
      assert.deepEqual(fixed.buckets, moved.buckets, 'the members change moved buckets');
      assert.deepEqual(
        fixed.groups.find((group) => group.gid === 1)?.members.map((member) => member.id),
        [11, 12, 13],
      );

      await settle(world);
      for (const [key, value] of values) {
        const read = await world.await(client.get(key));
        assert.equal(read === null ? null : utf8Text(read), value, `seed ${seed}: key ${key}`);
      }
      const movedKeys = [...values.keys()].filter(
        (key) => bucketOf(Buffer.from(key), before.buckets.length) === bucket,
      );
      assert.ok(movedKeys.length > 0, `seed ${seed}: no key in the moved bucket ${bucket}`);
      assert.deepEqual(world.failures, [], `seed ${seed}`);
      world.close();
    });
  }
});
