/**
 * Zipfian key popularity, as YCSB draws it: rank r (0 = most popular) comes
 * up with probability proportional to 1 / (r + 1)^theta.
 *
 * Drawing uses the method of Gray et al., "Quickly Generating Billion-Record
 * Synthetic Databases" (SIGMOD 1994), which YCSB's ZipfianGenerator follows:
 * with zeta(n) = sum over i = 1..n of 1 / i^theta, computed once,
 *
 *   alpha = 1 / (1 - theta)
 *   eta   = (1 - (2 / n)^(1 - theta)) / (1 - zeta(2) / zeta(n))
 *
 * and u uniform in [0, 1):
 *
 *   u * zeta(n) < 1               -> rank 0   (probability 1 / zeta(n), exact)
 *   u * zeta(n) < 1 + 0.5^theta   -> rank 1   (probability 0.5^theta / zeta(n), exact)
 *   otherwise                     -> rank floor(n * (eta * u - eta + 1)^alpha)
 *
 * The third case approximates the tail in O(1) per draw instead of searching
 * the exact cumulative sums; rankBelowProbability() states what it gives.
 *
 * Ranks then become key indexes through a fixed permutation (scrambleRank),
 * as YCSB's scrambled zipfian does, so that the hot keys are scattered over
 * the key order instead of being the first keys loaded. YCSB scrambles with
 * a hash modulo n, which lets two ranks collide; the permutation here is a
 * bijection, so each key's popularity is exactly its rank's.
 */

/** YCSB's default: the most popular 1 % of 10,000 keys get about half of the requests. */
export const ZIPFIAN_THETA_DEFAULT = 0.99;

export class ZipfianShape {
  readonly zetaN: number;
  private readonly zeta2: number;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly stride: number;

  constructor(
    readonly itemCount: number,
    readonly theta = ZIPFIAN_THETA_DEFAULT,
  ) {
    if (!Number.isSafeInteger(itemCount) || itemCount < 1) {
      throw new Error(`ZipfianShape: itemCount must be a positive integer, got ${itemCount}`);
    }
    if (!(theta > 0 && theta < 1)) throw new Error(`ZipfianShape: theta must be in (0, 1), got ${theta}`);
    this.zetaN = zeta(itemCount, theta);
    this.zeta2 = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / itemCount, 1 - theta)) / (1 - this.zeta2 / this.zetaN);
    this.stride = coprimeStride(itemCount);
  }

  /** The rank drawn by the uniform number `u` in [0, 1): 0 is the most popular. */
  rank(u: number): number {
    const uz = u * this.zetaN;
    if (uz < 1) return 0;
    if (uz < 1 + Math.pow(0.5, this.theta)) return 1;
    const rank = Math.floor(this.itemCount * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    // u just below 1 can round up to itemCount.
    return Math.min(this.itemCount - 1, rank);
  }

  /** The key index drawn by `u`: its rank, moved to its place in the key order. */
  keyIndex(u: number): number {
    return this.scrambleRank(this.rank(u));
  }

  /** A bijection of [0, itemCount): rank -> key index. */
  scrambleRank(rank: number): number {
    return (rank * this.stride + Math.floor(this.itemCount / 2)) % this.itemCount;
  }

  /**
   * The probability that a draw's rank is below `rank`, as this generator
   * draws (not the ideal zipfian sum, which it approximates past rank 1).
   * Solved from the formulas above for the u that gives each case.
   */
  rankBelowProbability(rank: number): number {
    if (rank <= 0) return 0;
    if (rank === 1) return 1 / this.zetaN;
    if (rank >= this.itemCount) return 1;
    // rank >= k (k >= 2) iff n * (eta * u - eta + 1)^alpha >= k iff u >= 1 - (1 - (k / n)^(1 - theta)) / eta.
    return 1 - (1 - Math.pow(rank / this.itemCount, 1 - this.theta)) / this.eta;
  }
}

function zeta(count: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= count; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

/** A step near n / golden ratio that shares no factor with n, so that rank * stride mod n visits every index. */
function coprimeStride(itemCount: number): number {
  let stride = Math.max(1, Math.floor(itemCount * 0.6180339887));
  while (greatestCommonDivisor(stride, itemCount) !== 1) stride += 1;
  return stride;
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
