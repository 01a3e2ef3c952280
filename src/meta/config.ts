/**
 * The config table's vocabulary: which replica group serves each hash bucket,
 * and where each group's members listen.
 *
 * Configs form a version chain. Version 0 is the empty config (no groups,
 * every bucket unassigned); every successful join, leave or move, and every
 * members command that changes a group's member list, appends the next
 * version, and an old version never changes, so a shard group that was away
 * can walk the chain one version at a time.
 *
 * The bucket count B is fixed by the first successful join and never changes
 * afterwards: keys are routed by CRC32(key) mod B, so a new B would move almost
 * every key. Until then the count is unknown and version 0 has no buckets;
 * from then on version 0 reads as B unassigned buckets, like every later
 * version has B entries. (Version 0 is never stored: it is derived from B.)
 *
 * Configs are plain frozen data: they go into replies, snapshots and the
 * wire, and one shared object must not be changed by whoever receives it.
 */

/** A replica group: a positive integer. 0 in a bucket slot means "no group". */
export type GroupId = number;
/** A hash bucket: 0 .. bucketCount - 1. */
export type BucketId = number;

/** The group id a bucket has before any group owns it. */
export const UNASSIGNED: GroupId = 0;
/** Buckets when the first join does not say (eraft's default). */
export const BUCKET_COUNT_DEFAULT = 10;
/** Most buckets: a config is copied per version, and 1024 already spreads load over hundreds of groups. */
export const BUCKET_COUNT_MAX = 1024;
/** Largest group id: shard groups carry it in u32 fields of their binary formats. */
export const GROUP_ID_MAX = 0xffff_ffff;
/**
 * Most groups in one config. More groups than buckets is allowed (the spare
 * ones own nothing, like 6.824's), but not unboundedly many.
 */
export const GROUPS_MAX = 1024;
/** Most members per group: a Raft group of more than 9 voters is slower, not safer. */
export const MEMBERS_PER_GROUP_MAX = 9;
/** Largest member id: the node ids of src/raft are carried in u32 fields too. */
export const MEMBER_ID_MAX = 0xffff_ffff;

/** One member of a replica group: its Raft node id and where its shard server listens. */
export interface MemberInfo {
  readonly id: number;
  /** host:port; an IPv6 host in brackets: [::1]:7000. */
  readonly address: string;
}

export interface GroupInfo {
  readonly gid: GroupId;
  /** Sorted by id, ids distinct, at least one. */
  readonly members: readonly MemberInfo[];
}

export interface ShardConfig {
  readonly version: number;
  /** Owner of each bucket, indexed by bucket; UNASSIGNED when none. Length B once B is fixed. */
  readonly buckets: readonly GroupId[];
  /** Sorted by gid, gids distinct. Every gid in `buckets` is here; a group here may own no bucket. */
  readonly groups: readonly GroupInfo[];
}

/** Version 0: no groups, `bucketCount` unassigned buckets (none while the count is not fixed). */
export function emptyConfig(bucketCount: number | null): ShardConfig {
  return freezeConfig({ version: 0, buckets: new Array<GroupId>(bucketCount ?? 0).fill(UNASSIGNED), groups: [] });
}

/** The buckets `gid` owns, ascending. */
export function bucketsOf(config: ShardConfig, gid: GroupId): BucketId[] {
  const owned: BucketId[] = [];
  config.buckets.forEach((owner, bucket) => {
    if (owner === gid) owned.push(bucket);
  });
  return owned;
}

/** The group that owns `bucket`, or null while it is unassigned. */
export function groupOf(config: ShardConfig, bucket: BucketId): GroupInfo | null {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= config.buckets.length) {
    throw new Error(`bucket ${bucket} is outside 0..${config.buckets.length - 1} of config ${config.version}`);
  }
  const gid = config.buckets[bucket]!;
  return gid === UNASSIGNED ? null : (findGroup(config, gid) ?? null);
}

/** The group `gid` of `config`, if it is there. */
export function findGroup(config: ShardConfig, gid: GroupId): GroupInfo | undefined {
  return config.groups.find((group) => group.gid === gid);
}

/** How many buckets each group of `config` owns, in gid order (groups that own none count 0). */
export function bucketCounts(config: ShardConfig): Map<GroupId, number> {
  const counts = new Map<GroupId, number>(config.groups.map((group) => [group.gid, 0]));
  for (const gid of config.buckets) if (gid !== UNASSIGNED) counts.set(gid, (counts.get(gid) ?? 0) + 1);
  return counts;
}

/**
 * The canonical JSON text of a config: keys in a fixed order, no spaces.
 * Equal configs give equal text on every replica, whoever built the objects
 * and in whatever key order, so it is what replies, snapshots and tests compare.
 */
export function canonicalConfigJson(config: ShardConfig): string {
  return JSON.stringify(canonicalConfigValue(config));
}

/** The config as a fresh plain value with keys in canonical order (for embedding in a larger JSON text). */
export function canonicalConfigValue(config: ShardConfig): unknown {
  return {
    version: config.version,
    buckets: [...config.buckets],
    groups: config.groups.map((group) => ({
      gid: group.gid,
      members: group.members.map((member) => ({ id: member.id, address: member.address })),
    })),
  };
}

/**
 * Checks what every config must satisfy and returns it frozen (deeply), so
 * the chain cannot be changed through a reply that shares its objects.
 * Throws on a violation: configs are built by this module, so a bad one is a bug.
 */
export function freezeConfig(config: ShardConfig): ShardConfig {
  const problem = configProblem(config);
  if (problem !== null) throw new Error(`invalid config ${config.version}: ${problem}`);
  for (const group of config.groups) {
    for (const member of group.members) Object.freeze(member);
    Object.freeze(group.members);
    Object.freeze(group);
  }
  Object.freeze(config.buckets);
  Object.freeze(config.groups);
  return Object.freeze(config);
}

/** What is wrong with `config`, or null. Used for configs we build and configs we decode. */
export function configProblem(config: ShardConfig): string | null {
  if (!Number.isSafeInteger(config.version) || config.version < 0) return `version ${config.version} is not valid`;
  if (config.buckets.length > BUCKET_COUNT_MAX) {
    return `${config.buckets.length} buckets, over the limit of ${BUCKET_COUNT_MAX}`;
  }
  if (config.groups.length > GROUPS_MAX) return `${config.groups.length} groups, over the limit of ${GROUPS_MAX}`;
  let previousGid = UNASSIGNED;
  for (const group of config.groups) {
    if (!isGroupId(group.gid)) return `group id ${group.gid} is not an integer in 1..${GROUP_ID_MAX}`;
    if (group.gid <= previousGid) return `groups are not sorted by distinct gid (${group.gid} after ${previousGid})`;
    previousGid = group.gid;
    if (group.members.length === 0 || group.members.length > MEMBERS_PER_GROUP_MAX) {
      return `group ${group.gid} has ${group.members.length} members, not 1..${MEMBERS_PER_GROUP_MAX}`;
    }
    let previousId = 0;
    for (const member of group.members) {
      if (!isMemberId(member.id) || member.id <= previousId) {
        return `group ${group.gid}: member ids are not sorted, distinct integers in 1..${MEMBER_ID_MAX}`;
      }
      previousId = member.id;
    }
  }
  const gids = new Set(config.groups.map((group) => group.gid));
  for (const [bucket, gid] of config.buckets.entries()) {
    if (gid !== UNASSIGNED && !gids.has(gid)) return `bucket ${bucket} belongs to group ${gid}, which is not in it`;
  }
  if (gids.size > 0 && config.buckets.includes(UNASSIGNED)) return 'a bucket is unassigned while groups exist';
  return null;
}

export function isGroupId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= GROUP_ID_MAX;
}

export function isMemberId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MEMBER_ID_MAX;
}
