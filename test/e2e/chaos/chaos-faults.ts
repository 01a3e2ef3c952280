/**
 * The faults a chaos run injects, one kind per entry of FAULTS: how each
 * picks its victim (with the fault's own seeded random source), how long it
 * lasts, and how it is healed. A new kind is one more name in FAULT_KINDS
 * and one more entry in FAULTS; the nemesis, the --faults flag and the
 * report pick it up.
 */
import path from 'node:path';
import { realClientClock } from '../../../src/client/channel.js';
import { MembersClient } from '../../../src/client/members-client.js';
import type { MetaClient } from '../../../src/client/meta-client.js';
import { replaceMember } from '../../../src/client/replace-member.js';
import { bucketCounts, bucketsOf } from '../../../src/meta/config.js';
import type { SeededRandom } from '../../../src/sim/random.js';
import { tearLogTail } from '../support/disk-faults.js';
import type { ChaosCluster, ChaosGroup } from './chaos-cluster.js';
import type { DiskBreak } from './chaos-disks.js';

export const FAULT_KINDS = [
  'kill',
  'kill-leader',
  'kill-meta',
  'kill-during-move',
  'pause',
  'partition-majority',
  'partition-bridge',
  'partition-leader',
  'disk-fsync',
  'disk-full',
  'torn-tail',
  'replace',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** The kinds that cut the network between real processes. */
export const NETWORK_FAULTS: readonly FaultKind[] = ['partition-majority', 'partition-bridge', 'partition-leader'];

/** The kinds that break a member's disk. */
export const DISK_FAULTS: readonly FaultKind[] = ['disk-fsync', 'disk-full', 'torn-tail'];

/** Names --faults takes besides the kinds themselves. */
export const FAULT_SETS: Readonly<Record<string, readonly FaultKind[]>> = {
  all: FAULT_KINDS,
  kills: ['kill', 'kill-leader', 'kill-meta', 'kill-during-move'],
  network: NETWORK_FAULTS,
  disk: DISK_FAULTS,
};

/** A fault in place: what was done, how long to leave it, and how to undo it. */
export interface InjectedFault {
  readonly description: string;
  readonly holdMs: number;
  /** Undoes the fault; answers what it did, for the log. */
  heal(): Promise<string>;
}

export interface FaultContext {
  readonly cluster: ChaosCluster;
  /** For the bucket moves the nemesis makes. */
  readonly meta: MetaClient;
}

type Inject = (context: FaultContext, random: SeededRandom) => Promise<InjectedFault>;

/** Down for less than an election timeout or several: both a quick restart and a real absence happen. */
const KILL_DOWN_MS = [200, 2_000] as const;
/** Longer than an election timeout (10 to 20 ticks of 50 ms): the others elect a leader meanwhile. */
const PAUSE_MS = [1_500, 3_000] as const;
const PARTITION_MS = [2_000, 5_000] as const;
/** A move leaves each group at least this many buckets, so both keep serving keys. */
const BUCKETS_KEPT_MIN = 2;
const MOVE_BUCKETS_MAX = 3;
/** The kill lands this soon after the move is committed: while the buckets are in flight. */
const KILL_AFTER_MOVE_MS_MAX = 300;
/**
 * A member of a shard group under the clients' writes syncs its log many
 * times a second; one whose disk broke and that has not exited after this
 * long is reported in the fault's description (and restarted only if it exits).
 */
const DISK_EXIT_WAIT_MS = 15_000;
/** A restarted member has this long to apply what its group had committed. */
const CATCH_UP_TIMEOUT_MS = 30_000;
/** Each step of a replacement (the members service) must be answered within this; a step put off is resent. */
const REPLACE_STEP_DEADLINE_MS = 20_000;
/** How long the disk stays broken after the member exited: the operator's time to replace it. */
const DISK_BROKEN_MS = [200, 2_000] as const;

function between(random: SeededRandom, [minMs, maxMs]: readonly [number, number]): number {
  return random.intBetween(minMs, maxMs);
}

function nodeName(group: ChaosGroup, id: number): string {
  return `${group.name} node ${id}`;
}

/** The group's leader, or a random member when it has none right now (an election is on), and which of the two. */
async function leaderOrAny(
  cluster: ChaosCluster,
  group: ChaosGroup,
  random: SeededRandom,
): Promise<{ id: number; role: string; isLeader: boolean }> {
  // Drawn whether needed or not, so that the schedule's later draws do not depend on who leads.
  const fallback = random.pick(group.processes.ids);
  const leader = await cluster.leaderOf(group);
  return leader === null
    ? { id: fallback, role: ' (no leader known: a random member)', isLeader: false }
    : { id: leader, role: ' (its leader)', isLeader: true };
}

async function killAndRestart(
  group: ChaosGroup,
  id: number,
  random: SeededRandom,
  why: string,
): Promise<InjectedFault> {
  await group.processes.kill(id);
  return {
    description: `SIGKILL ${nodeName(group, id)}${why}`,
    holdMs: between(random, KILL_DOWN_MS),
    heal: async () => {
      await group.processes.start(id);
      return `restarted ${nodeName(group, id)}`;
    },
  };
}

function partition(
  cluster: ChaosCluster,
  group: ChaosGroup,
  side: readonly number[],
  others: readonly number[],
  random: SeededRandom,
  what: string,
): InjectedFault {
  const cut = cluster.proxy.cutBetween(side, others);
  return {
    description: `${what} in ${group.name}: ${side.join(',')} | ${others.join(',')} (${cut.length} links cut)`,
    holdMs: between(random, PARTITION_MS),
    heal: () => {
      cluster.proxy.healAll();
      return Promise.resolve('links restored');
    },
  };
}

async function caughtUp(cluster: ChaosCluster, group: ChaosGroup, id: number): Promise<string> {
  const { index, ms } = await cluster.catchUp(group, id, CATCH_UP_TIMEOUT_MS);
  return `it applied its group's commit index ${index} ${(ms / 1000).toFixed(2)} s later`;
}

/**
 * Breaks the disk of a random shard group member (fsyncs fail, or the disk
 * is full) and waits for it to exit, as it must, with the disk failure code
 * (ChaosCluster records how it exited); the heal mends the disk and
 * restarts it, and it catches up from its peers.
 */
async function breakDisk(cluster: ChaosCluster, random: SeededRandom, how: DiskBreak): Promise<InjectedFault> {
  const group = random.pick(cluster.shardGroups);
  const id = random.pick(group.processes.ids);
  const holdMs = between(random, DISK_BROKEN_MS);
  const exitsBefore = cluster.exits.length;
  const brokenAtMs = performance.now();
  await cluster.disks.break(id, how);
  const exit = await cluster.exitOf(id, exitsBefore, DISK_EXIT_WAIT_MS);
  const what = how === 'fsync-eio' ? 'fsync fails with EIO' : 'disk full (ENOSPC)';
  const outcome =
    exit === null
      ? `it still runs after ${DISK_EXIT_WAIT_MS} ms`
      : `it exited with ${exit.code ?? exit.signal} after ${((performance.now() - brokenAtMs) / 1000).toFixed(2)} s`;
  return {
    description: `${what} on ${nodeName(group, id)}: ${outcome}`,
    holdMs,
    heal: async () => {
      await cluster.disks.heal(id);
      // One that never exited keeps running on the mended disk; one that did is started again.
      if ((await cluster.exitOf(id, exitsBefore, 0)) === null) return `mended the disk of ${nodeName(group, id)}`;
      await group.processes.start(id);
      return `mended the disk of ${nodeName(group, id)} and restarted it; ${await caughtUp(cluster, group, id)}`;
    },
  };
}

/**
 * Moves a run of one to MOVE_BUCKETS_MAX consecutive buckets from one shard
 * group to the other, leaving the giver BUCKETS_KEPT_MIN at least; answers
 * what moved.
 */
async function moveSomeBuckets(context: FaultContext, random: SeededRandom): Promise<string> {
  const config = await context.meta.query();
  const gids = context.cluster.shardGroups.map((group) => group.gid);
  const counts = bucketCounts(config);
  const givers = gids.filter((gid) => (counts.get(gid) ?? 0) > BUCKETS_KEPT_MIN);
  if (givers.length === 0) throw new Error(`no group has more than ${BUCKETS_KEPT_MIN} buckets to give`);
  const from = random.pick(givers);
  const to = random.pick(gids.filter((gid) => gid !== from));
  const owned = bucketsOf(config, from);
  const first = random.pick(owned);
  const sizeMax = Math.min(random.intBetween(1, MOVE_BUCKETS_MAX), owned.length - BUCKETS_KEPT_MIN);
  let last = first;
  while (last - first + 1 < sizeMax && config.buckets[last + 1] === from) last += 1;
  await context.meta.move(first, last, to);
  const range = first === last ? `bucket ${first}` : `buckets ${first}-${last}`;
  return `${range} move from group ${from} to group ${to}`;
}

export const FAULTS: Readonly<Record<FaultKind, Inject>> = {
  kill: async ({ cluster }, random) => {
    const group = random.pick(cluster.groups);
    return killAndRestart(group, random.pick(group.processes.ids), random, '');
  },
  'kill-leader': async ({ cluster }, random) => {
    const group = random.pick(cluster.shardGroups);
    const { id, role } = await leaderOrAny(cluster, group, random);
    return killAndRestart(group, id, random, role);
  },
  'kill-meta': async ({ cluster }, random) => {
    const group = cluster.meta;
    const { id, role } = random.chance(0.5)
      ? await leaderOrAny(cluster, group, random)
      : { id: random.pick(group.processes.ids), role: '' };
    return killAndRestart(group, id, random, role);
  },
  'kill-during-move': async (context, random) => {
    const move = await moveSomeBuckets(context, random);
    await new Promise((resolve) => setTimeout(resolve, random.int(KILL_AFTER_MOVE_MS_MAX)));
    const group = random.pick(context.cluster.shardGroups);
    const { id, role } = random.chance(0.5)
      ? await leaderOrAny(context.cluster, group, random)
      : { id: random.pick(group.processes.ids), role: '' };
    return killAndRestart(group, id, random, `${role} while ${move}`);
  },
  pause: async ({ cluster }, random) => {
    const group = random.pick(cluster.groups);
    const { id, role } = await leaderOrAny(cluster, group, random);
    group.processes.pause(id);
    return {
      description: `SIGSTOP ${nodeName(group, id)}${role}`,
      holdMs: between(random, PAUSE_MS),
      heal: () => {
        group.processes.resume(id);
        return Promise.resolve(`SIGCONT ${nodeName(group, id)}`);
      },
    };
  },
  'partition-majority': ({ cluster }, random) => {
    const group = random.pick(cluster.groups);
    const minority = random.pick(group.processes.ids);
    const majority = group.processes.ids.filter((id) => id !== minority);
    return Promise.resolve(partition(cluster, group, [minority], majority, random, 'majority/minority split'));
  },
  'partition-bridge': ({ cluster }, random) => {
    const group = random.pick(cluster.groups);
    const [left, bridge, right] = random.shuffle([...group.processes.ids]);
    const fault = partition(cluster, group, [left!], [right!], random, `bridge through node ${bridge}`);
    return Promise.resolve(fault);
  },
  'partition-leader': async ({ cluster }, random) => {
    const group = random.pick(cluster.groups);
    const { id: leader, isLeader } = await leaderOrAny(cluster, group, random);
    const others = group.processes.ids.filter((id) => id !== leader);
    const what = isLeader ? 'leader isolated' : 'a random member isolated (no leader known)';
    return partition(cluster, group, [leader], others, random, what);
  },
  'disk-fsync': ({ cluster }, random) => breakDisk(cluster, random, 'fsync-eio'),
  'disk-full': ({ cluster }, random) => breakDisk(cluster, random, 'enospc'),
  replace: replaceOne,
  'torn-tail': async ({ cluster }, random) => {
    const group = random.pick(cluster.groups);
    const id = random.pick(group.processes.ids);
    await group.processes.kill(id);
    const torn = await tearLogTail(path.join(group.processes.directory, `node-${id}`));
    return {
      description: `SIGKILL ${nodeName(group, id)}, tore its log tail at ${path.basename(torn.path)}:${torn.offsetBytes}`,
      holdMs: between(random, KILL_DOWN_MS),
      heal: async () => {
        await group.processes.start(id);
        return `restarted ${nodeName(group, id)}; ${await caughtUp(cluster, group, id)}`;
      },
    };
  },
};

/**
 * Replaces a member of a shard group (its leader half the time) by a new
 * one, as `raftkv admin replace` does, while the clients go on: the new
 * member starts with --join, joins as a learner, catches up, becomes a
 * voter, the old one is removed and stopped for good, and the meta group
 * learns the new member list. Nothing to heal: the group is whole again.
 */
async function replaceOne(context: FaultContext, random: SeededRandom): Promise<InjectedFault> {
  const { cluster } = context;
  const group = random.pick(cluster.shardGroups);
  const { id: old, role } = random.chance(0.5)
    ? await leaderOrAny(cluster, group, random)
    : { id: random.pick(group.processes.ids), role: '' };
  const startMs = performance.now();
  const added = await cluster.addMember(group);
  const { membership } = await replaceMember(
    { gid: group.gid, oldId: old, newMember: { id: added.id, address: added.address }, peerAddress: added.peerAddress },
    {
      meta: context.meta,
      group: (members) =>
        MembersClient.forMembers(members, { clusterId: cluster.clusterId, deadlineMs: REPLACE_STEP_DEADLINE_MS }),
      clock: realClientClock,
      catchUpDeadlineMs: CATCH_UP_TIMEOUT_MS,
    },
  );
  await group.processes.removeMember(old);
  const seconds = ((performance.now() - startMs) / 1000).toFixed(2);
  return {
    description:
      `replaced ${nodeName(group, old)}${role} by node ${added.id} in ${seconds} s ` +
      `(voters now ${membership.voters.join(',')}); node ${old} stopped for good`,
    holdMs: between(random, KILL_DOWN_MS),
    heal: () => Promise.resolve('nothing to heal: the group has three voters again'),
  };
}

/** The kinds a --faults value names: kinds and set names, comma separated. */
export function parseFaultKinds(value: string): FaultKind[] {
  const kinds = new Set<FaultKind>();
  for (const name of value.split(',').map((part) => part.trim())) {
    const set = FAULT_SETS[name];
    if (set !== undefined) for (const kind of set) kinds.add(kind);
    else if ((FAULT_KINDS as readonly string[]).includes(name)) kinds.add(name as FaultKind);
    else {
      throw new Error(
        `unknown fault '${name}': choose among ${[...Object.keys(FAULT_SETS), ...FAULT_KINDS].join(', ')}, comma separated`,
      );
    }
  }
  return [...kinds];
}
