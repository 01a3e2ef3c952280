/**
 * A shard snapshot is a stream of records, format version 1, framed as the
 * rest of raftkv frames records (storage/record.ts):
 *
 *   [u32 BE payload length][u32 BE CRC-32 of the payload][payload]
 *
 * Payloads, in stream order:
 *
 *   header (once, first):    [u8 1]["RKSH"][u8 format version = 1][u64 BE applied index][u64 BE applied term]
 *                            [u32 BE gid]
 *   config (once, second):   [u8 2][the current config as canonical JSON, UTF-8]
 *   bucket state (any):      [u8 3][u16 BE bucket][state, as keyspace.ts stores it]
 *   dedup (any):             [u8 4][u8 client id length][client id, UTF-8][dedup entry, as kv/keyspace.ts stores it]
 *   pair (any):              [u8 5][u16 BE bucket][u32 BE key length][user key][value]
 *   end (once, last):        [u8 6][u64 BE state count][u64 BE dedup count][u64 BE pair count]
 *
 * Each record carries its own checksum, so damage is found where it is; the
 * end record's counts find a stream cut short at a record boundary. The
 * header names the group, so that a snapshot cannot be installed into a
 * member of another group. Chunks are plain slices of the stream.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import { CLIENT_ID_BYTES_MAX, KEY_BYTES_MAX } from '../kv/commands.js';
import { STORED_VALUE_BYTES_MAX } from '../kv/stored-value.js';
import type { DedupEntry } from '../kv/keyspace.js';
import { decodeDedupEntry, encodeDedupEntry } from '../kv/keyspace.js';
import { KvDecodeError } from '../kv/errors.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import type { LogIndex, Term } from '../raft/types.js';
import { RECORD_HEADER_BYTES, sealRecord } from '../storage/record.js';
import type { BucketState } from './bucket-state.js';
import { CONFIG_JSON_BYTES_MAX, decodeConfigJson, encodeConfigJson } from './config-json.js';
import { ShardDecodeError } from './errors.js';
import { decodeBucketState, encodeBucketState } from './keyspace.js';

const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('RKSH', 'ascii');
const RECORD_TYPES = { header: 1, config: 2, bucketState: 3, dedup: 4, pair: 5, end: 6 } as const;
/** Pairs hold stored values: a value and its expiry (kv/stored-value.ts). */
const PAIR_PAYLOAD_BYTES_MAX = 1 + 2 + 4 + KEY_BYTES_MAX + STORED_VALUE_BYTES_MAX;
/** The largest payload a valid snapshot holds (the largest config); a larger length is damage. */
export const SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX = Math.max(PAIR_PAYLOAD_BYTES_MAX, 1 + CONFIG_JSON_BYTES_MAX);

export type SnapshotRecord =
  | { readonly type: 'header'; readonly appliedIndex: LogIndex; readonly appliedTerm: Term; readonly gid: GroupId }
  | { readonly type: 'config'; readonly config: ShardConfig }
  | { readonly type: 'bucketState'; readonly bucket: BucketId; readonly state: BucketState }
  | { readonly type: 'dedup'; readonly clientId: string; readonly entry: DedupEntry }
  | { readonly type: 'pair'; readonly bucket: BucketId; readonly key: Uint8Array; readonly value: Uint8Array }
  | {
      readonly type: 'end';
      readonly stateCount: number;
      readonly dedupCount: number;
      readonly pairCount: number;
    };

export type SnapshotRecordType = SnapshotRecord['type'];

/** The whole framed record. */
export function encodeSnapshotRecord(record: SnapshotRecord): Buffer {
  switch (record.type) {
    case 'header':
      return framed(1 + MAGIC.byteLength + 1 + 8 + 8 + 4, (writer) =>
        writer
          .u8(RECORD_TYPES.header)
          .bytes(MAGIC)
          .u8(FORMAT_VERSION)
          .u64(record.appliedIndex)
          .u64(record.appliedTerm)
          .u32(record.gid),
      );
    case 'config': {
      const json = encodeConfigJson(record.config);
      return framed(1 + json.byteLength, (writer) => writer.u8(RECORD_TYPES.config).bytes(json));
    }
    case 'bucketState': {
      const state = encodeBucketState(record.state);
      return framed(1 + 2 + state.byteLength, (writer) =>
        writer.u8(RECORD_TYPES.bucketState).u16(record.bucket).bytes(state),
      );
    }
    case 'dedup': {
      const clientId = Buffer.from(record.clientId, 'utf8');
      const entry = encodeDedupEntry(record.entry);
      return framed(1 + 1 + clientId.byteLength + entry.byteLength, (writer) =>
        writer.u8(RECORD_TYPES.dedup).u8(clientId.byteLength).bytes(clientId).bytes(entry),
      );
    }
    case 'pair': {
      const payloadBytes = 1 + 2 + 4 + record.key.byteLength + record.value.byteLength;
      if (payloadBytes > PAIR_PAYLOAD_BYTES_MAX) {
        // The state machine never stores such a pair; writing it would make a snapshot no reader accepts.
        throw new Error(`shard snapshot: a pair of ${payloadBytes} bytes is over the record limit`);
      }
      return framed(payloadBytes, (writer) =>
        writer
          .u8(RECORD_TYPES.pair)
          .u16(record.bucket)
          .u32(record.key.byteLength)
          .bytes(record.key)
          .bytes(record.value),
      );
    }
    case 'end':
      return framed(1 + 8 + 8 + 8, (writer) =>
        writer.u8(RECORD_TYPES.end).u64(record.stateCount).u64(record.dedupCount).u64(record.pairCount),
      );
  }
}

function framed(payloadBytes: number, fill: (writer: ByteWriter) => ByteWriter): Buffer {
  const writer = new ByteWriter(RECORD_HEADER_BYTES + payloadBytes);
  writer.u32(0).u32(0); // sealRecord fills in the length and checksum
  return sealRecord(fill(writer).finish());
}

/** The record a checksummed payload holds; throws ShardDecodeError when it holds none. */
export function decodeSnapshotRecord(payload: Uint8Array): SnapshotRecord {
  const reader = new ByteReader(payload, 'snapshot record', ShardDecodeError);
  const type = reader.u8('record type');
  let record: SnapshotRecord;
  switch (type) {
    case RECORD_TYPES.header: {
      if (!MAGIC.equals(reader.bytes(MAGIC.byteLength, 'magic'))) {
        reader.fail('the header does not start with "RKSH": this is not a shard snapshot');
      }
      const version = reader.u8('format version');
      if (version !== FORMAT_VERSION) {
        reader.fail(`snapshot format version ${version} is unknown to this raftkv (it reads ${FORMAT_VERSION})`);
      }
      const appliedIndex = reader.u64('applied index');
      const appliedTerm = reader.u64('applied term');
      record = { type: 'header', appliedIndex, appliedTerm, gid: reader.u32('gid') };
      break;
    }
    case RECORD_TYPES.config:
      return { type: 'config', config: decodeConfigJson(reader.rest('config'), 'snapshot config') };
    case RECORD_TYPES.bucketState: {
      const bucket = reader.u16('bucket');
      return { type: 'bucketState', bucket, state: decodeBucketState(reader.rest('bucket state')) };
    }
    case RECORD_TYPES.dedup: {
      const clientIdBytes = reader.u8('client id length');
      if (clientIdBytes === 0 || clientIdBytes > CLIENT_ID_BYTES_MAX) {
        reader.fail(`the client id length ${clientIdBytes} is outside 1..${CLIENT_ID_BYTES_MAX}`);
      }
      const clientId = reader.utf8(clientIdBytes, 'client id');
      return { type: 'dedup', clientId, entry: decodeStoredDedup(reader) };
    }
    case RECORD_TYPES.pair: {
      const bucket = reader.u16('bucket');
      const keyBytes = reader.u32('key length');
      if (keyBytes > KEY_BYTES_MAX) reader.fail(`a key of ${keyBytes} bytes is over the limit of ${KEY_BYTES_MAX}`);
      const key = reader.bytes(keyBytes, 'key');
      if (reader.remainingBytes > STORED_VALUE_BYTES_MAX) {
        reader.fail(`a value of ${reader.remainingBytes} bytes is over the limit of ${STORED_VALUE_BYTES_MAX}`);
      }
      return { type: 'pair', bucket, key, value: reader.rest('value') };
    }
    case RECORD_TYPES.end: {
      const stateCount = reader.u64('state count');
      const dedupCount = reader.u64('dedup count');
      record = { type: 'end', stateCount, dedupCount, pairCount: reader.u64('pair count') };
      break;
    }
    default:
      return reader.fail(`snapshot record type ${type} is unknown`);
  }
  reader.expectEnd();
  return record;
}

function decodeStoredDedup(reader: ByteReader): DedupEntry {
  try {
    return decodeDedupEntry(reader.rest('dedup entry'));
  } catch (error) {
    if (error instanceof KvDecodeError) return reader.fail(`the dedup entry: ${error.problem}`);
    throw error;
  }
}
