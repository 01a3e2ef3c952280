/**
 * Runs one simulated scenario under several seeds, one test per seed, so a
 * failure names the seed that replays it: `SEED=1234 npm test`.
 */
import { it } from 'node:test';
import { withSeed } from '../../src/sim/cluster.js';

/** Seeds each scenario runs under in `npm test`; SEED=n runs only n. */
export const DEFAULT_SEEDS = [1, 2, 3, 4, 5];

export function seeds(defaults: readonly number[] = DEFAULT_SEEDS): number[] {
  const fromEnv = process.env['SEED'];
  return fromEnv === undefined ? [...defaults] : [Number(fromEnv)];
}

export function scenario(name: string, body: (seed: number) => void, seedList: readonly number[] = seeds()): void {
  for (const seed of seedList) {
    it(`${name} (seed ${seed})`, () => withSeed(seed, () => body(seed)));
  }
}
