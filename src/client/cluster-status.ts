/**
 * The cluster as operators look at it: the latest config plus every member
 * of every group (the meta group first) with its status or why it did not
 * answer, and the buckets on the move. `raftkv admin query --json` prints
 * it and the HTTP API serves it as /v1/cluster; the members are asked all at
 * once, so one dead node costs one timeout, not one per node.
 */
import type { GroupId, MemberInfo, ShardConfig } from '../meta/config.js';
import { canonicalConfigValue } from '../meta/config.js';
import type { NodeStatus } from '../node/node-status.js';
import type { StatusAnswer } from './status-client.js';

export interface MemberView {
  readonly id: number;
  readonly address: string;
  readonly status: NodeStatus | null;
  readonly error: string | null;
}

export interface GroupView {
  /** 0 for the meta group, null for a lone `raftkv node` group. */
  readonly gid: number | null;
  readonly name: string;
  readonly members: readonly MemberView[];
}

export interface BucketMove {
  readonly bucket: number;
  /** The group that reports the bucket moving in or out. */
  readonly gid: GroupId;
  readonly state: string;
}

export interface ClusterView {
  /** The config as canonical JSON values (see meta/config.ts); null where there is no meta group. */
  readonly config: unknown;
  readonly groups: readonly GroupView[];
  readonly moves: readonly BucketMove[];
}

/** One group to ask: its id, its name in views, its members. */
export interface GroupToAsk {
  readonly gid: number | null;
  readonly name: string;
  readonly members: readonly MemberInfo[];
}

/** Asks one member of `group` (whose gid tells a meta member from a shard member of the same id). */
export type AskMember = (member: MemberInfo, group: GroupToAsk) => Promise<StatusAnswer>;

/** The meta group (if any) first, then every group of `config` in gid order. */
export function groupsToAsk(config: ShardConfig | null, meta: readonly MemberInfo[] | null): GroupToAsk[] {
  const groups: GroupToAsk[] = [];
  if (meta !== null) groups.push({ gid: 0, name: 'meta', members: meta });
  for (const group of config?.groups ?? [])
    groups.push({ gid: group.gid, name: `group ${group.gid}`, members: group.members });
  return groups;
}

export async function clusterView(
  config: ShardConfig | null,
  groups: readonly GroupToAsk[],
  ask: AskMember,
): Promise<ClusterView> {
  const views = await Promise.all(
    groups.map(async (group): Promise<GroupView> => {
      const members = await Promise.all(
        group.members.map(async (member): Promise<MemberView> => {
          const answer = await ask(member, group);
          return answer.ok
            ? { id: member.id, address: member.address, status: answer.status, error: null }
            : { id: member.id, address: member.address, status: null, error: answer.error };
        }),
      );
      return { gid: group.gid, name: group.name, members };
    }),
  );
  return { config: config === null ? null : canonicalConfigValue(config), groups: views, moves: movesOf(views) };
}

/**
 * The member that leads a group, as its members tell: of those that say they
 * lead, the one of the highest term (an old leader cut off from the others
 * may still believe it leads, at an older term). Null during an election or
 * when no leader answered.
 */
export function leaderOf(group: GroupView): MemberView | null {
  let best: MemberView | null = null;
  for (const member of group.members) {
    if (member.status?.role !== 'leader') continue;
    if (best === null || member.status.term > best.status!.term) best = member;
  }
  return best;
}

/** Every bucket some reachable shard member reports in transit, once per (bucket, group). */
function movesOf(groups: readonly GroupView[]): BucketMove[] {
  const moves = new Map<string, BucketMove>();
  for (const group of groups) {
    if (group.gid === null || group.gid === 0) continue;
    // Prefer what the leader reports: a follower may lag behind it.
    const leader = leaderOf(group);
    const reporters = leader === null ? group.members : [leader, ...group.members];
    for (const member of reporters) {
      for (const { bucket, state } of member.status?.bucketsInTransit ?? []) {
        const key = `${bucket}/${group.gid}`;
        if (!moves.has(key)) moves.set(key, { bucket, gid: group.gid, state });
      }
    }
  }
  return [...moves.values()].sort((a, b) => a.bucket - b.bucket || a.gid - b.gid);
}
