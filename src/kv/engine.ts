/**
 * The ordered key/value store the KV state machine writes through. Two
 * implementations pass one compliance suite (test/unit/kv/engine-suite.ts):
 * MemoryKvEngine for simulation and LevelKvEngine on disk.
 *
 * Keys and values are bytes, ordered bytewise (unsigned, a shorter prefix
 * first). The engine knows nothing of the state machine's key layout.
 */

export type EngineWrite =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: Uint8Array };

export interface EngineEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** A half-open key range; a missing bound is open. */
export interface KeyRange {
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
}

export interface EngineWriteOptions {
  /**
   * Whether the write is durable (fsynced) when the promise resolves. An
   * unsynced write survives a process crash but may be lost to a power loss;
   * a synced write also makes every earlier write durable.
   */
  readonly sync: boolean;
}

export interface KvEngine {
  /**
   * The value under `key`, or null. Synchronous on purpose: both engines read
   * in-process, and a promise per read cost ~12x in a measurement (see
   * level-engine.ts), on the state machine's apply path.
   */
  get(key: Uint8Array): Uint8Array | null;
  /** Applies `batch` in order, all of it or none of it, even across a crash. */
  write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void>;
  /**
   * The entries in `range`, in key order, as of the moment of this call:
   * writes made afterwards, even before the first next(), are not seen. This
   * is what lets a snapshot stream out while the state machine keeps applying.
   * Consume it to the end or call return() on it, to release the view.
   */
  entries(range?: KeyRange): AsyncIterableIterator<EngineEntry>;
  /** Deletes the entries in `range` (all of them without one). Not atomic: a crash may leave part. */
  clear(range?: KeyRange): Promise<void>;
  /** Releases the engine; its durable state is there for the next open. */
  close(): Promise<void>;
}

/** Bytewise comparison, the order every engine keeps. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * A Map key for engine key bytes: latin1 maps each byte to one character, so
 * distinct bytes stay distinct (for writes staged or held in memory).
 */
export function mapKeyOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

export function inRange(key: Uint8Array, range: KeyRange): boolean {
  if (range.gte !== undefined && compareKeys(key, range.gte) < 0) return false;
  if (range.lt !== undefined && compareKeys(key, range.lt) >= 0) return false;
  return true;
}
