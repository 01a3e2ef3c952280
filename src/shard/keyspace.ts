/**
 * How the shard state machine lays out its state in the engine's one key
 * space, format version 1. User keys live under their own prefix byte, so
 * that no user key, whatever its bytes, can land on the bookkeeping; and
 * under their bucket, so that a bucket is one contiguous range, which
 * exportBucket reads and deleteBucket clears without looking at other buckets:
 *
 *   0x00 0x00               restore in progress (present only while a restore runs)
 *   0x00 0x01               applied position: [u8 version = 1][u64 BE index][u64 BE term] (as kv/keyspace.ts)
 *   0x00 0x02               layout: ["RKSHARD"][u8 layout version = 1][u32 BE gid]
 *   0x00 0x03               current config: [u8 version = 1][canonical JSON, UTF-8] (absent: version 0)
 *   0x00 0x04 [u16 BE b]    state of bucket b: [u8 version = 1][u8 state][fields] (absent: not ours)
 *                             1 serving
 *                             2 pulling     [u32 BE from gid][u64 BE pairs received]
 *                             3 handingOff  [u32 BE to gid]
 *   0x00 0x05 [u16 BE b]    bucket b's data is being cleared (a deleteBucket was applied); empty value
 *   0x00 0x06 client id     dedup entry: as kv/keyspace.ts stores it
 *   0x01 [u16 BE b] key     the value of user key `key`, which is in bucket b, as is
 *
 * The bookkeeping sorts before the data, and within it the applied position,
 * layout and config before the bucket states and those before the dedup
 * entries: one pass over the engine in key order meets everything a snapshot
 * header and a bucket's pairs depend on before it needs it.
 *
 * The layout key names the group, so that a data directory opened by another
 * group's member (or by a plain KV group, whose keys look alike) is refused
 * instead of being misread.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import type { KeyRange } from '../kv/engine.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import type { BucketState } from './bucket-state.js';
import { SERVING } from './bucket-state.js';
import { decodeConfigJson, encodeConfigJson } from './config-json.js';
import { ShardDecodeError } from './errors.js';

const SYSTEM_PREFIX = 0x00;
const DATA_PREFIX = 0x01;
const TAGS = {
  restoreMarker: 0x00,
  appliedPosition: 0x01,
  layout: 0x02,
  config: 0x03,
  bucketState: 0x04,
  clearPending: 0x05,
  dedup: 0x06,
} as const;
const FORMAT_VERSION = 1;
const LAYOUT_MAGIC = Buffer.from('RKSHARD', 'ascii');
const LAYOUT_VERSION = 1;
const STATE_CODES = { serving: 1, pulling: 2, handingOff: 3 } as const;
/** Buckets are u16 in keys: far more than BUCKET_COUNT_MAX. */
const BUCKET_BYTES = 2;

export const RESTORE_MARKER_KEY = Uint8Array.of(SYSTEM_PREFIX, TAGS.restoreMarker);
export const APPLIED_POSITION_KEY = Uint8Array.of(SYSTEM_PREFIX, TAGS.appliedPosition);
export const LAYOUT_KEY = Uint8Array.of(SYSTEM_PREFIX, TAGS.layout);
export const CONFIG_KEY = Uint8Array.of(SYSTEM_PREFIX, TAGS.config);
/** Everything but the restore marker: what a restore clears while the marker says it is under way. */
export const AFTER_RESTORE_MARKER_RANGE: KeyRange = { gte: APPLIED_POSITION_KEY };
export const BUCKET_STATE_RANGE = tagRange(TAGS.bucketState);
export const CLEAR_PENDING_RANGE = tagRange(TAGS.clearPending);
export const DEDUP_RANGE = tagRange(TAGS.dedup);

export type KeyKind =
  | 'restoreMarker'
  | 'appliedPosition'
  | 'layout'
  | 'config'
  | 'bucketState'
  | 'clearPending'
  | 'dedup'
  | 'data'
  | 'unknown';

export function keyKind(key: Uint8Array): KeyKind {
  if (key[0] === DATA_PREFIX) return key.byteLength >= 1 + BUCKET_BYTES ? 'data' : 'unknown';
  if (key[0] !== SYSTEM_PREFIX || key.byteLength < 2) return 'unknown';
  const tag = key[1]!;
  switch (tag) {
    case TAGS.restoreMarker:
      return key.byteLength === 2 ? 'restoreMarker' : 'unknown';
    case TAGS.appliedPosition:
      return key.byteLength === 2 ? 'appliedPosition' : 'unknown';
    case TAGS.layout:
      return key.byteLength === 2 ? 'layout' : 'unknown';
    case TAGS.config:
      return key.byteLength === 2 ? 'config' : 'unknown';
    case TAGS.bucketState:
      return key.byteLength === 2 + BUCKET_BYTES ? 'bucketState' : 'unknown';
    case TAGS.clearPending:
      return key.byteLength === 2 + BUCKET_BYTES ? 'clearPending' : 'unknown';
    case TAGS.dedup:
      return key.byteLength > 2 ? 'dedup' : 'unknown';
    default:
      return 'unknown';
  }
}

export function dataKey(bucket: BucketId, userKey: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + BUCKET_BYTES + userKey.byteLength);
  key[0] = DATA_PREFIX;
  writeBucket(key, 1, bucket);
  key.set(userKey, 1 + BUCKET_BYTES);
  return key;
}

/** Every data key of `bucket`, and nothing else. */
export function bucketDataRange(bucket: BucketId): KeyRange {
  const gte = new Uint8Array(1 + BUCKET_BYTES);
  gte[0] = DATA_PREFIX;
  writeBucket(gte, 1, bucket);
  if (bucket === 0xffff) return { gte, lt: Uint8Array.of(DATA_PREFIX + 1) };
  const lt = new Uint8Array(1 + BUCKET_BYTES);
  lt[0] = DATA_PREFIX;
  writeBucket(lt, 1, bucket + 1);
  return { gte, lt };
}

export function bucketStateKey(bucket: BucketId): Uint8Array {
  return bucketTagKey(TAGS.bucketState, bucket);
}

export function clearPendingKey(bucket: BucketId): Uint8Array {
  return bucketTagKey(TAGS.clearPending, bucket);
}

export function dedupKey(clientId: string): Uint8Array {
  const id = Buffer.from(clientId, 'utf8');
  const key = new Uint8Array(2 + id.byteLength);
  key[0] = SYSTEM_PREFIX;
  key[1] = TAGS.dedup;
  key.set(id, 2);
  return key;
}

/** The bucket in a data, bucket state or clear-pending key. */
export function bucketOfKey(engineKey: Uint8Array): BucketId {
  const offset = engineKey[0] === DATA_PREFIX ? 1 : 2;
  return (engineKey[offset]! << 8) | engineKey[offset + 1]!;
}

/** The user key inside a data key. */
export function userKeyOf(engineKey: Uint8Array): Uint8Array {
  return engineKey.subarray(1 + BUCKET_BYTES);
}

/** The client id inside a dedup key. */
export function clientIdOf(engineKey: Uint8Array): string {
  const reader = new ByteReader(engineKey.subarray(2), 'dedup key', ShardDecodeError);
  return reader.utf8(reader.remainingBytes, 'client id');
}

export function encodeLayout(gid: GroupId): Uint8Array {
  return new ByteWriter(LAYOUT_MAGIC.byteLength + 1 + 4).bytes(LAYOUT_MAGIC).u8(LAYOUT_VERSION).u32(gid).finish();
}

/** The group a store was written for; ShardDecodeError when the bytes are not a layout this raftkv reads. */
export function decodeLayout(bytes: Uint8Array): { gid: GroupId } {
  const reader = new ByteReader(bytes, 'layout', ShardDecodeError);
  if (!LAYOUT_MAGIC.equals(reader.bytes(LAYOUT_MAGIC.byteLength, 'magic'))) {
    reader.fail('the layout does not start with "RKSHARD": this store was not written by a shard group');
  }
  const version = reader.u8('layout version');
  if (version !== LAYOUT_VERSION) {
    reader.fail(`layout version ${version} is unknown to this raftkv (it reads version ${LAYOUT_VERSION})`);
  }
  const gid = reader.u32('gid');
  reader.expectEnd();
  return { gid };
}

export function encodeStoredConfig(config: ShardConfig): Uint8Array {
  const json = encodeConfigJson(config);
  return new ByteWriter(1 + json.byteLength).u8(FORMAT_VERSION).bytes(json).finish();
}

export function decodeStoredConfig(bytes: Uint8Array): ShardConfig {
  const reader = new ByteReader(bytes, 'stored config', ShardDecodeError);
  readVersion(reader);
  return decodeConfigJson(reader.rest('config'), 'stored config');
}

export function encodeBucketState(state: BucketState): Uint8Array {
  switch (state.type) {
    case 'serving':
      return new ByteWriter(2).u8(FORMAT_VERSION).u8(STATE_CODES.serving).finish();
    case 'pulling':
      return new ByteWriter(2 + 4 + 8)
        .u8(FORMAT_VERSION)
        .u8(STATE_CODES.pulling)
        .u32(state.fromGid)
        .u64(state.pairsReceived)
        .finish();
    case 'handingOff':
      return new ByteWriter(2 + 4).u8(FORMAT_VERSION).u8(STATE_CODES.handingOff).u32(state.toGid).finish();
  }
}

export function decodeBucketState(bytes: Uint8Array): BucketState {
  const reader = new ByteReader(bytes, 'bucket state', ShardDecodeError);
  readVersion(reader);
  const code = reader.u8('state');
  let state: BucketState;
  switch (code) {
    case STATE_CODES.serving:
      state = SERVING;
      break;
    case STATE_CODES.pulling:
      state = { type: 'pulling', fromGid: readGid(reader, 'from gid'), pairsReceived: reader.u64('pairs received') };
      break;
    case STATE_CODES.handingOff:
      state = { type: 'handingOff', toGid: reader.u32('to gid') };
      break;
    default:
      return reader.fail(`bucket state ${code} is unknown`);
  }
  reader.expectEnd();
  return state;
}

function readGid(reader: ByteReader, field: string): GroupId {
  const gid = reader.u32(field);
  if (gid === 0) reader.fail(`the ${field} is 0, which is no group`);
  return gid;
}

function readVersion(reader: ByteReader): void {
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION) {
    reader.fail(`format version ${version} is unknown to this raftkv (it reads version ${FORMAT_VERSION})`);
  }
}

function tagRange(tag: number): KeyRange {
  return { gte: Uint8Array.of(SYSTEM_PREFIX, tag), lt: Uint8Array.of(SYSTEM_PREFIX, tag + 1) };
}

function bucketTagKey(tag: number, bucket: BucketId): Uint8Array {
  const key = new Uint8Array(2 + BUCKET_BYTES);
  key[0] = SYSTEM_PREFIX;
  key[1] = tag;
  writeBucket(key, 2, bucket);
  return key;
}

function writeBucket(key: Uint8Array, offset: number, bucket: number): void {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket > 0xffff)
    throw new Error(`keyspace: bucket ${bucket} is not a u16`);
  key[offset] = bucket >>> 8;
  key[offset + 1] = bucket & 0xff;
}
