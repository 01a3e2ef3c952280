/**
 * Streams a KV snapshot out of an engine as chunks of at most chunkBytesMax,
 * in the format of snapshot-format.ts. Memory stays at one chunk plus one
 * record however large the state: the snapshot is never one buffer.
 */
import type { EngineEntry, KvEngine } from './engine.js';
import { clientIdOf, decodeAppliedPosition, decodeDedupEntry, keyKind, userKeyOf } from './keyspace.js';
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
  chunkBytesMax: number = SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT,
): AsyncIterableIterator<Uint8Array> {
  if (!Number.isSafeInteger(chunkBytesMax) || chunkBytesMax < 1) {
    throw new Error(`snapshot chunkBytesMax must be a positive integer, got ${chunkBytesMax}`);
  }
  return packChunks(snapshotRecords(engine.entries()), chunkBytesMax);
}

async function* snapshotRecords(entries: AsyncIterable<EngineEntry>): AsyncGenerator<SnapshotRecord> {
  let headerWritten = false;
  let dedupCount = 0;
  let pairCount = 0;
  for await (const { key, value } of entries) {
    const kind = keyKind(key);
    if (!headerWritten) {
      headerWritten = true;
      // The applied position sorts before all other state, so it is here first if there is one.
      const position = kind === 'appliedPosition' ? decodeAppliedPosition(value) : { index: 0, term: 0 };
      yield header(position.index, position.term);
      if (kind === 'appliedPosition') continue;
    }
    switch (kind) {
      case 'dedup':
        dedupCount++;
        yield { type: 'dedup', clientId: clientIdOf(key), entry: decodeDedupEntry(value) };
        break;
      case 'data':
        pairCount++;
        yield { type: 'pair', key: userKeyOf(key), value };
        break;
      case 'appliedPosition':
      case 'restoreMarker':
      case 'unknown':
        throw new Error(
          `snapshot: the engine holds a ${kind} key (0x${Buffer.from(key).toString('hex')}) where none can be; ` +
            'the kv store is damaged or was written by something else',
        );
    }
  }
  if (!headerWritten) yield header(0, 0);
  yield { type: 'end', dedupCount, pairCount };
}

function header(appliedIndex: number, appliedTerm: number): SnapshotRecord {
  return { type: 'header', appliedIndex, appliedTerm };
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
