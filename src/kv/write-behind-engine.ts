/**
 * A KvEngine in front of another that holds unsynced writes in memory and
 * hands them down together, one batch per interval (100 ms by default), as
 * etcd's backend commits its batch transaction every 100 ms.
 *
 * Why: the state machines write one engine batch per Ready (a few dozen
 * commands under load), and each batch costs the engine below a fixed price
 * (a thread-pool hand-over, a LevelDB log record and its write), and carries
 * the applied position and one dedup entry per client again every time. Held
 * for an interval, a client's dedup entry and the applied position are
 * written once, and the fixed price is paid ten times a second.
 * Measured with `npm run bench:compare -- --systems raftkv --workload
 * put,resp-set`, two alternated pairs: 127 and 128 µs of CPU per put across
 * the group against 137 and 136, 133 and 134 per SET against 144 and 149
 * (docs/performance.md, section 12).
 *
 * Why it is safe: the state machines never count on an unsynced write
 * surviving a power cut (kv/state-machine.ts): an engine that comes back at an
 * earlier applied position is replayed from the Raft log. Held here, a write
 * is lost to a process crash too, which takes the same path. What must hold
 * is that the engine below is always at a whole batch's end, never inside
 * one: every flush is one batch below, holding whole batches from here, in
 * order. A synced write flushes everything before it and is synced itself,
 * so "a synced write also makes every earlier write durable" still holds.
 *
 * Reads see the held writes first; entries() merges them over the engine
 * below, as of the moment of the call.
 */
import { ByteSlab } from '../storage/byte-slab.js';
import type { EngineEntry, EngineWrite, EngineWriteOptions, KeyRange, KvEngine } from './engine.js';
import { compareKeys, inRange, mapKeyOf } from './engine.js';
import { releasingIterator } from './releasing-iterator.js';

export const WRITE_BEHIND_INTERVAL_MS_DEFAULT = 100;
/** Held writes (distinct keys) past which a flush starts at once, and the caller waits for it: bounded memory. */
export const WRITE_BEHIND_KEYS_MAX_DEFAULT = 10_000;
/**
 * A batch of at least this many bytes of keys and values goes down as it is,
 * after what is held: a snapshot restore's batches (a megabyte each) gain
 * nothing from being held, copying each pair into the held map would slow the
 * restore, and its crash points stay where the restore puts them.
 */
export const WRITE_BEHIND_DIRECT_BATCH_BYTES_MIN_DEFAULT = 256 * 1024;

export interface WriteBehindOptions {
  readonly intervalMs?: number;
  readonly keysMax?: number;
  readonly directBatchBytesMin?: number;
}

/** A held write: the key's bytes, and the value, or null for a delete. Both are copies. */
interface HeldWrite {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

/** Held writes by key (its bytes as a latin1 string, one character per byte); the newest write of a key wins. */
type Layer = Map<string, HeldWrite>;

export class WriteBehindEngine implements KvEngine {
  /** Writes taken since the last flush started. */
  private open: Layer = new Map();
  /** Layers handed to a flush, oldest first; each leaves the list once the engine below holds it. */
  private readonly flushing: Layer[] = [];
  /** The chain every operation on the engine below runs on, one at a time, in the order asked. */
  private below: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** A flush that failed: what the engine below holds is unknown, so every later call fails with it. */
  private failure: { readonly error: unknown } | null = null;
  /** The first failure of a flush no caller waited for, once told to the owner. */
  private backgroundFailure: { readonly error: unknown } | null = null;
  private backgroundFailureHandler: (error: unknown) => void = () => undefined;
  private readonly slab = new ByteSlab();
  private readonly options: Required<WriteBehindOptions>;

  constructor(
    private readonly engine: KvEngine,
    options: WriteBehindOptions = {},
  ) {
    this.options = {
      intervalMs: options.intervalMs ?? WRITE_BEHIND_INTERVAL_MS_DEFAULT,
      keysMax: options.keysMax ?? WRITE_BEHIND_KEYS_MAX_DEFAULT,
      directBatchBytesMin: options.directBatchBytesMin ?? WRITE_BEHIND_DIRECT_BATCH_BYTES_MIN_DEFAULT,
    };
  }

  /**
   * Told, once, when a flush that no caller waits for fails (the interval's,
   * or the one entries() starts): the owner stops its node then, rather than
   * at the next write, which an idle node may not make for a long time. A
   * handler set after such a failure is told at once.
   */
  set onBackgroundFailure(handler: (error: unknown) => void) {
    this.backgroundFailureHandler = handler;
    if (this.backgroundFailure !== null) handler(this.backgroundFailure.error);
  }

  get(key: Uint8Array): Uint8Array | null {
    if (this.open.size > 0 || this.flushing.length > 0) {
      const held = this.held(mapKeyOf(key));
      if (held !== undefined) return held.value === null ? null : new Uint8Array(held.value);
    }
    return this.engine.get(key);
  }

  async write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
    this.throwIfFailed();
    if (batchBytes(batch) >= this.options.directBatchBytesMin) {
      const upTo = this.closeOpenLayer();
      return this.onBelow(async () => {
        await this.writeFlushing(upTo, { sync: false });
        await this.engine.write(batch, options);
      });
    }
    // Copied, as the engines below copy: the caller may reuse its arrays.
    for (const write of batch) {
      const key = this.slab.copyBytes(write.key);
      this.open.set(mapKeyOf(key), { key, value: write.type === 'put' ? this.slab.copyBytes(write.value) : null });
    }
    if (options.sync) return this.flush({ sync: true });
    // Counted over every layer: while the engine below is slow, the timer keeps closing layers.
    if (this.heldKeys() >= this.options.keysMax) return this.flush({ sync: false });
    this.flushLater();
  }

  /**
   * Hands everything held to the engine below; resolves once it holds it
   * (durably, with `sync`). A write returns before this, so a caller that
   * needs the engine below to have a write (a test, a shutdown) calls it.
   */
  flush(options: EngineWriteOptions = { sync: false }): Promise<void> {
    return this.flushHeld(options, () => undefined);
  }

  entries(range: KeyRange = {}): AsyncIterableIterator<EngineEntry> {
    this.throwIfFailed();
    // The engine below takes its view now; the held writes are copied now, and laid over it.
    const below = this.engine.entries(range);
    if (this.open.size === 0 && this.flushing.length === 0) return below;
    const held = this.heldIn(range);
    // A snapshot reads through here before the log is compacted up to it: once the engine below
    // holds the same state, a crash in between restarts from the engine, not from the snapshot.
    this.flushInBackground();
    return releasingIterator(mergeHeld(below, held), async () => {
      await below.return?.();
    });
  }

  async clear(range: KeyRange = {}): Promise<void> {
    this.throwIfFailed();
    // What was written before the clear goes down first, so that the clear removes it.
    const upTo = this.closeOpenLayer();
    await this.onBelow(async () => {
      await this.writeFlushing(upTo, { sync: false });
      await this.engine.clear(range);
    });
  }

  /**
   * Flushes, then closes the engine below. After a failed write below it
   * only closes, and then rejects with that failure: what was held is lost, as
   * in a crash, and the Raft log has it, but a shutdown must not look clean
   * over a disk that failed (a background flush that fails while the node
   * stops has no node left to stop).
   */
  async close(): Promise<void> {
    try {
      if (this.failure === null) await this.flush();
    } finally {
      await this.engine.close();
    }
    if (this.failure !== null) throw this.failure.error;
  }

  private flushLater(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushInBackground();
    }, this.options.intervalMs);
    // Held writes are not a reason to keep the process alive: close() flushes them.
    this.timer.unref();
  }

  /**
   * Hands everything held so far to the engine below, after the operations
   * asked for before it; `onOwnFailure` is called when this flush's own write
   * fails (not when it is refused because an earlier one failed).
   */
  private flushHeld(options: EngineWriteOptions, onOwnFailure: () => void): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const upTo = this.closeOpenLayer();
    return this.onBelow(() =>
      this.writeFlushing(upTo, options).catch((error: unknown) => {
        onOwnFailure();
        throw error;
      }),
    );
  }

  /** A flush no caller waits for: its failure is kept for the next caller (throwIfFailed) and told to the owner. */
  private flushInBackground(): void {
    let ownWriteFailed = false;
    this.flushHeld({ sync: false }, () => {
      ownWriteFailed = true;
    }).catch((error: unknown) => {
      // Refused after an earlier write failed: that write's caller reports it, and the owner hears of it from there.
      if (!ownWriteFailed || this.backgroundFailure !== null) return;
      this.backgroundFailure = { error };
      this.backgroundFailureHandler(error);
    });
  }

  /**
   * Hands the open layer to a flush; returns the newest layer handed over so
   * far, which bounds what the operation asked for now may write below: layers
   * closed after this call hold later writes, which must go down after it.
   */
  private closeOpenLayer(): Layer | undefined {
    if (this.open.size > 0) {
      this.flushing.push(this.open);
      this.open = new Map();
    }
    return this.flushing.at(-1);
  }

  /** Writes the layers up to `upTo` (those not written yet) as one batch below, then forgets them. */
  private async writeFlushing(upTo: Layer | undefined, options: EngineWriteOptions): Promise<void> {
    const layers = upTo === undefined ? 0 : this.flushing.indexOf(upTo) + 1;
    if (layers === 0 && !options.sync) return;
    const writes: EngineWrite[] = [];
    for (let at = 0; at < layers; at++) {
      for (const { key, value } of this.flushing[at]!.values()) {
        writes.push(value === null ? { type: 'delete', key } : { type: 'put', key, value });
      }
    }
    await this.engine.write(writes, options);
    this.flushing.splice(0, layers);
  }

  /** Runs `operation` on the engine below after every one asked for before it; a failure sticks. */
  private onBelow(operation: () => Promise<void>): Promise<void> {
    const run = this.below.then(() => {
      this.throwIfFailed();
      return operation().catch((error: unknown) => {
        this.failure ??= { error };
        throw error;
      });
    });
    this.below = run.catch(() => undefined);
    return run;
  }

  private heldKeys(): number {
    let keys = this.open.size;
    for (const layer of this.flushing) keys += layer.size;
    return keys;
  }

  /** The newest held write of `key`, if any. */
  private held(key: string): HeldWrite | undefined {
    const open = this.open.get(key);
    if (open !== undefined) return open;
    for (let at = this.flushing.length - 1; at >= 0; at--) {
      const held = this.flushing[at]!.get(key);
      if (held !== undefined) return held;
    }
    return undefined;
  }

  /** The newest held write of each key in `range`, in key order. */
  private heldIn(range: KeyRange): HeldWrite[] {
    const newest: Layer = new Map();
    for (const layer of [...this.flushing, this.open]) {
      for (const [key, held] of layer) if (inRange(held.key, range)) newest.set(key, held);
    }
    return [...newest.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure.error;
  }
}

/**
 * The entries of `below` with `held` laid over them: a held put replaces or adds, a held delete
 * hides. Leaving the loop early closes `below` (for await does); releasingIterator covers a
 * return() before the first step.
 */
async function* mergeHeld(
  below: AsyncIterableIterator<EngineEntry>,
  held: readonly HeldWrite[],
): AsyncGenerator<EngineEntry, void, undefined> {
  let next = 0;
  /** The held puts with keys before `key` (all that are left without one); a held delete yields nothing. */
  function* heldBefore(key?: Uint8Array): Generator<EngineEntry, void, undefined> {
    for (; next < held.length && (key === undefined || compareKeys(held[next]!.key, key) < 0); next++) {
      const entry = heldEntry(held[next]!);
      if (entry !== null) yield entry;
    }
  }
  for await (const entry of below) {
    yield* heldBefore(entry.key);
    const replaced = next < held.length && compareKeys(held[next]!.key, entry.key) === 0;
    const shown = replaced ? heldEntry(held[next++]!) : entry;
    if (shown !== null) yield shown;
  }
  yield* heldBefore();
}

/** A held put as an entry of copies (the caller may change what it is handed), or null for a delete. */
function heldEntry(held: HeldWrite): EngineEntry | null {
  return held.value === null ? null : { key: new Uint8Array(held.key), value: new Uint8Array(held.value) };
}

function batchBytes(batch: readonly EngineWrite[]): number {
  let sizeBytes = 0;
  for (const write of batch) sizeBytes += write.key.byteLength + (write.type === 'put' ? write.value.byteLength : 0);
  return sizeBytes;
}
