/**
 * What admins ask of the config table, and what it answers.
 *
 * join, leave, move and members change the table and carry a client stamp,
 * so that a retry (after a lost reply or a leader change) gets the first
 * reply instead of a second change: a retried join must not fail with
 * groupExists, nor a retried move undo a later one. query only reads, so it
 * carries no stamp.
 *
 * Replies are plain data, built the same way on every replica: they are
 * stored in the dedup table, written into snapshots and sent over the wire.
 * Errors are values a user can cause; each says what went wrong and what to do.
 */
import type { ClientStamp } from '../kv/commands.js';
import type { BucketId, GroupId, GroupInfo, MemberInfo, ShardConfig } from './config.js';
import { BUCKET_COUNT_MAX, GROUP_ID_MAX, GROUPS_MAX, MEMBERS_PER_GROUP_MAX } from './config.js';
import { quoted } from './member-address.js';

export type { ClientStamp } from '../kv/commands.js';

/** Adds groups and rebalances. The first successful join fixes the bucket count. */
export interface JoinCommand extends ClientStamp {
  readonly type: 'join';
  readonly groups: readonly GroupInfo[];
  /** Buckets of the cluster: 1..BUCKET_COUNT_MAX; BUCKET_COUNT_DEFAULT when the first join leaves it out. */
  readonly bucketCount?: number;
}

/** Removes groups and rebalances their buckets onto the groups that stay. */
export interface LeaveCommand extends ClientStamp {
  readonly type: 'leave';
  readonly gids: readonly GroupId[];
}

/** Gives buckets fromBucket..toBucket (inclusive) to group `gid`, without rebalancing. */
export interface MoveCommand extends ClientStamp {
  readonly type: 'move';
  readonly fromBucket: BucketId;
  readonly toBucket: BucketId;
  readonly gid: GroupId;
}

/**
 * Sets group `gid`'s member list (after its Raft membership changed, so that
 * clients and other groups reach the new members); buckets and the other
 * groups stay as they are. Members are validated as a join's are, in any
 * order (the config lists them sorted by id). A list equal to the current one
 * creates no version: the reply is the latest config, as it stands.
 */
export interface MembersCommand extends ClientStamp {
  readonly type: 'members';
  readonly gid: GroupId;
  readonly members: readonly MemberInfo[];
}

/** Reads one config: a version, or the latest when null. */
export interface QueryCommand {
  readonly type: 'query';
  readonly version: number | null;
}

export type MetaWriteCommand = JoinCommand | LeaveCommand | MoveCommand | MembersCommand;
export type MetaCommand = MetaWriteCommand | QueryCommand;
export type MetaCommandType = MetaCommand['type'];

/**
 * For a query, the config asked for; for a write, the config it created (for
 * a members command that changed nothing, the latest config).
 */
export interface MetaOk {
  readonly ok: true;
  readonly config: ShardConfig;
}

export interface MetaFailed {
  readonly ok: false;
  readonly error: MetaError;
}

export type MetaReply = MetaOk | MetaFailed;

/** Every error the config table answers; none of them changes the table. */
export type MetaError =
  | { readonly code: 'malformedCommand'; readonly problem: string; readonly message: string }
  | {
      readonly code: 'staleSequence';
      readonly sequence: number;
      readonly lastSequence: number;
      readonly message: string;
    }
  | {
      readonly code: 'badBucketCount';
      readonly bucketCount: number;
      readonly bucketCountFixed: number | null;
      readonly message: string;
    }
  | { readonly code: 'emptyJoin'; readonly message: string }
  | { readonly code: 'emptyLeave'; readonly message: string }
  | { readonly code: 'duplicateGroupId'; readonly gid: GroupId; readonly message: string }
  | { readonly code: 'badGroupId'; readonly gid: number; readonly message: string }
  | {
      readonly code: 'tooManyGroups';
      readonly groupCount: number;
      readonly groupsMax: number;
      readonly message: string;
    }
  | { readonly code: 'badMembers'; readonly gid: GroupId; readonly problem: string; readonly message: string }
  | {
      readonly code: 'badAddress';
      readonly gid: GroupId;
      readonly memberId: number;
      readonly problem: string;
      readonly message: string;
    }
  | {
      readonly code: 'addressInUse';
      readonly gid: GroupId;
      readonly address: string;
      readonly usedByGid: GroupId;
      readonly message: string;
    }
  | { readonly code: 'groupExists'; readonly gid: GroupId; readonly message: string }
  | { readonly code: 'unknownGroup'; readonly gid: number; readonly message: string }
  | {
      readonly code: 'bucketOutOfRange';
      readonly fromBucket: number;
      readonly toBucket: number;
      readonly bucketCount: number;
      readonly message: string;
    }
  | { readonly code: 'lastGroupOwnsBuckets'; readonly message: string }
  | {
      readonly code: 'noSuchVersion';
      readonly version: number;
      readonly latestVersion: number;
      readonly message: string;
    };

export type MetaErrorCode = MetaError['code'];

export function ok(config: ShardConfig): MetaOk {
  return { ok: true, config };
}

export function failed(error: MetaError): MetaFailed {
  return { ok: false, error };
}

export function malformedCommand(problem: string): MetaError {
  return {
    code: 'malformedCommand',
    problem,
    message: `the command does not decode (${problem}), so nothing was applied; this is a client bug`,
  };
}

export function staleSequence(sequence: number, lastSequence: number): MetaError {
  return {
    code: 'staleSequence',
    sequence,
    lastSequence,
    message:
      `request sequence ${sequence} is older than this client's last applied sequence ${lastSequence}, ` +
      'so it was not applied; its outcome was already reported, and a client must not reuse old sequences',
  };
}

export function badBucketCount(bucketCount: number, bucketCountFixed: number | null): MetaError {
  const message =
    bucketCountFixed === null
      ? `a bucket count of ${bucketCount} is not in 1..${BUCKET_COUNT_MAX}; pick one in range (it cannot change later)`
      : `the cluster has ${bucketCountFixed} buckets, fixed by its first join, so a join cannot ask for ` +
        `${bucketCount}; leave bucketCount out or give ${bucketCountFixed}`;
  return { code: 'badBucketCount', bucketCount, bucketCountFixed, message };
}

export function emptyJoin(): MetaError {
  return { code: 'emptyJoin', message: 'the join names no groups, so nothing changed; give at least one group' };
}

export function emptyLeave(): MetaError {
  return { code: 'emptyLeave', message: 'the leave names no groups, so nothing changed; give at least one group id' };
}

export function duplicateGroupId(gid: GroupId): MetaError {
  return {
    code: 'duplicateGroupId',
    gid,
    message: `group ${gid} is named twice in one command, so nothing changed; name each group once`,
  };
}

export function badGroupId(gid: number): MetaError {
  return {
    code: 'badGroupId',
    gid,
    message: `${gid} is not a group id, so nothing changed; group ids are integers in 1..${GROUP_ID_MAX}`,
  };
}

export function tooManyGroups(groupCount: number): MetaError {
  return {
    code: 'tooManyGroups',
    groupCount,
    groupsMax: GROUPS_MAX,
    message:
      `the join would make ${groupCount} groups, over the limit of ${GROUPS_MAX}, so nothing changed; ` +
      'remove groups first or join fewer',
  };
}

export function badMembers(gid: GroupId, problem: string): MetaError {
  return {
    code: 'badMembers',
    gid,
    problem,
    message:
      `group ${gid}: ${problem}, so nothing changed; give 1..${MEMBERS_PER_GROUP_MAX} members ` +
      'with distinct positive ids',
  };
}

export function badAddress(gid: GroupId, memberId: number, address: string, problem: string): MetaError {
  return {
    code: 'badAddress',
    gid,
    memberId,
    problem,
    message:
      `group ${gid} member ${memberId}: address ${quoted(address)} is not host:port (${problem}), ` +
      'so nothing changed; give an address such as node1.example:7000 or [::1]:7000',
  };
}

export function addressInUse(gid: GroupId, address: string, usedByGid: GroupId): MetaError {
  const where = usedByGid === gid ? `another member of group ${gid}` : `a member of group ${usedByGid}`;
  return {
    code: 'addressInUse',
    gid,
    address,
    usedByGid,
    message:
      `group ${gid}: address ${quoted(address)} is already ${where}'s, so nothing changed; ` +
      'every member needs its own address',
  };
}

export function groupExists(gid: GroupId): MetaError {
  return {
    code: 'groupExists',
    gid,
    message: `group ${gid} has already joined, so nothing changed; pick another group id, or leave it first`,
  };
}

export function unknownGroup(gid: number): MetaError {
  return {
    code: 'unknownGroup',
    gid,
    message: `group ${gid} has not joined, so nothing changed; query the latest config for the groups there are`,
  };
}

export function bucketOutOfRange(fromBucket: number, toBucket: number, bucketCount: number): MetaError {
  const problem =
    fromBucket > toBucket
      ? `the range starts after it ends; give it low to high`
      : `the cluster's buckets are 0..${bucketCount - 1}`;
  return {
    code: 'bucketOutOfRange',
    fromBucket,
    toBucket,
    bucketCount,
    message: `buckets ${fromBucket}..${toBucket} cannot be moved (${problem}), so nothing changed`,
  };
}

export function lastGroupOwnsBuckets(): MetaError {
  return {
    code: 'lastGroupOwnsBuckets',
    message:
      'the leave would remove every group while they own buckets, and their data would have nowhere to go, ' +
      'so nothing changed; join a group to take the buckets over first',
  };
}

export function noSuchVersion(version: number, latestVersion: number): MetaError {
  return {
    code: 'noSuchVersion',
    version,
    latestVersion,
    message: `config version ${version} does not exist (the latest is ${latestVersion}); ask for 0..${latestVersion}`,
  };
}
