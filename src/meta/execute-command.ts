/**
 * What a join, leave, move or members command does to the latest config:
 * the next config, or the error that says why there is none. Pure and
 * deterministic (every replica computes the same config from the same
 * command); exactly-once and the version chain itself are the state
 * machine's business.
 *
 * Checks run in a fixed order and the first failure is the answer, so a
 * command with several problems gets the same error on every replica:
 * emptiness, then the bucket count, then each group or gid in command order,
 * then the command as a whole.
 *
 * members checks its list as a join checks a joining group's, except that
 * the group's own current addresses are free for it to keep. A list equal
 * to the current one (after sorting by id) is answered with the latest
 * config and creates no version: setting what is already set is not a
 * change, and shard groups need not walk a version that moves nothing.
 *
 * Leaving the last group is refused while it owns buckets (lastGroupOwnsBuckets).
 * 6.824's controller lets every group leave and parks the shards on group 0;
 * here a bucket's data lives only in its group, and a group that leaves hands
 * its buckets to the groups that stay, so with nobody to receive them the
 * data would be stranded and every key unservable. Since every bucket is
 * owned whenever any group exists, this means: at least one group stays.
 */
import type {
  JoinCommand,
  LeaveCommand,
  MembersCommand,
  MetaError,
  MetaWriteCommand,
  MoveCommand,
} from './commands.js';
import {
  addressInUse,
  badAddress,
  badBucketCount,
  badGroupId,
  badMembers,
  bucketOutOfRange,
  duplicateGroupId,
  emptyJoin,
  emptyLeave,
  groupExists,
  lastGroupOwnsBuckets,
  tooManyGroups,
  unknownGroup,
} from './commands.js';
import type { GroupId, GroupInfo, MemberInfo, ShardConfig } from './config.js';
import {
  BUCKET_COUNT_DEFAULT,
  BUCKET_COUNT_MAX,
  findGroup,
  freezeConfig,
  GROUPS_MAX,
  isGroupId,
  isMemberId,
  MEMBER_ID_MAX,
  MEMBERS_PER_GROUP_MAX,
  UNASSIGNED,
} from './config.js';
import { addressProblem } from './member-address.js';
import { rebalance } from './rebalance.js';

/** The end of the version chain that a write builds on. */
export interface ChainTip {
  readonly latest: ShardConfig;
  /** Fixed by the first successful join; null before it. */
  readonly bucketCount: number | null;
}

export type WriteOutcome =
  | {
      readonly ok: true;
      readonly config: ShardConfig;
      readonly bucketCount: number | null;
      /** False when the command changed nothing: `config` is the latest one, not a new version. */
      readonly created: boolean;
    }
  | { readonly ok: false; readonly error: MetaError };

export function executeWrite(tip: ChainTip, command: MetaWriteCommand): WriteOutcome {
  switch (command.type) {
    case 'join':
      return join(tip, command);
    case 'leave':
      return leave(tip, command);
    case 'move':
      return move(tip, command);
    case 'members':
      return setMembers(tip, command);
  }
}

function join(tip: ChainTip, command: JoinCommand): WriteOutcome {
  if (command.groups.length === 0) return failure(emptyJoin());
  const bucketCount = tip.bucketCount ?? command.bucketCount ?? BUCKET_COUNT_DEFAULT;
  if (command.bucketCount !== undefined && command.bucketCount !== bucketCount) {
    return failure(badBucketCount(command.bucketCount, tip.bucketCount));
  }
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > BUCKET_COUNT_MAX) {
    return failure(badBucketCount(bucketCount, null));
  }
  const { latest } = tip;
  const addressOwners = addressOwnersOf(latest.groups);
  const joining = new Set<GroupId>();
  for (const group of command.groups) {
    const error = joinGroupError(latest, group, joining, addressOwners);
    if (error !== null) return failure(error);
    joining.add(group.gid);
  }
  const groupCount = latest.groups.length + command.groups.length;
  if (groupCount > GROUPS_MAX) return failure(tooManyGroups(groupCount));

  const added = command.groups.map((group) => ({ gid: group.gid, members: sortedMembers(group.members) }));
  const groups = [...latest.groups, ...added].sort((a, b) => a.gid - b.gid);
  // Before the first join the latest config (version 0) has no buckets yet: start from B unassigned ones.
  const current =
    latest.buckets.length === bucketCount ? latest.buckets : new Array<GroupId>(bucketCount).fill(UNASSIGNED);
  return next(latest, rebalance(current, groupIds(groups)), groups, bucketCount);
}

/** Why `group` cannot join, or null; records its addresses in `addressOwners` as it goes. */
function joinGroupError(
  latest: ShardConfig,
  group: GroupInfo,
  joining: ReadonlySet<GroupId>,
  addressOwners: Map<string, GroupId>,
): MetaError | null {
  const { gid } = group;
  if (!isGroupId(gid)) return badGroupId(gid);
  if (joining.has(gid)) return duplicateGroupId(gid);
  if (findGroup(latest, gid) !== undefined) return groupExists(gid);
  return membersError(gid, group.members, addressOwners);
}

/**
 * Why `members` cannot be group `gid`'s member list, or null; records their
 * addresses in `addressOwners` (address to the group that has it) as it goes.
 */
function membersError(
  gid: GroupId,
  members: readonly MemberInfo[],
  addressOwners: Map<string, GroupId>,
): MetaError | null {
  if (members.length === 0) return badMembers(gid, 'it has no members');
  if (members.length > MEMBERS_PER_GROUP_MAX) {
    return badMembers(gid, `it has ${members.length} members, over the limit of ${MEMBERS_PER_GROUP_MAX}`);
  }
  const ids = new Set<number>();
  for (const member of members) {
    if (!isMemberId(member.id))
      return badMembers(gid, `member id ${member.id} is not an integer in 1..${MEMBER_ID_MAX}`);
    if (ids.has(member.id)) return badMembers(gid, `member id ${member.id} is given twice`);
    ids.add(member.id);
    const problem = addressProblem(member.address);
    if (problem !== null) return badAddress(gid, member.id, member.address, problem);
    const owner = addressOwners.get(member.address);
    if (owner !== undefined) return addressInUse(gid, member.address, owner);
    addressOwners.set(member.address, gid);
  }
  return null;
}

function leave(tip: ChainTip, command: LeaveCommand): WriteOutcome {
  if (command.gids.length === 0) return failure(emptyLeave());
  const { latest } = tip;
  const leaving = new Set<GroupId>();
  for (const gid of command.gids) {
    if (leaving.has(gid)) return failure(duplicateGroupId(gid));
    if (findGroup(latest, gid) === undefined) return failure(unknownGroup(gid));
    leaving.add(gid);
  }
  const groups = latest.groups.filter((group) => !leaving.has(group.gid));
  if (groups.length === 0 && latest.buckets.some((gid) => gid !== UNASSIGNED)) {
    return failure(lastGroupOwnsBuckets());
  }
  return next(latest, rebalance(latest.buckets, groupIds(groups)), groups, tip.bucketCount);
}

function move(tip: ChainTip, command: MoveCommand): WriteOutcome {
  const { latest } = tip;
  const { fromBucket, toBucket, gid } = command;
  if (findGroup(latest, gid) === undefined) return failure(unknownGroup(gid));
  // A group exists, so the first join has fixed the bucket count and the latest config has them all.
  const bucketCount = latest.buckets.length;
  if (fromBucket < 0 || toBucket >= bucketCount || fromBucket > toBucket) {
    return failure(bucketOutOfRange(fromBucket, toBucket, bucketCount));
  }
  const buckets = latest.buckets.map((owner, bucket) => (bucket >= fromBucket && bucket <= toBucket ? gid : owner));
  return next(latest, buckets, latest.groups, tip.bucketCount);
}

function setMembers(tip: ChainTip, command: MembersCommand): WriteOutcome {
  const { latest } = tip;
  const { gid } = command;
  const current = findGroup(latest, gid);
  if (current === undefined) return failure(unknownGroup(gid));
  // A member that stays keeps its address: only the other groups' addresses are taken.
  const addressOwners = addressOwnersOf(latest.groups.filter((group) => group.gid !== gid));
  const error = membersError(gid, command.members, addressOwners);
  if (error !== null) return failure(error);
  const members = sortedMembers(command.members);
  if (sameMembers(members, current.members)) {
    return { ok: true, config: latest, bucketCount: tip.bucketCount, created: false };
  }
  const groups = latest.groups.map((group) => (group.gid === gid ? { gid, members } : group));
  return next(latest, latest.buckets, groups, tip.bucketCount);
}

function next(
  latest: ShardConfig,
  buckets: readonly GroupId[],
  groups: readonly GroupInfo[],
  bucketCount: number | null,
): WriteOutcome {
  return {
    ok: true,
    config: freezeConfig({ version: latest.version + 1, buckets, groups }),
    bucketCount,
    created: true,
  };
}

function addressOwnersOf(groups: readonly GroupInfo[]): Map<string, GroupId> {
  const owners = new Map<string, GroupId>();
  for (const group of groups) for (const member of group.members) owners.set(member.address, group.gid);
  return owners;
}

/** Fresh copies, sorted by id, as configs list them. */
function sortedMembers(members: readonly MemberInfo[]): MemberInfo[] {
  return [...members].sort((a, b) => a.id - b.id).map((member) => ({ id: member.id, address: member.address }));
}

/** Whether two lists, both sorted by id, name the same members at the same addresses. */
function sameMembers(a: readonly MemberInfo[], b: readonly MemberInfo[]): boolean {
  return a.length === b.length && a.every((member, k) => member.id === b[k]!.id && member.address === b[k]!.address);
}

function groupIds(groups: readonly GroupInfo[]): GroupId[] {
  return groups.map((group) => group.gid);
}

function failure(error: MetaError): WriteOutcome {
  return { ok: false, error };
}
