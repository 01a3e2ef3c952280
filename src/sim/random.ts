/**
 * A seeded pseudo-random source: sfc32, its 128-bit state filled by splitmix32.
 * Hand-written on purpose: the core takes a plain `() => number`, and a run must
 * replay bit for bit on any Node version, which Math.random (unseedable, and
 * engine-specific) cannot give.
 */

/** Outputs discarded after seeding, so that nearby seeds (1, 2, 3) start far apart. */
const WARMUP_ROUNDS = 12;
const UINT32_RANGE = 0x1_0000_0000;

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    let state = seed >>> 0;
    const splitmix32 = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    for (let round = 0; round < WARMUP_ROUNDS; round++) this.nextUint32();
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / UINT32_RANGE;
  }

  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive <= 0) {
      throw new Error(`int() needs a positive integer bound, got ${maxExclusive}`);
    }
    return Math.floor(this.next() * maxExclusive);
  }

  /** An integer in [min, maxInclusive]. */
  intBetween(min: number, maxInclusive: number): number {
    if (maxInclusive < min) throw new Error(`intBetween(${min}, ${maxInclusive}): empty range`);
    return min + this.int(maxInclusive - min + 1);
  }

  /** True with probability `probability`; 0 never, 1 always. */
  chance(probability: number): boolean {
    if (!(probability >= 0 && probability <= 1)) throw new Error(`probability must be in [0, 1], got ${probability}`);
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick() from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array, for chaining. */
  shuffle<T>(items: T[]): T[] {
    for (let k = items.length - 1; k > 0; k--) {
      const j = this.int(k + 1);
      [items[k], items[j]] = [items[j]!, items[k]!];
    }
    return items;
  }

  /**
   * An independent stream derived from this one. Give each consumer (network,
   * each node) its own fork, so that adding a draw in one does not shift every
   * other consumer's choices and turn a replayed seed into a different run.
   */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }

  private nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
}

/** The seeds to run: just `SEED` when set (to replay one failure), else `defaultSeeds`. */
export function seedFromEnv(defaultSeeds: number[]): number[] {
  const fromEnv = process.env['SEED'];
  if (fromEnv === undefined || fromEnv === '') return [...defaultSeeds];
  const seed = Number(fromEnv);
  if (!Number.isInteger(seed)) throw new Error(`SEED must be an integer, got '${fromEnv}'`);
  return [seed];
}
