/**
 * A config as people read it: a table of groups with their buckets (as
 * ranges), the member that leads each (when asked) and its members; and the
 * table of every node's Raft state that `raftkv admin query` prints below it.
 */
import type { GroupView } from '../client/cluster-status.js';
import { leaderOf } from '../client/cluster-status.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import { UNASSIGNED } from '../meta/config.js';
import { formatTable } from './text-table.js';

/** 0,1,2,3,7,9,10 -> "0-3, 7, 9-10". */
export function bucketRanges(buckets: readonly BucketId[]): string {
  const parts: string[] = [];
  let start: BucketId | null = null;
  let previous: BucketId | null = null;
  const close = (): void => {
    if (start === null || previous === null) return;
    parts.push(start === previous ? String(start) : `${start}-${previous}`);
  };
  for (const bucket of buckets) {
    if (previous !== null && bucket === previous + 1) {
      previous = bucket;
      continue;
    }
    close();
    start = bucket;
    previous = bucket;
  }
  close();
  return parts.length === 0 ? '-' : parts.join(', ');
}

/**
 * The config as a table. With `leaders` (gid -> the leading member's id, or
 * null when none is known) it has a leader column too.
 */
export function formatConfig(config: ShardConfig, leaders?: ReadonlyMap<GroupId, number | null>): string {
  const lines = [`config version ${config.version}, ${config.buckets.length} buckets`];
  const withLeader = leaders !== undefined;
  const rows: string[][] = [['group', 'buckets', 'count', ...(withLeader ? ['leader'] : []), 'members']];
  for (const group of config.groups) {
    const owned = config.buckets.flatMap((gid, bucket) => (gid === group.gid ? [bucket] : []));
    const leader = leaders?.get(group.gid) ?? null;
    rows.push([
      String(group.gid),
      bucketRanges(owned),
      String(owned.length),
      ...(withLeader ? [leader === null ? 'none' : String(leader)] : []),
      group.members.map((member) => `${member.id}=${member.address}`).join(','),
    ]);
  }
  const unassigned = config.buckets.flatMap((gid, bucket) => (gid === UNASSIGNED ? [bucket] : []));
  if (unassigned.length > 0) {
    rows.push(['(none)', bucketRanges(unassigned), String(unassigned.length), ...(withLeader ? [''] : []), '']);
  }
  if (rows.length === 1) {
    lines.push('no groups have joined yet: raftkv admin join GID MEMBERS --meta ...');
    return lines.join('\n');
  }
  lines.push(formatTable(rows));
  return lines.join('\n');
}

/** gid -> the id of the member that leads it, as the members told (null: none known). */
export function leadersOf(groups: readonly GroupView[]): Map<GroupId, number | null> {
  const leaders = new Map<GroupId, number | null>();
  for (const group of groups) if (group.gid !== null) leaders.set(group.gid, leaderOf(group)?.id ?? null);
  return leaders;
}

/** One row per node: its Raft state, or why it did not answer. */
export function formatNodes(groups: readonly GroupView[]): string {
  const header = ['group', 'id', 'address', 'role', 'term', 'commit', 'applied', 'last', 'snapshot'];
  const rows: string[][] = [header];
  for (const group of groups) {
    for (const member of group.members) {
      const start = [group.name, String(member.id), member.address];
      const status = member.status;
      if (status === null) {
        rows.push([...start, member.error ?? 'no answer']);
        continue;
      }
      rows.push([
        ...start,
        status.role,
        String(status.term),
        String(status.commitIndex),
        String(status.appliedIndex),
        String(status.lastIndex),
        String(status.snapshotIndex),
      ]);
    }
  }
  return formatTable(rows);
}
