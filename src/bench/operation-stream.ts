/**
 * The operations one benchmark client sends, one after another: a read or a
 * put, and the key, drawn from the workload's mix and key choice with the
 * client's own seeded random stream (so a seed replays each client's
 * sequence; only the interleaving of clients is up to the cluster).
 */
import type { SeededRandom } from '../sim/random.js';
import type { WorkloadSpec } from './workloads.js';
import type { ZipfianShape } from './zipfian.js';

export interface Operation {
  readonly kind: 'read' | 'put';
  /** In [0, keyCount). */
  readonly keyIndex: number;
}

export class OperationStream {
  constructor(
    private readonly spec: WorkloadSpec,
    private readonly keyCount: number,
    /** Needed for a zipfian workload; its itemCount must be keyCount. */
    private readonly zipfian: ZipfianShape | null,
    private readonly random: SeededRandom,
  ) {
    if (spec.keyChoice === 'zipfian' && zipfian?.itemCount !== keyCount) {
      throw new Error(`OperationStream: ${spec.name} needs a ZipfianShape over ${keyCount} keys`);
    }
  }

  next(): Operation {
    // Drawn first and always, so that the key stream does not depend on the read share.
    const kind = this.random.next() < this.spec.readFraction ? 'read' : 'put';
    const u = this.random.next();
    const keyIndex = this.spec.keyChoice === 'zipfian' ? this.zipfian!.keyIndex(u) : Math.floor(u * this.keyCount);
    return { kind, keyIndex };
  }
}

/** Keys are this prefix and a zero-padded index: recognizable as the benchmark's, and all of one length. */
export const BENCH_KEY_PREFIX = 'bench:';
const KEY_INDEX_DIGITS = 8;

export function benchKey(keyIndex: number): Uint8Array {
  return Buffer.from(`${BENCH_KEY_PREFIX}${String(keyIndex).padStart(KEY_INDEX_DIGITS, '0')}`, 'latin1');
}
