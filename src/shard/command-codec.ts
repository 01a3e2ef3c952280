/**
 * The bytes of a shard command, as a shard group's Raft entries carry them:
 *
 *   [u8 version][u8 kind][body]    version 1, or 2 for installBucket (this raftkv writes it)
 *
 *   kind 1 kv:            [a KV command, as kv/command-codec.ts encodes it]
 *   kind 2 config:        [the config as canonical JSON, UTF-8]
 *   kind 3 installBucket: [u16 bucket][u64 config version][u64 first pair index][u8 last 0|1]
 *                         [u32 dedup count] dedup*
 *                         [u32 pair count] pair*
 *   kind 4 deleteBucket:  [u16 bucket][u64 config version]
 *
 *   dedup = [u8 client id length][client id, UTF-8][u64 last sequence]
 *           [u64 newest proposer clock, ms; version 2 only, version 1 reads as 0]
 *           [u32 reply length][reply, kv reply codec]
 *   pair  = [u32 key length][key][u32 value length][value]
 *
 * A client's KV command is wrapped whole, so the KV codec stays the one
 * definition of it. Numbers are big-endian. Decode is strict, as every
 * replica must read the same bytes the same way: anything out of place,
 * including a key or value over the KV limits, is a ShardDecodeError.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import { decodeCommand, decodeReply, encodeCommand, encodeReply } from '../kv/command-codec.js';
import { CLIENT_ID_BYTES_MAX, KEY_BYTES_MAX } from '../kv/commands.js';
import { STORED_VALUE_BYTES_MAX } from '../kv/stored-value.js';
import { KvDecodeError } from '../kv/errors.js';
import { BUCKET_COUNT_MAX } from '../meta/config.js';
import type {
  BucketPair,
  InstallBucketCommand,
  ShardCommand,
  ShardCommandType,
  TransferredDedupEntry,
} from './commands.js';
import { decodeConfigJson, encodeConfigJson } from './config-json.js';
import { ShardDecodeError } from './errors.js';

const FORMAT_VERSION = 1;
/** installBucket only: version 1 plus each dedup entry's newest proposer clock (kv/dedup-table.ts says why). */
const FORMAT_VERSION_INSTALL_WITH_CLOCK = 2;
const KIND_CODES = { kv: 1, config: 2, installBucket: 3, deleteBucket: 4 } as const satisfies Record<
  ShardCommandType,
  number
>;
const HEADER_BYTES = 2;
const BUCKET_AND_VERSION_BYTES = 2 + 8;
const INSTALL_FIXED_BYTES = BUCKET_AND_VERSION_BYTES + 8 + 1 + 4 + 4;

export function encodeShardCommand(command: ShardCommand): Buffer {
  const header = (bodyBytes: number): ByteWriter =>
    new ByteWriter(HEADER_BYTES + bodyBytes)
      .u8(command.type === 'installBucket' ? FORMAT_VERSION_INSTALL_WITH_CLOCK : FORMAT_VERSION)
      .u8(KIND_CODES[command.type]);
  switch (command.type) {
    case 'kv': {
      const kv = encodeCommand(command.command);
      return header(kv.byteLength).bytes(kv).finish();
    }
    case 'config': {
      const json = encodeConfigJson(command.config);
      return header(json.byteLength).bytes(json).finish();
    }
    case 'installBucket':
      return encodeInstall(command, header);
    case 'deleteBucket':
      checkBucket(command.bucket);
      return header(BUCKET_AND_VERSION_BYTES).u16(command.bucket).u64(command.configVersion).finish();
  }
}

/** Bytes one pair takes in an installBucket command: what a sender counts to size its parts. */
export function encodedPairBytes([key, value]: BucketPair): number {
  return 4 + key.byteLength + 4 + value.byteLength;
}

/** Bytes one dedup entry takes in an installBucket command. */
export function encodedDedupBytes(clientId: string, entry: TransferredDedupEntry): number {
  return 1 + Buffer.byteLength(clientId, 'utf8') + 8 + 8 + 4 + encodeReply(entry.lastReply).byteLength;
}

function encodeInstall(command: InstallBucketCommand, header: (bodyBytes: number) => ByteWriter): Buffer {
  checkBucket(command.bucket);
  // What an installer sends came from an engine that enforced the limits; breaking them here is a bug.
  for (const [key, value] of command.pairs) {
    if (key.byteLength > KEY_BYTES_MAX || value.byteLength > STORED_VALUE_BYTES_MAX) {
      throw new Error(`installBucket: a pair of ${key.byteLength} + ${value.byteLength} bytes is over the kv limits`);
    }
  }
  const dedup = command.dedup.map(([clientId, entry]) => {
    const id = Buffer.from(clientId, 'utf8');
    if (id.byteLength === 0 || id.byteLength > CLIENT_ID_BYTES_MAX) {
      throw new Error(`installBucket: a client id must be 1 to ${CLIENT_ID_BYTES_MAX} UTF-8 bytes`);
    }
    return { id, lastSequence: entry.lastSequence, stampMsMax: entry.stampMsMax, reply: encodeReply(entry.lastReply) };
  });
  let bodyBytes = INSTALL_FIXED_BYTES;
  for (const { id, reply } of dedup) bodyBytes += 1 + id.byteLength + 8 + 8 + 4 + reply.byteLength;
  for (const pair of command.pairs) bodyBytes += encodedPairBytes(pair);
  const writer = header(bodyBytes)
    .u16(command.bucket)
    .u64(command.configVersion)
    .u64(command.firstPairIndex)
    .u8(command.last ? 1 : 0)
    .u32(dedup.length);
  for (const { id, lastSequence, stampMsMax, reply } of dedup) {
    writer.u8(id.byteLength).bytes(id).u64(lastSequence).u64(stampMsMax).u32(reply.byteLength).bytes(reply);
  }
  writer.u32(command.pairs.length);
  for (const [key, value] of command.pairs) writer.u32(key.byteLength).bytes(key).u32(value.byteLength).bytes(value);
  return writer.finish();
}

function checkBucket(bucket: number): void {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKET_COUNT_MAX) {
    throw new Error(`shard command: bucket ${bucket} is outside 0..${BUCKET_COUNT_MAX - 1}`);
  }
}

/** The command `bytes` hold; throws ShardDecodeError saying what is wrong when they hold none. */
export function decodeShardCommand(bytes: Uint8Array): ShardCommand {
  const reader = new ByteReader(bytes, 'command', ShardDecodeError);
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_INSTALL_WITH_CLOCK) {
    reader.fail(
      `format version ${version} is unknown to this raftkv ` +
        `(it reads versions ${FORMAT_VERSION} and ${FORMAT_VERSION_INSTALL_WITH_CLOCK})`,
    );
  }
  const kind = reader.u8('kind');
  if (version === FORMAT_VERSION_INSTALL_WITH_CLOCK && kind !== KIND_CODES.installBucket) {
    reader.fail(`format version ${version} is for installBucket commands only, not kind ${kind}`);
  }
  switch (kind) {
    case KIND_CODES.kv:
      return { type: 'kv', command: decodeKv(reader.rest('kv command')) };
    case KIND_CODES.config:
      return { type: 'config', config: decodeConfigJson(reader.rest('config'), 'config command') };
    case KIND_CODES.installBucket: {
      const command = decodeInstall(reader, version === FORMAT_VERSION_INSTALL_WITH_CLOCK);
      reader.expectEnd();
      return command;
    }
    case KIND_CODES.deleteBucket: {
      const command = {
        type: 'deleteBucket' as const,
        bucket: readBucket(reader),
        configVersion: reader.u64('config version'),
      };
      reader.expectEnd();
      return command;
    }
    default:
      return reader.fail(`command kind ${kind} is unknown`);
  }
}

function decodeKv(bytes: Uint8Array): ReturnType<typeof decodeCommand> {
  try {
    return decodeCommand(bytes);
  } catch (error) {
    if (error instanceof KvDecodeError) throw new ShardDecodeError('command', `the kv command: ${error.problem}`);
    throw error;
  }
}

function decodeInstall(reader: ByteReader, withClock: boolean): InstallBucketCommand {
  const bucket = readBucket(reader);
  const configVersion = reader.u64('config version');
  const firstPairIndex = reader.u64('first pair index');
  const last = reader.u8('last flag');
  if (last > 1) reader.fail(`the last flag is ${last}, not 0 or 1`);
  // Counts are not trusted for allocation: each item is read from bytes that must be there.
  const dedupCount = reader.u32('dedup count');
  const dedup: [string, TransferredDedupEntry][] = [];
  for (let item = 0; item < dedupCount; item++) dedup.push(readDedup(reader, withClock));
  const pairCount = reader.u32('pair count');
  const pairs: BucketPair[] = [];
  for (let item = 0; item < pairCount; item++) {
    const key = readSized(reader, 'key', KEY_BYTES_MAX);
    pairs.push([key, readSized(reader, 'value', STORED_VALUE_BYTES_MAX)]);
  }
  return { type: 'installBucket', bucket, configVersion, firstPairIndex, pairs, dedup, last: last === 1 };
}

function readDedup(reader: ByteReader, withClock: boolean): [string, TransferredDedupEntry] {
  const idBytes = reader.u8('client id length');
  if (idBytes === 0 || idBytes > CLIENT_ID_BYTES_MAX) {
    reader.fail(`the client id length ${idBytes} is outside 1..${CLIENT_ID_BYTES_MAX}`);
  }
  const clientId = reader.utf8(idBytes, 'client id');
  const lastSequence = reader.u64('last sequence');
  if (lastSequence < 1) reader.fail('a last sequence is 0; sequences start at 1');
  const stampMsMax = withClock ? reader.u64('newest proposer clock') : 0;
  const replyBytes = reader.bytes(reader.u32('reply length'), 'reply');
  try {
    return [clientId, { lastSequence, stampMsMax, lastReply: decodeReply(replyBytes) }];
  } catch (error) {
    if (error instanceof KvDecodeError) return reader.fail(`the reply of client ${clientId}: ${error.problem}`);
    throw error;
  }
}

function readSized(reader: ByteReader, field: string, sizeBytesMax: number): Uint8Array {
  const sizeBytes = reader.u32(`${field} length`);
  if (sizeBytes > sizeBytesMax) reader.fail(`a ${field} of ${sizeBytes} bytes is over the limit of ${sizeBytesMax}`);
  return reader.bytes(sizeBytes, field);
}

function readBucket(reader: ByteReader): number {
  const bucket = reader.u16('bucket');
  if (bucket >= BUCKET_COUNT_MAX) reader.fail(`bucket ${bucket} is outside 0..${BUCKET_COUNT_MAX - 1}`);
  return bucket;
}
