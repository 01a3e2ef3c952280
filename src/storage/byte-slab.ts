/**
 * Copies many small byte strings into shared slabs of SLAB_BYTES, so that
 * reading a log of hundreds of thousands of entries allocates a few hundred
 * buffers instead of one per entry. Each ArrayBuffer is a native allocation
 * the garbage collector tracks and frees one by one: at restart, with a
 * 95 MiB log of 360,000 entries, those per-entry copies and their collection
 * were most of the time the log took to load (docs/performance.md).
 *
 * The leader copies each proposal the same way (node/raft-node.ts): a
 * command encoded with Buffer.allocUnsafe is a slice of Node's shared 8 KiB
 * pool, and the log kept it, and the pool slab under it, until compaction:
 * under connection churn ~1.7 KiB of memory per 330-byte entry.
 *
 * A copy keeps its whole slab alive, so slabs are small (1 MiB): entries are
 * dropped in log order, a prefix at a time, and a slab outlives its last
 * entry by nothing. Larger strings get a buffer of their own.
 */
export const SLAB_BYTES = 1024 * 1024;
/** Strings above this get their own buffer: a slab is for the many small ones. */
const SLAB_COPY_BYTES_MAX = SLAB_BYTES / 16;

export class ByteSlab {
  private slab: Buffer = Buffer.allocUnsafeSlow(0);
  private usedBytes = 0;

  /** A copy of `bytes`, sharing nothing with them. */
  copyBytes(bytes: Uint8Array): Uint8Array {
    const sizeBytes = bytes.byteLength;
    if (sizeBytes > SLAB_COPY_BYTES_MAX) return new Uint8Array(bytes);
    const at = this.reserve(sizeBytes);
    this.slab.set(bytes, at);
    return new Uint8Array(this.slab.buffer, this.slab.byteOffset + at, sizeBytes);
  }

  /** A copy of the bytes of `source` from `start` on, sharing nothing with `source`. */
  copy(source: Buffer, start: number): Uint8Array {
    const sizeBytes = source.byteLength - start;
    if (sizeBytes > SLAB_COPY_BYTES_MAX) return new Uint8Array(source.subarray(start));
    const at = this.reserve(sizeBytes);
    // Buffer.copy with offsets: no view of the source is made for the copy.
    source.copy(this.slab, at, start);
    return new Uint8Array(this.slab.buffer, this.slab.byteOffset + at, sizeBytes);
  }

  /** Where the next `sizeBytes` go, in a new slab if the current one is full. */
  private reserve(sizeBytes: number): number {
    if (this.usedBytes + sizeBytes > this.slab.byteLength) {
      // allocUnsafeSlow: a slab of its own, never a slice of Node's shared pool.
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.usedBytes = 0;
    }
    const at = this.usedBytes;
    this.usedBytes += sizeBytes;
    return at;
  }
}
