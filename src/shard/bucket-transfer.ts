/**
 * Moving a bucket from its previous owner to its new one: what the previous
 * owner exports (ShardStateMachine.exportBucket), and how an export becomes
 * the installBucket parts the new owner proposes, each small enough for one
 * log entry.
 *
 * The pairs come in key order from a frozen bucket (handingOff: nothing
 * writes to it any more), so every export of the same bucket at the same
 * version yields the same pairs in the same order. That is what lets a
 * transfer resume at pair N after a leader change, from a fresh export.
 */
import type { BucketId } from '../meta/config.js';
import { encodedDedupBytes, encodedPairBytes } from './command-codec.js';
import type { BucketPair, InstallBucketCommand, TransferredDedupEntry } from './commands.js';

/**
 * Bytes of pairs and dedup entries per part: well under the Raft message
 * limit (1 MiB by default), so a part never holds back the entries behind
 * it. A single pair larger than this travels alone.
 */
export const INSTALL_PART_BYTES_MAX_DEFAULT = 256 * 1024;

export interface BucketExport {
  readonly bucket: BucketId;
  readonly configVersion: number;
  /**
   * The exporter's whole dedup table as of the export: a client's latest
   * request may have gone to any of its buckets, and the receiver keeps, per
   * client, whichever sequence is larger.
   */
  readonly dedup: readonly (readonly [clientId: string, entry: TransferredDedupEntry])[];
  /** The bucket's pairs in key order, as of the export. Consume it to the end or call return(), to release the view. */
  readonly pairs: AsyncIterableIterator<BucketPair>;
}

export interface InstallPartsOptions {
  readonly partBytesMax?: number;
  /** Pairs the receiver already installed (its pulling state's pairsReceived): they are skipped. */
  readonly firstPairIndex?: number;
}

/**
 * The installBucket commands that carry `exported`, in order: the dedup
 * entries first, then the pairs from firstPairIndex on, the last part marked
 * last. An empty bucket is one empty last part.
 */
export async function* installParts(
  exported: BucketExport,
  options: InstallPartsOptions = {},
): AsyncGenerator<InstallBucketCommand> {
  const partBytesMax = options.partBytesMax ?? INSTALL_PART_BYTES_MAX_DEFAULT;
  const resumeAt = options.firstPairIndex ?? 0;
  let pairIndex = resumeAt;
  if (!Number.isSafeInteger(partBytesMax) || partBytesMax < 1) {
    throw new Error(`installParts: partBytesMax must be a positive integer, got ${partBytesMax}`);
  }
  // Released whenever the caller stops, also while the dedup entries are still being sent.
  try {
    let part = new PartBuilder(exported, pairIndex);
    for (const [clientId, entry] of exported.dedup) {
      const itemBytes = encodedDedupBytes(clientId, entry);
      if (!part.fits(itemBytes, partBytesMax)) {
        yield part.build(false);
        part = new PartBuilder(exported, pairIndex);
      }
      part.addDedup(clientId, entry, itemBytes);
    }
    let pairsSeen = 0;
    for await (const pair of exported.pairs) {
      pairsSeen++;
      if (pairsSeen <= resumeAt) continue;
      const itemBytes = encodedPairBytes(pair);
      if (!part.fits(itemBytes, partBytesMax)) {
        yield part.build(false);
        part = new PartBuilder(exported, pairIndex);
      }
      part.addPair(pair, itemBytes);
      pairIndex++;
    }
    if (pairsSeen < resumeAt) {
      // Not the bucket the receiver is pulling, or not the same version of it: sending on would install a mix.
      throw new Error(`installParts: the export has ${pairsSeen} pairs, fewer than the ${resumeAt} already installed`);
    }
    yield part.build(true);
  } finally {
    await exported.pairs.return?.();
  }
}

class PartBuilder {
  private readonly pairs: BucketPair[] = [];
  private readonly dedup: [string, TransferredDedupEntry][] = [];
  private sizeBytes = 0;

  constructor(
    private readonly exported: BucketExport,
    private readonly firstPairIndex: number,
  ) {}

  /** Whether an item of `itemBytes` fits; an empty part takes any item, so every item travels. */
  fits(itemBytes: number, partBytesMax: number): boolean {
    return this.sizeBytes === 0 || this.sizeBytes + itemBytes <= partBytesMax;
  }

  addDedup(clientId: string, entry: TransferredDedupEntry, itemBytes: number): void {
    this.dedup.push([clientId, entry]);
    this.sizeBytes += itemBytes;
  }

  addPair(pair: BucketPair, itemBytes: number): void {
    this.pairs.push(pair);
    this.sizeBytes += itemBytes;
  }

  build(last: boolean): InstallBucketCommand {
    return {
      type: 'installBucket',
      bucket: this.exported.bucket,
      configVersion: this.exported.configVersion,
      firstPairIndex: this.firstPairIndex,
      pairs: this.pairs,
      dedup: this.dedup,
      last,
    };
  }
}
