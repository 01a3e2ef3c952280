/**
 * The disk KvEngine, on LevelDB through classic-level.
 *
 * Why classic-level and not lmdb (measured on this machine, Node 20.20,
 * one run of 100k puts of 16-byte keys and 256-byte values in batches of 100,
 * each batch durable, then 100k random gets; two rounds each):
 *
 *   engine               durable puts/s     random gets/s
 *   classic-level 3.0.0  83.6k, 91.7k       getSync 298k, 324k (get() with a promise: 25k)
 *   lmdb 3.5.6           49.3k, 51.0k       669k, 689k (sync)
 *
 * - The state machine's hot path is writes: every applied entry is one atomic
 *   batch (data, dedup entry, applied index). LevelDB writes ~1.7x faster;
 *   ~300k reads/s is far more than apply's one read per append or cas needs.
 * - lmdb passes `npm ci` here only with a package.json override that pins
 *   msgpackr-extract to 3.0.4, the newest version whose six platform packages
 *   this registry mirror all has; any later msgpackr bump breaks `npm ci` again.
 *   classic-level ships its prebuilt binaries inside its own package.
 * - Revisit if one process hosts many groups: one lmdb environment would share
 *   one fsync across them (group commit), which separate LevelDB stores cannot.
 *
 * Shaped like the state machine's writes (one batch per entry), classic-level
 * did 17k batches/s unsynced and 3.9k/s synced, which is why the state machine
 * does not sync each apply by default (see state-machine.ts).
 */
import { ClassicLevel } from 'classic-level';
import type { Iterator as LevelIterator } from 'classic-level';
import { DiskWriteError } from '../storage/errors.js';
import type { EngineEntry, EngineWrite, EngineWriteOptions, KeyRange, KvEngine } from './engine.js';
import { releasingIterator } from './releasing-iterator.js';

/**
 * V8 keeps a Uint8Array of at most this many bytes inside its own heap, with
 * no ArrayBuffer of its own until something asks for one (typed_array_max_size_in_heap).
 */
const ON_HEAP_BYTES_MAX = 64;

/** Entries fetched from LevelDB per native call while iterating: fewer crossings, bounded memory. */
const ITERATOR_BATCH_ENTRIES = 256;

type Database = ClassicLevel<Uint8Array, Uint8Array>;

export class LevelKvEngine implements KvEngine {
  private readonly smallKeys = new OffHeapStaging();
  private readonly smallValues = new OffHeapStaging();

  private constructor(
    private readonly db: Database,
    /** The directory LevelDB keeps its files in. */
    readonly directory: string,
  ) {}

  /** Opens (creating if missing) the LevelDB store in `directory`. */
  static async open(directory: string): Promise<LevelKvEngine> {
    const db: Database = new ClassicLevel<Uint8Array, Uint8Array>(directory, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    try {
      await db.open();
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      // Opening writes too (LevelDB replays its log into a new table): a full disk stops the start as it stops a write.
      const diskFault = levelWriteError(directory, cause);
      if (diskFault instanceof DiskWriteError) throw diskFault;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new Error(
        `could not open the kv store in ${directory}: ${reason}; ` +
          'if another raftkv process uses this directory, stop it first, or give this node its own --dir',
        { cause: error },
      );
    }
    return new LevelKvEngine(db, directory);
  }

  get(key: Uint8Array): Uint8Array | null {
    const value = this.db.getSync(this.smallKeys.stage(key));
    return value === undefined ? null : plainBytes(value);
  }

  async write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
    if (batch.length === 0 && !options.sync) return;
    // LevelDB appends a batch to its log as one record with a checksum: a torn
    // record is dropped whole on recovery, which makes the batch atomic.
    // A chained batch, not db.batch(array): the array form clones, validates
    // and re-encodes every operation in JS and reads its fields back one
    // property at a time in C++; measured on this machine, 13.4 µs of CPU per
    // operation against 3.3 µs chained (192 puts of 256 bytes per batch).
    const chained = this.db.batch();
    try {
      for (const write of batch) {
        const key = this.smallKeys.stage(write.key);
        if (write.type === 'put') chained.put(key, this.smallValues.stage(write.value));
        else chained.del(key);
      }
    } catch (error) {
      await chained.close();
      throw error;
    }
    try {
      await chained.write({ sync: options.sync });
    } catch (error) {
      throw levelWriteError(this.directory, error);
    }
  }

  entries(range: KeyRange = {}): AsyncIterableIterator<EngineEntry> {
    // Created here, not inside the generator: LevelDB takes the iterator's
    // snapshot when the iterator is made, and a generator's body only starts
    // at the first next(), by which time more writes may have landed.
    const iterator = this.db.iterator(levelRange(range));
    return releasingIterator(drain(iterator), () => iterator.close());
  }

  async clear(range: KeyRange = {}): Promise<void> {
    await this.db.clear(levelRange(range));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Hands classic-level a small Uint8Array as a view of memory outside V8's
 * heap, for a batch's puts and deletes and for getSync. Most keys, dedup
 * entries and the applied position are small enough for V8 to keep inside
 * its heap, and the binding asks each one for its bytes
 * (napi_get_typedarray_info), which makes V8 move it out: a malloc, a copy
 * and a backing store that the GC must sweep and free later, for bytes the
 * binding copies at once and never looks at again. Measured on this machine
 * with batches shaped like the state machine's (25 data puts of 20-byte keys
 * and 280-byte values, 25 dedup puts, the applied position), three
 * alternated pairs: 220-233 µs of CPU per batch, 191-205 µs staged; and a
 * getSync of a 12-byte key: 2.8-3.0 µs, 2.15 µs staged.
 *
 * One buffer per argument serves every call: batch.put, batch.del and
 * getSync copy the bytes before they return. Its views are made once per
 * length, so staging allocates nothing.
 */
class OffHeapStaging {
  private readonly buffer = new Uint8Array(new ArrayBuffer(ON_HEAP_BYTES_MAX));
  private readonly views: Uint8Array[] = [];

  stage(bytes: Uint8Array): Uint8Array {
    const length = bytes.byteLength;
    if (length > ON_HEAP_BYTES_MAX) return bytes;
    let view = this.views[length];
    if (view === undefined) {
      view = this.buffer.subarray(0, length);
      this.views[length] = view;
    }
    view.set(bytes);
    return view;
  }
}

/**
 * LevelDB reports a failed write or fsync as LEVEL_IO_ERROR with the errno's
 * text ("IO error: DIR/000005.log: No space left on device"); made a
 * DiskWriteError, it stops the node as a failed write of the Raft log does.
 * After one, LevelDB refuses every later write itself (its background error
 * is sticky), and reopening replays its own log, dropping a torn last batch.
 */
function levelWriteError(directory: string, error: unknown): unknown {
  const levelCode = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (levelCode !== 'LEVEL_IO_ERROR' || !(error instanceof Error)) return error;
  const errno = LEVEL_ERRNO_TEXTS.find(([text]) => error.message.includes(text))?.[1] ?? null;
  return new DiskWriteError('write', directory, errno, error);
}

/** strerror() texts LevelDB puts in its messages, and their errno names. */
const LEVEL_ERRNO_TEXTS: readonly (readonly [string, string])[] = [
  ['No space left on device', 'ENOSPC'],
  ['Disk quota exceeded', 'EDQUOT'],
  ['Read-only file system', 'EROFS'],
  ['Input/output error', 'EIO'],
];

async function* drain(
  iterator: LevelIterator<Database, Uint8Array, Uint8Array>,
): AsyncGenerator<EngineEntry, void, undefined> {
  try {
    for (;;) {
      const batch = await iterator.nextv(ITERATOR_BATCH_ENTRIES);
      if (batch.length === 0) return;
      for (const [key, value] of batch) yield { key: plainBytes(key), value: plainBytes(value) };
    }
  } finally {
    await iterator.close();
  }
}

/** Passes only the bounds that are set, never one that is present but undefined. */
function levelRange(range: KeyRange): { gte?: Uint8Array; lt?: Uint8Array } {
  const bounds: { gte?: Uint8Array; lt?: Uint8Array } = {};
  if (range.gte !== undefined) bounds.gte = range.gte;
  if (range.lt !== undefined) bounds.lt = range.lt;
  return bounds;
}

/**
 * classic-level hands out Buffers; callers get plain Uint8Arrays, the type
 * the memory engine returns, so that the two compare equal in tests and no
 * caller comes to rely on Buffer methods. A view, not a copy.
 */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
