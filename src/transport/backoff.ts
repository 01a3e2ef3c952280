/**
 * How long to wait before reconnecting to a peer: doubling from a minimum up
 * to a maximum, so that a peer that is down costs little, and jittered, so
 * that the members of a group that lost the same peer do not all knock on its
 * door in the same millisecond when it comes back.
 */

export interface BackoffLimits {
  readonly delayMsMin: number;
  readonly delayMsMax: number;
}

/** Caps the exponent, so that the doubling cannot overflow to Infinity however long a peer stays down. */
const DOUBLINGS_MAX = 30;

/**
 * The delay after `failures` consecutive failed attempts (0 after a connection
 * that worked and then broke). "Equal jitter": half the delay is fixed and half
 * random (and never under the minimum), so the delay still grows with each
 * failure but two members rarely pick the same one.
 */
export function backoffDelayMs(failures: number, limits: BackoffLimits, random: () => number): number {
  const doublings = Math.min(Math.max(failures, 0), DOUBLINGS_MAX);
  const ceilingMs = Math.min(limits.delayMsMax, limits.delayMsMin * 2 ** doublings);
  return Math.max(limits.delayMsMin, Math.round(ceilingMs / 2 + random() * (ceilingMs / 2)));
}

export function checkBackoffLimits(limits: BackoffLimits): void {
  const { delayMsMin, delayMsMax } = limits;
  if (!(Number.isFinite(delayMsMin) && delayMsMin > 0 && Number.isFinite(delayMsMax) && delayMsMax >= delayMsMin)) {
    throw new Error(`reconnect delays need 0 < delayMsMin <= delayMsMax, got ${delayMsMin} and ${delayMsMax}`);
  }
}
