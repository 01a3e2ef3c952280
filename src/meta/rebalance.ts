/**
 * Rebalancing: after groups join or leave, give every bucket to a live group
 * so that bucket counts per group differ by at most one, moving as few
 * buckets as possible. Moving a bucket means copying its data between
 * groups, so every avoidable move is wasted work and a window of wrong-group
 * retries for clients.
 *
 * With G live groups and B buckets, each group's target is floor(B/G), and
 * B mod G groups get one more. The buckets that must move are those that
 * have no live owner (unassigned, or owned by a group that left) and each
 * group's surplus over its target; that count is minimised by giving the
 * extra buckets to the groups that own the most (a group above floor(B/G)
 * that gets an extra one gives up one bucket less). Every freed bucket then
 * fills a deficit, so the moves equal that lower bound exactly.
 *
 * Deterministic, because every replica runs it and must get the same config:
 * - the extras go to the groups owning the most buckets, ties to the lower gid;
 * - a group over its target gives up its highest-numbered buckets (so groups
 *   keep low, contiguous ranges where they had them);
 * - the freed buckets, lowest number first, go to the groups under their
 *   target in gid order, each filled up before the next.
 * With no live groups every bucket is unassigned.
 */
import type { BucketId, GroupId } from './config.js';
import { BUCKET_COUNT_MAX, isGroupId, UNASSIGNED } from './config.js';

/**
 * The new owner of every bucket: `buckets` is the current owner per bucket
 * (UNASSIGNED, a live group or a group that left), `groups` the live groups
 * after the change, in any order.
 */
export function rebalance(buckets: readonly GroupId[], groups: readonly GroupId[]): GroupId[] {
  assertInputs(buckets, groups);
  if (groups.length === 0) return buckets.map(() => UNASSIGNED);
  const owned = new Map<GroupId, BucketId[]>([...groups].sort((a, b) => a - b).map((gid) => [gid, []]));
  const freed: BucketId[] = [];
  buckets.forEach((gid, bucket) => (owned.get(gid) ?? freed).push(bucket));

  const targets = targetCounts(owned, buckets.length);
  for (const [gid, mine] of owned) {
    const surplus = mine.length - targets.get(gid)!;
    if (surplus > 0) freed.push(...mine.splice(mine.length - surplus, surplus));
  }
  freed.sort((a, b) => a - b);

  const next = [...buckets];
  let taken = 0;
  for (const [gid, mine] of owned) {
    const deficit = targets.get(gid)! - mine.length;
    for (let k = 0; k < deficit; k++) next[freed[taken++]!] = gid;
  }
  if (taken !== freed.length) throw new Error(`rebalance: ${freed.length - taken} freed buckets left over`);
  const counts = new Map<GroupId, number>();
  for (const gid of next) counts.set(gid, (counts.get(gid) ?? 0) + 1);
  for (const [gid, target] of targets) {
    const count = counts.get(gid) ?? 0;
    if (count !== target) throw new Error(`rebalance: group ${gid} ends with ${count} buckets, not its ${target}`);
  }
  return next;
}

/** Each live group's bucket count after rebalancing: floor(B/G), plus one for the B mod G groups owning most. */
export function targetCounts(
  owned: ReadonlyMap<GroupId, readonly BucketId[]>,
  bucketCount: number,
): Map<GroupId, number> {
  const groupCount = owned.size;
  const base = Math.floor(bucketCount / groupCount);
  const extras = bucketCount % groupCount;
  const byClaim = [...owned].sort(([gidA, a], [gidB, b]) => b.length - a.length || gidA - gidB);
  return new Map(byClaim.map(([gid], rank) => [gid, base + (rank < extras ? 1 : 0)]));
}

/** How many buckets change owner from `before` to `after` (same bucket count). */
export function bucketsMoved(before: readonly GroupId[], after: readonly GroupId[]): number {
  if (before.length !== after.length) throw new Error(`bucketsMoved: ${before.length} buckets vs ${after.length}`);
  return before.reduce((moved, gid, bucket) => moved + (gid === after[bucket] ? 0 : 1), 0);
}

function assertInputs(buckets: readonly GroupId[], groups: readonly GroupId[]): void {
  if (buckets.length > BUCKET_COUNT_MAX) {
    throw new Error(`rebalance: ${buckets.length} buckets, over the limit of ${BUCKET_COUNT_MAX}`);
  }
  if (new Set(groups).size !== groups.length || !groups.every(isGroupId)) {
    throw new Error(`rebalance: live groups must be distinct group ids, got ${groups.join(',')}`);
  }
}
