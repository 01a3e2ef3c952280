/**
 * One segment file of the disk log: its name, and reading its records back.
 *
 * A segment is named by the index of its first record and a sequence number,
 * `00000000000000000001-000001.log`. The sequence orders the files (indices
 * alone cannot: an overwrite or a reset starts a newer file at a lower
 * index); the index helps a person find an entry. Records are framed as in
 * record.ts and hold one entry each (entry-codec.ts). Files are only ever
 * appended to; a record whose index is at or below an earlier one replaces
 * the log from that index on, when the records are replayed in order.
 *
 * The segment being written ends in zeros: space written ahead of the
 * records (preallocatedEndBytes), so that an append overwrites zeros instead
 * of growing the file, and its sync need not commit a new size through the
 * file system's journal. A record never starts with a zero length
 * (record.ts), so where the records end the zeros begin, and a file whose
 * bytes from some offset on are all zero ends cleanly there.
 *
 * Why zeros followed by other bytes are damage, not a torn write: the store
 * writes each batch with one O_DSYNC write where the records end, and starts
 * the next write only once that one is durable, so writes reach the disk in
 * order and a crash can leave at most one incomplete write, the last. That
 * write begins with a record's length, which is never zero: a torn write
 * leaves a bad record where the records end (zeros after it or not), never
 * a zero length there with data further on. (A crash can in principle
 * persist the sectors of one write out of order, leaving zeros where its
 * first sector should be; that is reported as damage too, the safe side of
 * the choice, as the store does for an intact record after a torn one.)
 */
import type { Entry, LogIndex } from '../raft/types.js';
import { ByteSlab } from './byte-slab.js';
import { decodeEntry, ENTRY_HEADER_BYTES, peekEntryIndex } from './entry-codec.js';
import { EntryDecodeError } from './errors.js';
import { RECORD_HEADER_BYTES, readRecordAt } from './record.js';

export interface SegmentName {
  readonly firstIndex: LogIndex;
  readonly sequence: number;
}

const INDEX_DIGITS = 20;
const SEQUENCE_DIGITS_MIN = 6;
const NAME_PATTERN = /^(\d{20})-(\d{6,})\.log$/;

export function segmentFileName(name: SegmentName): string {
  const index = String(name.firstIndex).padStart(INDEX_DIGITS, '0');
  return `${index}-${String(name.sequence).padStart(SEQUENCE_DIGITS_MIN, '0')}.log`;
}

/** The parts of a segment file's name, or null when `fileName` is not one. */
export function parseSegmentFileName(fileName: string): SegmentName | null {
  const match = NAME_PATTERN.exec(fileName);
  if (match === null) return null;
  const firstIndex = Number(match[1]);
  const sequence = Number(match[2]);
  if (!Number.isSafeInteger(firstIndex) || !Number.isSafeInteger(sequence)) return null;
  return { firstIndex, sequence };
}

export interface ScannedEntry {
  readonly index: LogIndex;
  /** Null for a record below the scan's indexMin: checksummed, but not decoded. */
  readonly entry: Entry | null;
  readonly offsetBytes: number;
}

/** Where a scan stopped before the end of the file, and why. */
export type SegmentDamage =
  /**
   * A record whose header or checksum is bad. A crash in the middle of a
   * write leaves exactly this at the end of the last segment; anywhere else
   * it is corruption.
   */
  | {
      readonly kind: 'unreadable';
      readonly offsetBytes: number;
      readonly problem: string;
      /** Where the first intact record after the damage starts, if one does: proof that this is no torn tail. */
      readonly intactRecordAfterBytes: number | null;
    }
  /** A record that passes its checksum but is no entry: no crash explains that. */
  | { readonly kind: 'undecodable'; readonly offsetBytes: number; readonly problem: string }
  /** Zeros where the next record should start, then other bytes: no crash explains that either (see above). */
  | { readonly kind: 'dataAfterZeros'; readonly offsetBytes: number; readonly problem: string };

export interface SegmentScan {
  /** Every entry before the damage (or the end), in file order. */
  readonly entries: ScannedEntry[];
  /** Bytes from the start of the file up to the damage (or the end of the records, where the zeros begin). */
  readonly intactBytes: number;
  /** Where the file's last non-zero byte ends: past it the file holds only zeros, if anything. */
  readonly dataEndBytes: number;
  readonly damage: SegmentDamage | null;
}

/**
 * Reads the records of a whole segment file; those below `indexMin` are
 * checked but not decoded (at restart they are compacted entries that share
 * a file with live ones). The file is in memory whole, so
 * a segment costs up to its size in memory while it is read: segments are
 * bounded by the store's segmentBytesMax plus one write batch.
 */
export function scanSegment(bytes: Buffer, indexMin: LogIndex = 1): SegmentScan {
  const entries: ScannedEntry[] = [];
  const slab = new ByteSlab();
  const copy = (payload: Buffer, start: number): Uint8Array => slab.copy(payload, start);
  const dataEndBytes = nonZeroEndBytes(bytes);
  let offsetBytes = 0;
  // Up to the last non-zero byte only: from there on it is preallocated space (a record may end inside the zeros).
  while (offsetBytes < dataEndBytes) {
    const record = readRecordAt(bytes, offsetBytes);
    if (!record.ok && startsWithZeroLength(bytes, offsetBytes)) {
      const problem =
        `zeros where the next record should start, then data from byte offset ${firstNonZeroBytes(bytes, offsetBytes)}` +
        " (a torn write would begin with its record's length, which is never zero)";
      return {
        entries,
        intactBytes: offsetBytes,
        dataEndBytes,
        damage: { kind: 'dataAfterZeros', offsetBytes, problem },
      };
    }
    if (!record.ok) {
      const intactRecordAfterBytes = findIntactRecord(bytes, offsetBytes + 1);
      const damage = { kind: 'unreadable', offsetBytes, problem: record.problem, intactRecordAfterBytes } as const;
      return { entries, intactBytes: offsetBytes, dataEndBytes, damage };
    }
    // Below indexMin (compacted away, kept only because the rest of its file is not): its index is enough.
    const index = peekEntryIndex(record.payload);
    let entry: Entry | null = null;
    try {
      if (index === null || index >= indexMin) entry = decodeEntry(record.payload, copy);
    } catch (error) {
      if (!(error instanceof EntryDecodeError)) throw error;
      const problem = `the record passes its checksum but holds no entry: ${error.problem}`;
      return { entries, intactBytes: offsetBytes, dataEndBytes, damage: { kind: 'undecodable', offsetBytes, problem } };
    }
    entries.push({ index: entry?.index ?? index!, entry, offsetBytes });
    offsetBytes = record.endOffsetBytes;
  }
  return { entries, intactBytes: offsetBytes, dataEndBytes, damage: null };
}

function startsWithZeroLength(bytes: Buffer, offsetBytes: number): boolean {
  return bytes.byteLength - offsetBytes >= 4 && bytes.readUInt32BE(offsetBytes) === 0;
}

/** The offset of the first non-zero byte at or after `fromBytes` (the end of `bytes` when there is none). */
function firstNonZeroBytes(bytes: Buffer, fromBytes: number): number {
  let offsetBytes = fromBytes;
  while (offsetBytes < bytes.byteLength && bytes[offsetBytes] === 0) offsetBytes += 1;
  return offsetBytes;
}

/** Zeros compared at a time when looking for the end of a file's data: memcmp speed instead of a byte loop. */
const ZERO_BLOCK = Buffer.alloc(64 * 1024);

/** The offset just past the last non-zero byte of `bytes` (0 when all are zero). */
export function nonZeroEndBytes(bytes: Buffer): number {
  let endBytes = bytes.byteLength;
  while (endBytes > 0) {
    const startBytes = Math.max(0, endBytes - ZERO_BLOCK.byteLength);
    if (!bytes.subarray(startBytes, endBytes).equals(ZERO_BLOCK.subarray(0, endBytes - startBytes))) break;
    endBytes = startBytes;
  }
  while (endBytes > 0 && bytes[endBytes - 1] === 0) endBytes -= 1;
  return endBytes;
}

export interface SegmentSpace {
  /** Where the records end: the next one is written here. */
  readonly sizeBytes: number;
  /** Where the file ends: zeros from sizeBytes up to here. */
  readonly allocatedBytes: number;
}

/**
 * Where the file should end once `batchBytes` more are written at
 * `space.sizeBytes`: as it is while the batch fits the zeros, else a chunk
 * further (or the batch's size, if larger), though no further than the
 * segment may still grow, and never short of the batch's end.
 */
export function preallocatedEndBytes(
  space: SegmentSpace,
  batchBytes: number,
  limits: { readonly chunkBytes: number; readonly segmentBytesMax: number },
): number {
  const endBytes = space.sizeBytes + batchBytes;
  if (endBytes <= space.allocatedBytes) return space.allocatedBytes;
  const grownBytes = space.allocatedBytes + Math.max(limits.chunkBytes, batchBytes);
  return Math.max(endBytes, Math.min(grownBytes, limits.segmentBytesMax));
}

/**
 * The first offset at or after `fromBytes` where an intact entry record
 * starts, or null. Tries every byte offset, because the damaged length
 * cannot say where the next record begins. Cheap in practice: most offsets
 * fail on the length (zero, or past the end of the file) before any checksum
 * is computed, and a torn tail is at most one write batch long.
 */
function findIntactRecord(bytes: Buffer, fromBytes: number): number | null {
  const minimumRecordBytes = RECORD_HEADER_BYTES + ENTRY_HEADER_BYTES;
  for (let offsetBytes = fromBytes; offsetBytes + minimumRecordBytes <= bytes.byteLength; offsetBytes++) {
    const payloadBytes = bytes.readUInt32BE(offsetBytes);
    if (payloadBytes < ENTRY_HEADER_BYTES || offsetBytes + RECORD_HEADER_BYTES + payloadBytes > bytes.byteLength) {
      continue;
    }
    const record = readRecordAt(bytes, offsetBytes);
    if (!record.ok) continue;
    try {
      decodeEntry(record.payload);
      return offsetBytes;
    } catch (error) {
      // Random bytes that happen to pass a checksum; keep looking.
      if (!(error instanceof EntryDecodeError)) throw error;
    }
  }
  return null;
}
