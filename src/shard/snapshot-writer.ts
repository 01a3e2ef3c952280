/**
 * Streams a shard snapshot out of an engine as chunks of at most
 * chunkBytesMax, in the format of snapshot-format.ts. Memory stays at one
 * chunk plus one record (and the set of held buckets) however large the
 * state: the snapshot is never one buffer.
 */
import type { EngineEntry, KvEngine } from '../kv/engine.js';
import { decodeAppliedPosition, decodeDedupEntry } from '../kv/keyspace.js';
import type { BucketId, GroupId } from '../meta/config.js';
import { emptyConfig } from '../meta/config.js';
import { bucketOfKey, clientIdOf, decodeBucketState, decodeStoredConfig, keyKind, userKeyOf } from './keyspace.js';
import type { SnapshotRecord } from './snapshot-format.js';
import { packRecords } from '../storage/record-stream.js';
import { encodeSnapshotRecord } from './snapshot-format.js';

/** Chunk size when the caller names none: small enough to send in one Raft message. */
export const SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT = 64 * 1024;

/**
 * The engine's state as of this call, as chunks. The engine's iterator is
 * made now, not at the first next(), so that applies after this call are not
 * in the snapshot and the header's applied index matches the data exactly.
 */
export function snapshotChunks(
  engine: KvEngine,
  gid: GroupId,
  chunkBytesMax: number = SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT,
): AsyncIterableIterator<Uint8Array> {
  if (!Number.isSafeInteger(chunkBytesMax) || chunkBytesMax < 1) {
    throw new Error(`snapshot chunkBytesMax must be a positive integer, got ${chunkBytesMax}`);
  }
  return packChunks(snapshotRecords(engine.entries(), gid), chunkBytesMax);
}

async function* snapshotRecords(entries: AsyncIterable<EngineEntry>, gid: GroupId): AsyncGenerator<SnapshotRecord> {
  // The applied position, layout and config sort before everything else: collected, then written as the header.
  let position = { index: 0, term: 0 };
  let config = emptyConfig(null);
  let headerWritten = false;
  const held = new Set<BucketId>();
  let dedupCount = 0;
  let pairCount = 0;
  for await (const { key, value } of entries) {
    const kind = keyKind(key);
    if (!headerWritten) {
      if (kind === 'appliedPosition') position = decodeAppliedPosition(value);
      else if (kind === 'config') config = decodeStoredConfig(value);
      if (kind === 'appliedPosition' || kind === 'layout' || kind === 'config') continue;
      headerWritten = true;
      yield { type: 'header', appliedIndex: position.index, appliedTerm: position.term, gid };
      yield { type: 'config', config };
    }
    switch (kind) {
      case 'bucketState': {
        const bucket = bucketOfKey(key);
        held.add(bucket);
        yield { type: 'bucketState', bucket, state: decodeBucketState(value) };
        break;
      }
      case 'dedup':
        dedupCount++;
        yield { type: 'dedup', clientId: clientIdOf(key), entry: decodeDedupEntry(value) };
        break;
      case 'data': {
        const bucket = bucketOfKey(key);
        // What is left of a deleted bucket while its clear runs is no part of the state.
        if (!held.has(bucket)) break;
        pairCount++;
        yield { type: 'pair', bucket, key: userKeyOf(key), value };
        break;
      }
      case 'clearPending':
        break;
      case 'appliedPosition':
      case 'layout':
      case 'config':
      case 'restoreMarker':
      case 'unknown':
        throw new Error(
          `shard snapshot: the engine holds a ${kind} key (0x${Buffer.from(key).toString('hex')}) where none can be; ` +
            'the store is damaged or was written by something else',
        );
    }
  }
  if (!headerWritten) {
    yield { type: 'header', appliedIndex: position.index, appliedTerm: position.term, gid };
    yield { type: 'config', config };
  }
  yield { type: 'end', stateCount: held.size, dedupCount, pairCount };
}

/** The records, encoded, packed into chunks of exactly chunkBytesMax bytes (the last one shorter). */
async function* packChunks(
  records: AsyncIterable<SnapshotRecord>,
  chunkBytesMax: number,
): AsyncIterableIterator<Uint8Array> {
  yield* packRecords(encodeAll(records), chunkBytesMax);
}

async function* encodeAll(records: AsyncIterable<SnapshotRecord>): AsyncGenerator<Uint8Array> {
  for await (const record of records) yield encodeSnapshotRecord(record);
}
