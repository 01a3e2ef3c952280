/** A config as people read it: a table of groups with their buckets (as ranges) and members. */
import type { BucketId, ShardConfig } from '../meta/config.js';
import { UNASSIGNED } from '../meta/config.js';

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

export function formatConfig(config: ShardConfig): string {
  const lines = [`config version ${config.version}, ${config.buckets.length} buckets`];
  const rows: string[][] = [['group', 'buckets', 'count', 'members']];
  for (const group of config.groups) {
    const owned = config.buckets.flatMap((gid, bucket) => (gid === group.gid ? [bucket] : []));
    rows.push([
      String(group.gid),
      bucketRanges(owned),
      String(owned.length),
      group.members.map((member) => `${member.id}=${member.address}`).join(','),
    ]);
  }
  const unassigned = config.buckets.flatMap((gid, bucket) => (gid === UNASSIGNED ? [bucket] : []));
  if (unassigned.length > 0) rows.push(['(none)', bucketRanges(unassigned), String(unassigned.length), '']);
  if (rows.length === 1) {
    lines.push('no groups have joined yet: raftkv admin join GID MEMBERS --meta ...');
    return lines.join('\n');
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows)
    lines.push(
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  return lines.join('\n');
}
