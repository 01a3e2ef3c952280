/**
 * What a shard group is doing with each bucket, decided only by entries of
 * its own log, so that every replica agrees on it at every index:
 *
 *   serving     owned in the current config, data installed: reads and writes are applied
 *   pulling     owned in the current config, data not installed yet: the previous owner
 *               must send it (installBucket); refused meanwhile, so nothing is applied
 *               to a bucket whose history has not arrived
 *   handingOff  owned in the previous config, not in the current one: refused, and its
 *               data frozen and kept until the new owner confirms it installed it
 *               (deleteBucket)
 *   (absent)    not ours: no state, no data
 *
 * A group finishes one config change before it takes the next: a config is
 * accepted only when no bucket is pulling or handingOff. So when a config
 * arrives every bucket is serving or absent, and the transition below needs
 * nothing but the two configs.
 */
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import { UNASSIGNED } from '../meta/config.js';

export type BucketState =
  | { readonly type: 'serving' }
  | {
      readonly type: 'pulling';
      /** The previous owner, which holds the data. */
      readonly fromGid: GroupId;
      /**
       * Pairs installed so far, in the order the previous owner exports them
       * (key order): a transfer comes in parts, and the next part must start here.
       */
      readonly pairsReceived: number;
    }
  | {
      readonly type: 'handingOff';
      /** The new owner, which must confirm that it installed the bucket. */
      readonly toGid: GroupId;
    };

export type BucketStateType = BucketState['type'];

/** Only the buckets with a state are in the map: absent means not ours. */
export type BucketStates = ReadonlyMap<BucketId, BucketState>;

export const SERVING: BucketState = Object.freeze({ type: 'serving' });

/** Buckets still moving in or out, ascending: while there are any, the next config must wait. */
export function bucketsInTransit(states: BucketStates): BucketId[] {
  const moving: BucketId[] = [];
  for (const [bucket, state] of states) if (state.type !== 'serving') moving.push(bucket);
  return moving.sort((a, b) => a - b);
}

/**
 * The states after group `gid` moves from config `previous` to `next`, the
 * version after it with the same bucket count (or the first config, when
 * `previous` is version 0 without buckets). Buckets `next` gives to `gid` are
 * pulled from their previous owner, or served at once, empty, when no group
 * had them; buckets it takes away are handed off to their new owner.
 */
export function statesAfterConfig(
  states: BucketStates,
  previous: ShardConfig,
  next: ShardConfig,
  gid: GroupId,
): Map<BucketId, BucketState> {
  const moving = bucketsInTransit(states);
  if (moving.length > 0) throw new Error(`statesAfterConfig: buckets ${moving.join(', ')} are still in transit`);
  const after = new Map<BucketId, BucketState>();
  next.buckets.forEach((nextOwner, bucket) => {
    const previousOwner = previous.buckets[bucket] ?? UNASSIGNED;
    const ours = states.has(bucket);
    // The state table and the config must agree on what is ours; a bug that broke this would lose data silently.
    if (ours !== (previousOwner === gid)) {
      throw new Error(
        `statesAfterConfig: bucket ${bucket} is ${ours ? '' : 'not '}in the state table of group ${gid}, ` +
          `but config ${previous.version} gives it to group ${previousOwner}`,
      );
    }
    if (nextOwner === gid) {
      if (previousOwner === gid) after.set(bucket, SERVING);
      else if (previousOwner === UNASSIGNED) after.set(bucket, SERVING);
      else after.set(bucket, { type: 'pulling', fromGid: previousOwner, pairsReceived: 0 });
    } else if (previousOwner === gid) {
      // A config with no owner for a bucket has no groups at all (config.ts); the data then waits here.
      after.set(bucket, { type: 'handingOff', toGid: nextOwner });
    }
  });
  return after;
}

/**
 * What is wrong with `states` as the state table of group `gid` under
 * `config`, or null: every bucket the config gives the group is serving or
 * pulling, and only those; handingOff buckets are ones it gives elsewhere.
 * Checked where a table comes from disk or from a snapshot.
 */
export function stateTableProblem(states: BucketStates, config: ShardConfig, gid: GroupId): string | null {
  for (const [bucket, state] of states) {
    if (bucket >= config.buckets.length) {
      return `bucket ${bucket} has a state, but config ${config.version} has ${config.buckets.length} buckets`;
    }
    if ((state.type === 'handingOff') === (config.buckets[bucket] === gid)) {
      return `bucket ${bucket} is ${state.type}, but config ${config.version} gives it to group ${config.buckets[bucket]}`;
    }
  }
  const missing = config.buckets.findIndex((owner, bucket) => owner === gid && !states.has(bucket));
  if (missing !== -1)
    return `config ${config.version} gives bucket ${missing} to group ${gid}, which has no state for it`;
  return null;
}

/** A bucket that arrived (its last part installed: pulling, then serving) or left (handed off, then deleted). */
export interface BucketMove {
  readonly bucket: BucketId;
  readonly direction: 'in' | 'out';
}

/** The moves that took the state table from `before` to `after`; a bucket served at once (no owner before) is none. */
export function bucketMoves(before: BucketStates, after: BucketStates): BucketMove[] {
  const moves: BucketMove[] = [];
  for (const [bucket, state] of before) {
    const next = after.get(bucket);
    if (state.type === 'pulling' && next?.type === 'serving') moves.push({ bucket, direction: 'in' });
    if (state.type === 'handingOff' && next === undefined) moves.push({ bucket, direction: 'out' });
  }
  return moves;
}
