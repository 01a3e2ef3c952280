/**
 * The faults a chaos run injects, one kind per entry of FAULTS: how each
 * picks its victim (with the fault's own seeded random source), how long it
 * lasts, and how it is healed. A new kind (disk faults: a torn log tail, a
 * failed fsync, a full disk) is one more name in FAULT_KINDS and one more
 * entry in FAULTS; the nemesis, the --faults flag and the report pick it up.
 * Replacing a member of a group under load waits for a membership API: the
 * Raft core can change membership, but no node exposes it yet.
 */
import type { MetaClient } from '../../../src/client/meta-client.js';
import { bucketCounts, bucketsOf } from '../../../src/meta/config.js';
import type { SeededRandom } from '../../../src/sim/random.js';
import type { ChaosCluster, ChaosGroup } from './chaos-cluster.js';

export const FAULT_KINDS = [
  'kill',
  'kill-leader',
  'kill-meta',
  'kill-during-move',
  'pause',
  'partition-majority',
  'partition-bridge',
  'partition-leader',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** The kinds that cut the network between real processes. */
export const NETWORK_FAULTS: readonly FaultKind[] = ['partition-majority', 'partition-bridge', 'partition-leader'];

/** Names --faults takes besides the kinds themselves. */
export const FAULT_SETS: Readonly<Record<string, readonly FaultKind[]>> = {
  all: FAULT_KINDS,
  kills: ['kill', 'kill-leader', 'kill-meta', 'kill-during-move'],
  network: NETWORK_FAULTS,
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
};

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
