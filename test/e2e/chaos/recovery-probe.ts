/**
 * Time to recover: after a fault is healed, how long until a client
 * operation succeeds again on every group — a config query on the meta
 * group, and a linearizable read of a key in a bucket of each shard group
 * (a key the latest config places there, so a bucket move does not hide a
 * group that does not serve).
 */
import type { MetaClient } from '../../../src/client/meta-client.js';
import type { ShardedKvClient } from '../../../src/client/sharded-client.js';
import type { ShardConfig } from '../../../src/meta/config.js';
import { bucketsOf } from '../../../src/meta/config.js';
import { bucketOf } from '../../../src/shard/bucket.js';

/** A probe that waits longer than this reports the group as not recovered: a violation. */
export const RECOVERY_MS_MAX = 60_000;
const PAUSE_BETWEEN_TRIES_MS = 50;

export type Recovery =
  { readonly recovered: true; readonly ms: number } | { readonly recovered: false; readonly stillDown: string[] };

export class RecoveryProbe {
  constructor(
    /** Short deadlines, so that a try fails fast and the next one measures the recovery closely. */
    private readonly meta: MetaClient,
    private readonly kv: ShardedKvClient,
    private readonly gids: readonly number[],
  ) {}

  /**
   * Waits until every group served one operation since `fromMs`, giving up
   * at `giveUpAtMs()` (performance.now() times; the limit may move, as when
   * it is "until the fault is healed"); answers how long it took.
   */
  async measure(fromMs: number, giveUpAtMs: () => number = () => fromMs + RECOVERY_MS_MAX): Promise<Recovery> {
    let config: ShardConfig | null = null;
    while (config === null) {
      config = await this.meta.query().catch(() => null);
      if (config !== null) break;
      if (performance.now() > giveUpAtMs()) return { recovered: false, stillDown: ['meta'] };
      await pause();
    }
    const waiting = new Set(this.gids);
    while (waiting.size > 0) {
      for (const gid of [...waiting]) {
        const key = keyOwnedBy(config, gid);
        // A group that owns no bucket right now has nothing to serve: it counts as recovered.
        if (key === null || (await this.serves(key))) waiting.delete(gid);
      }
      if (waiting.size === 0) break;
      if (performance.now() > giveUpAtMs())
        return { recovered: false, stillDown: [...waiting].map((gid) => `group ${gid}`) };
      await pause();
      config = (await this.meta.query().catch(() => null)) ?? config;
    }
    const servedAtMs = performance.now();
    // The last try may have answered after the time allowed.
    return servedAtMs <= giveUpAtMs()
      ? { recovered: true, ms: servedAtMs - fromMs }
      : { recovered: false, stillDown: ['a group answered too late'] };
  }

  private serves(key: string): Promise<boolean> {
    return this.kv.get(key).then(
      () => true,
      () => false,
    );
  }
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_TRIES_MS));
}

/** A key in one of `gid`'s buckets, or null when it owns none. */
function keyOwnedBy(config: ShardConfig, gid: number): string | null {
  const owned = new Set(bucketsOf(config, gid));
  if (owned.size === 0) return null;
  for (let attempt = 0; ; attempt++) {
    const key = `chaos-probe-${attempt}`;
    if (owned.has(bucketOf(Buffer.from(key), config.buckets.length))) return key;
  }
}
