/**
 * What shard groups say to each other on the 'shard' service, format version 1.
 *
 * Requests:
 *   [u8 1][u8 kind 1 pull][u16 bucket][u64 config version][u64 first pair index]
 *         [u32 part bytes max][u8 dedup mode][u8 cursor length][cursor, UTF-8]
 *   [u8 1][u8 kind 2 confirm][u16 bucket][u64 config version]
 *   [u8 1][u8 kind 3 installed][u16 bucket][u64 config version]
 *
 * A pull asks the bucket's previous owner for the next installBucket part of
 * a transfer; a confirm tells it the new owner installed the bucket, so its
 * copy can go. installed goes the other way: the previous owner asks the new
 * one whether it has the bucket yet (done if so), which is how a deletion
 * happens even when the new owner's confirm was lost with its leader. Dedup mode says which of the exporter's dedup entries the
 * puller still needs: all, only those of client ids after the cursor (the
 * entries are sent sorted by client id, so a table larger than one part
 * comes over several pulls), or none (they all came already).
 *
 * Replies:
 *   [u8 1][an installBucket command, as command-codec.ts encodes it]   the next part
 *   [u8 2]                                                             done (confirm applied, or installed)
 *   [u8 3][a shard error, as reply-codec.ts encodes it]                refused: wrongVersion, stale, ...
 *
 * The part travels as the very bytes the puller then proposes, so the command
 * codec stays the one definition of it, and its strict decode checks it.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import { CLIENT_ID_BYTES_MAX } from '../kv/commands.js';
import type { BucketId } from '../meta/config.js';
import { BUCKET_COUNT_MAX } from '../meta/config.js';
import { decodeShardCommand, encodeShardCommand } from './command-codec.js';
import type { InstallBucketCommand, ShardError } from './commands.js';
import { ShardDecodeError } from './errors.js';
import { decodeShardReply, encodeShardReply, isShardError } from './reply-codec.js';

/** Which dedup entries a pull still needs. */
export type DedupWanted =
  { readonly mode: 'all' } | { readonly mode: 'after'; readonly clientId: string } | { readonly mode: 'none' };

export interface PullRequest {
  readonly type: 'pull';
  readonly bucket: BucketId;
  readonly configVersion: number;
  readonly firstPairIndex: number;
  readonly partBytesMax: number;
  readonly dedup: DedupWanted;
}

export interface ConfirmRequest {
  readonly type: 'confirm';
  readonly bucket: BucketId;
  readonly configVersion: number;
}

export interface InstalledRequest {
  readonly type: 'installed';
  readonly bucket: BucketId;
  readonly configVersion: number;
}

export type ShardRpcRequest = PullRequest | ConfirmRequest | InstalledRequest;

export type ShardRpcReply =
  | { readonly type: 'part'; readonly part: InstallBucketCommand }
  | { readonly type: 'done' }
  | { readonly type: 'refused'; readonly error: ShardError };

const FORMAT_VERSION = 1;
const KIND_PULL = 1;
const KIND_CONFIRM = 2;
const KIND_INSTALLED = 3;
const DEDUP_MODES = { all: 0, after: 1, none: 2 } as const;
const REPLY_PART = 1;
const REPLY_DONE = 2;
const REPLY_REFUSED = 3;
/** reply-codec.ts's tag of a shard error. */
const SHARD_ERROR_REPLY_TAG = 2;
/** Largest part a pull may ask for: a part is one log entry, which must stay well under the Raft message limit. */
export const PULL_PART_BYTES_MAX = 1024 * 1024;

export function encodeShardRpcRequest(request: ShardRpcRequest): Buffer {
  if (request.type !== 'pull') {
    return new ByteWriter(2 + 2 + 8)
      .u8(FORMAT_VERSION)
      .u8(request.type === 'confirm' ? KIND_CONFIRM : KIND_INSTALLED)
      .u16(request.bucket)
      .u64(request.configVersion)
      .finish();
  }
  const cursor = Buffer.from(request.dedup.mode === 'after' ? request.dedup.clientId : '', 'utf8');
  if (cursor.byteLength > CLIENT_ID_BYTES_MAX) throw new Error('pull request: the dedup cursor is not a client id');
  return new ByteWriter(2 + 2 + 8 + 8 + 4 + 1 + 1 + cursor.byteLength)
    .u8(FORMAT_VERSION)
    .u8(KIND_PULL)
    .u16(request.bucket)
    .u64(request.configVersion)
    .u64(request.firstPairIndex)
    .u32(request.partBytesMax)
    .u8(DEDUP_MODES[request.dedup.mode])
    .u8(cursor.byteLength)
    .bytes(cursor)
    .finish();
}

/** Throws ShardDecodeError for anything out of place. */
export function decodeShardRpcRequest(bytes: Uint8Array): ShardRpcRequest {
  const reader = new ByteReader(bytes, 'rpc request', ShardDecodeError);
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION) reader.fail(`format version ${version} is unknown`);
  const kind = reader.u8('kind');
  const bucket = reader.u16('bucket');
  if (bucket >= BUCKET_COUNT_MAX) reader.fail(`bucket ${bucket} is over the limit of ${BUCKET_COUNT_MAX}`);
  const configVersion = reader.u64('config version');
  if (kind === KIND_CONFIRM || kind === KIND_INSTALLED) {
    reader.expectEnd();
    return { type: kind === KIND_CONFIRM ? 'confirm' : 'installed', bucket, configVersion };
  }
  if (kind !== KIND_PULL) reader.fail(`kind ${kind} is unknown`);
  const firstPairIndex = reader.u64('first pair index');
  const partBytesMax = reader.u32('part bytes max');
  if (partBytesMax < 1 || partBytesMax > PULL_PART_BYTES_MAX) {
    reader.fail(`part bytes max ${partBytesMax} is outside 1..${PULL_PART_BYTES_MAX}`);
  }
  const mode = reader.u8('dedup mode');
  const cursorBytes = reader.u8('cursor length');
  const cursor = Buffer.from(reader.bytes(cursorBytes, 'cursor')).toString('utf8');
  reader.expectEnd();
  const dedup = dedupWanted(mode, cursor, reader);
  return { type: 'pull', bucket, configVersion, firstPairIndex, partBytesMax, dedup };
}

function dedupWanted(mode: number, cursor: string, reader: ByteReader): DedupWanted {
  if (mode === DEDUP_MODES.all) return { mode: 'all' };
  if (mode === DEDUP_MODES.after) return { mode: 'after', clientId: cursor };
  if (mode === DEDUP_MODES.none) return { mode: 'none' };
  return reader.fail(`dedup mode ${mode} is unknown`);
}

export function encodeShardRpcReply(reply: ShardRpcReply): Buffer {
  switch (reply.type) {
    case 'part':
      return Buffer.concat([Uint8Array.of(REPLY_PART), encodeShardCommand(reply.part)]);
    case 'done':
      return Buffer.from([REPLY_DONE]);
    case 'refused':
      // The reply codec's error form: JSON, the same shapes clients see.
      return Buffer.concat([Uint8Array.of(REPLY_REFUSED), encodeShardReply({ ok: false, error: reply.error })]);
  }
}

/** Throws ShardDecodeError for anything out of place. */
export function decodeShardRpcReply(bytes: Uint8Array): ShardRpcReply {
  const tag = bytes[0];
  const body = bytes.subarray(1);
  if (tag === REPLY_DONE && body.byteLength === 0) return { type: 'done' };
  if (tag === REPLY_PART) {
    const part = decodeShardCommand(body);
    if (part.type !== 'installBucket') throw new ShardDecodeError('rpc reply', `a part holds a ${part.type} command`);
    return { type: 'part', part };
  }
  if (tag === REPLY_REFUSED) {
    // A KV reply here is out of place: refused before the KV codec is asked to read it.
    if (body[0] !== SHARD_ERROR_REPLY_TAG) throw new ShardDecodeError('rpc reply', 'a refusal holds no shard error');
    const reply = decodeShardReply(body);
    if (!isShardError(reply)) throw new ShardDecodeError('rpc reply', 'a refusal holds no shard error');
    return { type: 'refused', error: reply.error };
  }
  throw new ShardDecodeError('rpc reply', `tag ${String(tag)} is unknown`);
}
