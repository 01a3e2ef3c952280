/**
 * The Raft log on disk: append-only segment files in one directory, plus the
 * `log-meta` file that says where the log starts (log-meta.ts).
 *
 * Writes. Every operation joins one queue and runs in call order. The
 * segment being written is open with O_DSYNC, so a write is durable when it
 * returns: one call to the thread pool instead of a write and an fdatasync.
 * Appends that queue up while a write is in flight go out together as the
 * next single write (group commit), so a thousand concurrent appends cost a
 * handful of syncs, not a thousand. An append resolves only after the
 * durable write that covers it.
 *
 * Preallocation. The segment being written ends in zeros written ahead of
 * its records (segment-file.ts): a write that stays inside them changes no
 * file size, so its sync is the data alone, with no journal commit for the
 * size. Both together took a 6.5 KB durable append on this project's test
 * machine from 0.29 ms and 157 µs of CPU to 0.17 ms and 90 µs
 * (docs/performance.md, "The log's write"). A write that passes the zeros carries
 * the next chunk of them (preallocateBytes) with it, so that costs one
 * larger write a chunk, and no fsync after it: O_DSYNC makes the new size
 * durable with the data, as fdatasync would (open(2)). Zeros, not ftruncate or fallocate: those leave holes
 * or unwritten extents, whose first write goes through the journal again.
 *
 * A new segment is started when the next batch would take the current one
 * past segmentBytesMax (a batch is never split, so a segment may exceed it
 * by one batch). The closed segment is first cut to its records and synced,
 * so that only the last segment ever ends in zeros: recovery can then keep
 * treating anything but a record at the end of an earlier segment as
 * damage. Then the directory is fsynced before anything is written to the
 * new file, so that the file itself survives a crash.
 *
 * Overwrites are appended too: a record whose index is at or below an
 * earlier one replaces the log from there on when records are replayed.
 *
 * Compaction deletes whole segments, oldest first, once every record in them
 * is at or below the compaction point; the meta file records the point (and
 * which files are dead) before any file is deleted, so load() never returns
 * a compacted entry again and a crash never resurrects one.
 *
 * Recovery, in the first load(): segments are read in order, one whole file
 * at a time (so memory peaks at one segment plus the entries loaded). Zeros
 * after the last record of the last segment are its preallocated space, not
 * damage: appends go on where the records end. A bad record at the end of
 * the last segment, with no intact record anywhere after it, is what a
 * crash in the middle of a write leaves (zeros after it or not): the file is
 * cut there, fsynced, and reported in `tornTail`. Zeros where the next
 * record should start followed by other bytes are no torn write
 * (segment-file.ts says why). A bad record anywhere else is
 * damage no crash explains, and load() rejects with a LogCorruptionError
 * that names the file and offset. (A crash can in principle persist the
 * sectors of one write out of order, leaving an intact record after a torn
 * one inside the last unacknowledged batch; that too is reported as
 * corruption, the safe side of the choice.)
 */
import path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, readdir, unlink } from 'node:fs/promises';
import type { Entry, LogIndex } from '../raft/types.js';
import type { SyncObserver } from './durable-io.js';
import { diskStep, openForDurableWrites, syncDirectory, syncFile, writeDurably } from './durable-io.js';
import { encodeEntryRecords } from './entry-codec.js';
import { LogCorruptionError, StoreFailedError } from './errors.js';
import { LogBounds } from './log-bounds.js';
import type { LogMeta } from './log-meta.js';
import { readLogMeta, writeLogMeta } from './log-meta.js';
import type { LoadedLog, LogStore } from './log-store.js';
import type { SegmentScan } from './segment-file.js';
import { parseSegmentFileName, preallocatedEndBytes, scanSegment, segmentFileName } from './segment-file.js';

export interface SegmentedLogStoreOptions {
  /** Start a new segment file once the next write would take the current one past this size. */
  readonly segmentBytesMax?: number;
  /** Bytes of queued appends gathered into one durable write. One append always goes, however large. */
  readonly writeBatchBytesMax?: number;
  /** Zeros added to the end of the segment being written at a time, once a write would pass those there. */
  readonly preallocateBytes?: number;
  /**
   * Told how long each sync a write batch waited for took (metrics): the
   * durable (O_DSYNC) write of the batch, which is its fdatasync, or the
   * fdatasync of a segment cut to its records when the next one starts.
   */
  readonly onSync?: SyncObserver;
}

export const SEGMENT_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
export const WRITE_BATCH_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;
/**
 * A larger write once per MiB of log (about 3,000 puts of 330 bytes). That write stalls the
 * appends behind it for as long as the zeros take to reach the disk, so the chunk sets the
 * put's p99 under load: bench:compare measured p99 18-19 ms with 256 KiB or 1 MiB, 25 ms with
 * 4 MiB and 33 ms with 16 MiB (docs/performance.md, section 5). etcd preallocates whole 64 MiB
 * WAL files in the background instead; on ext4 that slowed the appends beside it more.
 */
export const PREALLOCATE_BYTES_DEFAULT = 1024 * 1024;

/** The end of a segment that recovery cut off: the write a crash interrupted. */
export interface TornTail {
  readonly path: string;
  readonly offsetBytes: number;
  readonly bytesDropped: number;
  readonly problem: string;
}

interface Segment {
  readonly sequence: number;
  readonly firstIndex: LogIndex;
  readonly path: string;
  /** Where the records end. */
  sizeBytes: number;
  /** Where the file ends: zeros from sizeBytes to here (only ever in the last segment). */
  allocatedBytes: number;
  /** The highest index of any record in the file (0 for none): compaction may delete it once that is covered. */
  indexMax: LogIndex;
}

interface Completion<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
}

interface AppendOperation {
  readonly type: 'append';
  /** The entries' records, one after another. */
  readonly records: Buffer;
  readonly indexFirst: LogIndex;
  readonly indexLast: LogIndex;
  readonly done: Completion<void>;
}

type Operation =
  | AppendOperation
  | { readonly type: 'compact'; readonly index: LogIndex; readonly done: Completion<void> }
  | { readonly type: 'reset'; readonly index: LogIndex; readonly done: Completion<void> }
  | { readonly type: 'load'; readonly done: Completion<LoadedLog> }
  | { readonly type: 'close'; readonly done: Completion<void> };

export class SegmentedLogStore implements LogStore {
  private readonly segmentBytesMax: number;
  private readonly writeBatchBytesMax: number;
  private readonly preallocateBytes: number;
  private readonly onSync: SyncObserver | undefined;
  /**
   * Operations not yet run. Not bounded here: the caller bounds what it has
   * in flight (the Raft core caps uncommitted bytes and Ready batches).
   */
  private readonly queue: Operation[] = [];
  private draining = false;
  /** What the log will be once every queued operation ran; null until the first load() succeeded. */
  private bounds: LogBounds | null = null;
  /** The file appends go to: always the last of `segments`, once loaded. */
  private activeHandle: FileHandle | null = null;
  private failure: Error | null = null;
  private closing = false;
  private syncs = 0;
  private tornTailCut: TornTail | null = null;

  private constructor(
    readonly directory: string,
    private meta: LogMeta,
    /** Live segments, oldest first. */
    private segments: Segment[],
    private nextSequence: number,
    options: SegmentedLogStoreOptions,
  ) {
    this.segmentBytesMax = options.segmentBytesMax ?? SEGMENT_BYTES_MAX_DEFAULT;
    this.writeBatchBytesMax = options.writeBatchBytesMax ?? WRITE_BATCH_BYTES_MAX_DEFAULT;
    this.preallocateBytes = options.preallocateBytes ?? PREALLOCATE_BYTES_DEFAULT;
    this.onSync = options.onSync;
    if (!(this.segmentBytesMax > 0) || !(this.writeBatchBytesMax > 0) || !(this.preallocateBytes >= 0)) {
      throw new Error(
        'segmented log store: segmentBytesMax and writeBatchBytesMax must be positive, preallocateBytes not negative',
      );
    }
  }

  /**
   * Opens the log in `directory`, creating it if needed, and deletes segment
   * files that an interrupted compaction or reset left behind. Call load()
   * next. Only one store may have a directory open at a time.
   */
  static async open(directory: string, options: SegmentedLogStoreOptions = {}): Promise<SegmentedLogStore> {
    await makeDirectoryDurably(directory);
    const meta = await readLogMeta(directory);
    const found: Segment[] = [];
    for (const fileName of await readdir(directory)) {
      const name = parseSegmentFileName(fileName);
      if (name === null) continue;
      found.push({ ...name, path: path.join(directory, fileName), sizeBytes: 0, allocatedBytes: 0, indexMax: 0 });
    }
    found.sort((a, b) => a.sequence - b.sequence);
    found.forEach((segment, position) => {
      const previous = found[position - 1];
      if (previous !== undefined && previous.sequence === segment.sequence) {
        throw new LogCorruptionError(segment.path, 0, `it has the same sequence number as ${previous.path}`);
      }
    });
    const dead = found.filter((segment) => segment.sequence < meta.firstLiveSequence);
    await deleteFiles(directory, dead);
    const lastSequence = found[found.length - 1]?.sequence ?? 0;
    const nextSequence = Math.max(meta.firstLiveSequence, lastSequence + 1);
    const live = found.filter((segment) => segment.sequence >= meta.firstLiveSequence);
    return new SegmentedLogStore(directory, meta, live, nextSequence, options);
  }

  /**
   * Syncs of segment files so far: durable writes (each one write and its
   * fdatasync in one call), and fdatasyncs of files cut (a closed segment, a
   * torn tail). Group commit keeps this far below the number of appends.
   */
  get syncCount(): number {
    return this.syncs;
  }

  /** What the first load() cut off the end of the log, if anything: worth a line in the node's log. */
  get tornTail(): TornTail | null {
    return this.tornTailCut;
  }

  /** Bytes of the records in the segment files in use (the last file also holds up to preallocateBytes of zeros). */
  get sizeBytes(): number {
    return this.segments.reduce((total, segment) => total + segment.sizeBytes, 0);
  }

  /** The segment files in use, oldest first. */
  get segmentPaths(): string[] {
    return this.segments.map((segment) => segment.path);
  }

  load(): Promise<LoadedLog> {
    return this.enqueue<LoadedLog>((done) => ({ type: 'load', done }));
  }

  append(entries: readonly Entry[]): Promise<void> {
    const first = entries[0];
    const last = entries[entries.length - 1];
    return this.enqueue<void>((done) => {
      const bounds = this.writableBounds();
      bounds.checkAppend(entries);
      if (first === undefined || last === undefined) return null;
      // Encoding now copies the caller's buffers, so reusing them after the call cannot change what is written.
      const records = encodeEntryRecords(entries);
      bounds.appended(entries);
      return { type: 'append', records, indexFirst: first.index, indexLast: last.index, done };
    });
  }

  compact(index: LogIndex): Promise<void> {
    return this.enqueue<void>((done) => {
      const bounds = this.writableBounds();
      if (!bounds.compacts(index)) return null;
      bounds.compacted(index);
      return { type: 'compact', index, done };
    });
  }

  reset(snapshotIndex: LogIndex): Promise<void> {
    return this.enqueue<void>((done) => {
      this.writableBounds().reset(snapshotIndex);
      return { type: 'reset', index: snapshotIndex, done };
    });
  }

  close(): Promise<void> {
    return this.enqueue<void>((done) => {
      this.closing = true;
      return { type: 'close', done };
    });
  }

  /**
   * Checks and queues an operation. `make` throws to refuse it, or returns
   * null when there is nothing to do; the promise then settles at once.
   */
  private enqueue<T>(make: (done: Completion<T>) => Operation | null): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        if (this.closing) throw new Error(`segmented log store ${this.directory}: used after close()`);
        const operation = make({ resolve, reject });
        if (operation === null) {
          resolve(undefined as T);
          return;
        }
        this.queue.push(operation);
      } catch (error) {
        reject(asError(error));
        return;
      }
      if (!this.draining) void this.drain();
    });
  }

  private writableBounds(): LogBounds {
    if (this.failure !== null) throw new StoreFailedError(`log store ${this.directory}`, this.failure);
    if (this.bounds === null) {
      throw new Error(`segmented log store ${this.directory}: call load() and let it succeed before writing`);
    }
    return this.bounds;
  }

  /** Runs queued operations until none is left. Never rejects: every outcome goes to an operation's promise. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let next = this.queue[0]; next !== undefined; next = this.queue[0]) {
        const batch = next.type === 'append' ? this.takeAppendBatch() : [this.queue.shift() as Operation];
        await this.run(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Takes the appends at the head of the queue, up to writeBatchBytesMax, as one group commit. */
  private takeAppendBatch(): AppendOperation[] {
    const batch: AppendOperation[] = [];
    let sizeBytes = 0;
    for (let next = this.queue[0]; next?.type === 'append'; next = this.queue[0]) {
      if (batch.length > 0 && sizeBytes + next.records.byteLength > this.writeBatchBytesMax) break;
      batch.push(next);
      sizeBytes += next.records.byteLength;
      this.queue.shift();
    }
    return batch;
  }

  private async run(batch: readonly Operation[]): Promise<void> {
    const first = batch[0];
    if (first === undefined) return;
    if (this.failure !== null && first.type !== 'close') {
      const error = new StoreFailedError(`log store ${this.directory}`, this.failure);
      for (const operation of batch) operation.done.reject(error);
      return;
    }
    try {
      switch (first.type) {
        case 'append':
          await this.writeAppends(batch as AppendOperation[]);
          for (const operation of batch) (operation as AppendOperation).done.resolve();
          return;
        case 'load':
          first.done.resolve(await this.readLog());
          return;
        case 'compact':
          await this.compactSegments(first.index);
          first.done.resolve();
          return;
        case 'reset':
          await this.removeAllSegments(first.index);
          first.done.resolve();
          return;
        case 'close':
          await this.activeHandle?.close();
          this.activeHandle = null;
          first.done.resolve();
          return;
      }
    } catch (error) {
      // A failed load changed nothing; after any failed write the disk's state is unknown.
      if (first.type !== 'load') this.failure = asError(error);
      for (const operation of batch) operation.done.reject(asError(error));
    }
  }

  private async writeAppends(batch: readonly AppendOperation[]): Promise<void> {
    const first = batch[0];
    if (first === undefined) return;
    // Usually one append (a Ready's entries); more when appends queued behind a write, and they share the next one.
    const records = batch.length === 1 ? first.records : Buffer.concat(batch.map((operation) => operation.records));
    let active = this.segments[this.segments.length - 1];
    if (
      active === undefined ||
      this.activeHandle === null ||
      (active.sizeBytes > 0 && active.sizeBytes + records.byteLength > this.segmentBytesMax)
    ) {
      active = await this.startSegment(first.indexFirst);
    }
    const positionBytes = active.sizeBytes;
    const allocatedBytes = preallocatedEndBytes(active, records.byteLength, {
      chunkBytes: this.preallocateBytes,
      segmentBytesMax: this.segmentBytesMax,
    });
    // Past the zeros, the write brings the next chunk of them: the file grows (a journal commit) once a chunk.
    const bytes =
      allocatedBytes > active.allocatedBytes ? withZerosUpTo(records, allocatedBytes - positionBytes) : records;
    // A failure here fails the store for good (run()), so no later write or sync touches this file again.
    await writeDurably(this.activeHandle as FileHandle, bytes, positionBytes, active.path, this.onSync);
    this.syncs += 1;
    active.sizeBytes = positionBytes + records.byteLength;
    active.allocatedBytes = allocatedBytes;
    for (const operation of batch) active.indexMax = Math.max(active.indexMax, operation.indexLast);
  }

  private async startSegment(firstIndex: LogIndex): Promise<Segment> {
    await this.closeActiveSegment();
    const sequence = this.nextSequence;
    this.nextSequence += 1;
    const segmentPath = path.join(this.directory, segmentFileName({ firstIndex, sequence }));
    this.activeHandle = await openForDurableWrites(segmentPath, 'create');
    await syncDirectory(this.directory);
    const segment: Segment = { sequence, firstIndex, path: segmentPath, sizeBytes: 0, allocatedBytes: 0, indexMax: 0 };
    this.segments.push(segment);
    return segment;
  }

  /** Cuts the segment being written to its records, durably, and closes it: only the last segment keeps zeros. */
  private async closeActiveSegment(): Promise<void> {
    const handle = this.activeHandle;
    const active = this.segments[this.segments.length - 1];
    if (handle === null) return;
    this.activeHandle = null;
    try {
      if (active !== undefined && active.allocatedBytes > active.sizeBytes) {
        await diskStep('truncate', active.path, () => handle.truncate(active.sizeBytes));
        // The size is all that changed, and fdatasync makes a size durable. Once per segment (64 MiB by default).
        await syncFile(handle, active.path, 'fdatasync', this.onSync);
        this.syncs += 1;
        active.allocatedBytes = active.sizeBytes;
      }
    } finally {
      await handle.close();
    }
  }

  private async compactSegments(index: LogIndex): Promise<void> {
    // Only a prefix may go: a later record at or below `index` may truncate what an earlier file holds above it.
    // The active segment stays, because appends go there.
    let deletable = 0;
    while (deletable < this.segments.length - 1 && (this.segments[deletable]?.indexMax ?? Infinity) <= index) {
      deletable += 1;
    }
    const firstLive = this.segments[deletable];
    await this.replaceMeta({
      compactedIndex: index,
      firstLiveSequence: firstLive?.sequence ?? this.nextSequence,
    });
    await this.deleteSegments(this.segments.splice(0, deletable));
  }

  private async removeAllSegments(snapshotIndex: LogIndex): Promise<void> {
    await this.activeHandle?.close();
    this.activeHandle = null;
    await this.replaceMeta({ compactedIndex: snapshotIndex, firstLiveSequence: this.nextSequence });
    await this.deleteSegments(this.segments.splice(0, this.segments.length));
  }

  private async replaceMeta(meta: LogMeta): Promise<void> {
    await writeLogMeta(this.directory, meta);
    this.meta = meta;
  }

  private deleteSegments(segments: readonly Segment[]): Promise<void> {
    return deleteFiles(this.directory, segments);
  }

  /**
   * Replays every live segment. The first time, this is recovery: it may cut
   * a torn tail, drops a last segment left with no record, and opens the last
   * segment for appends.
   */
  private async readLog(): Promise<LoadedLog> {
    const recovering = this.bounds === null;
    const firstIndex = this.meta.compactedIndex + 1;
    const entries: Entry[] = [];
    for (const [segmentPosition, segment] of this.segments.entries()) {
      const bytes = await readFile(segment.path);
      const scan = scanSegment(bytes, firstIndex);
      checkFirstRecord(segment, scan);
      const isLast = segmentPosition === this.segments.length - 1;
      if (scan.damage !== null) await this.cutTornTail(segment, scan, { isLast, recovering });
      else if (!isLast) checkNoZeroTail(segment, scan, bytes.byteLength);
      for (const { index, entry, offsetBytes } of scan.entries) {
        if (entry === null || index < firstIndex) {
          // Covered by the compaction point, and it replaces whatever came after it.
          entries.length = 0;
          continue;
        }
        const position = index - firstIndex;
        if (position > entries.length) {
          const expected = firstIndex + entries.length;
          throw new LogCorruptionError(
            segment.path,
            offsetBytes,
            `entry ${index} follows a gap (expected ${expected})`,
          );
        }
        // A later record for an index replaces it and everything after it; usually the log just grows.
        if (position !== entries.length) entries.length = position;
        entries.push(entry);
      }
      segment.sizeBytes = scan.intactBytes;
      // After a cut the file ends at the records; else any zeros after them are kept for the next appends.
      segment.allocatedBytes = scan.damage === null ? bytes.byteLength : scan.intactBytes;
      segment.indexMax = scan.entries.reduce((max, { index }) => Math.max(max, index), 0);
    }
    if (recovering) await this.openForAppends();
    if (recovering) this.bounds = new LogBounds(firstIndex, firstIndex + entries.length - 1);
    return { firstIndex, entries };
  }

  /** Cuts the file at the damage if it can only be a torn write, and this is recovery; throws otherwise. */
  private async cutTornTail(
    segment: Segment,
    scan: SegmentScan,
    where: { readonly isLast: boolean; readonly recovering: boolean },
  ): Promise<void> {
    const damage = scan.damage;
    if (damage === null) return;
    const fail = (why: string) => new LogCorruptionError(segment.path, damage.offsetBytes, `${damage.problem}; ${why}`);
    if (damage.kind !== 'unreadable') throw new LogCorruptionError(segment.path, damage.offsetBytes, damage.problem);
    if (damage.intactRecordAfterBytes !== null) {
      throw fail(`an intact record follows at byte offset ${damage.intactRecordAfterBytes}, so this is no torn write`);
    }
    if (!where.isLast) throw fail('a torn write can only be at the end of the last segment file, and this is not it');
    if (!where.recovering) throw fail('it appeared after recovery: something else wrote to the file');
    const handle = await open(segment.path, 'r+');
    try {
      await diskStep('truncate', segment.path, () => handle.truncate(damage.offsetBytes));
      await syncFile(handle, segment.path, 'fdatasync');
      this.syncs += 1;
    } finally {
      await handle.close();
    }
    // The torn write's bytes as far as they can be told from preallocated zeros: up to the last non-zero one.
    const bytesDropped = scan.dataEndBytes - damage.offsetBytes;
    this.tornTailCut = { path: segment.path, offsetBytes: damage.offsetBytes, bytesDropped, problem: damage.problem };
  }

  private async openForAppends(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    if (last === undefined) return;
    if (last.sizeBytes === 0) {
      // Created, then a crash before its first write was durable: its name may not match what comes next.
      this.segments.pop();
      await this.deleteSegments([last]);
      return this.openForAppends();
    }
    this.activeHandle = await openForDurableWrites(last.path, 'existing');
  }
}

/** `records` followed by zeros, `sizeBytes` in all. */
function withZerosUpTo(records: Buffer, sizeBytes: number): Buffer {
  if (sizeBytes <= records.byteLength) return records;
  // Once a chunk: the zeros are a fresh zero-filled allocation, and the copy is of one batch.
  const bytes = Buffer.alloc(sizeBytes);
  records.copy(bytes);
  return bytes;
}

function checkFirstRecord(segment: Segment, scan: SegmentScan): void {
  const first = scan.entries[0];
  if (first !== undefined && first.index !== segment.firstIndex) {
    throw new LogCorruptionError(
      segment.path,
      0,
      `the file name says its first entry is ${segment.firstIndex}, but the first record holds entry ${first.index}`,
    );
  }
}

/** Zeros after the records of a segment that is not the last: the store cuts them before it starts the next. */
function checkNoZeroTail(segment: Segment, scan: SegmentScan, fileBytes: number): void {
  if (scan.intactBytes === fileBytes) return;
  throw new LogCorruptionError(
    segment.path,
    scan.intactBytes,
    `${fileBytes - scan.intactBytes} zero bytes follow the last record, but only the last segment file ends in ` +
      'preallocated zeros (a segment is cut to its records before the next one starts)',
  );
}

/** Deletes `files` of `directory`, then makes their absence durable. */
async function deleteFiles(directory: string, files: readonly { readonly path: string }[]): Promise<void> {
  for (const file of files) await diskStep('delete', file.path, () => unlink(file.path));
  if (files.length > 0) await syncDirectory(directory);
}

/** Creates `directory` and the missing directories above it, and makes their names durable. */
async function makeDirectoryDurably(directory: string): Promise<void> {
  const firstCreated = await diskStep('create', directory, () => mkdir(directory, { recursive: true }));
  if (firstCreated === undefined) return;
  for (let created = path.resolve(directory); ; created = path.dirname(created)) {
    await syncDirectory(path.dirname(created));
    if (created === path.resolve(firstCreated)) return;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
