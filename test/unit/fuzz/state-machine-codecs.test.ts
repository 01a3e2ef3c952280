/**
 * Fuzzing the commands and replies of the state machines: the bytes a Raft
 * entry carries (from a client, through the log, onto every replica's disk)
 * and the bytes a client reads back.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import fc from 'fast-check';
import { decodeCommand, decodeReply, encodeCommand, encodeReply } from '../../../src/kv/command-codec.js';
import type { KvCommand, KvError, KvReply } from '../../../src/kv/commands.js';
import {
  casMismatch,
  CLIENT_ID_BYTES_MAX,
  keyTooLarge,
  malformedCommand,
  staleSequence,
  valueTooLarge,
} from '../../../src/kv/commands.js';
import { KvDecodeError } from '../../../src/kv/errors.js';
import {
  decodeMetaCommand,
  decodeMetaReply,
  encodeMetaCommand,
  encodeMetaReply,
} from '../../../src/meta/command-codec.js';
import type { MetaCommand, MetaReply } from '../../../src/meta/commands.js';
import { MetaDecodeError } from '../../../src/meta/errors.js';
import { decodeShardCommand, encodeShardCommand } from '../../../src/shard/command-codec.js';
import type { ShardCommand, ShardError, ShardReply } from '../../../src/shard/commands.js';
import { ShardDecodeError } from '../../../src/shard/errors.js';
import { decodeShardReply, encodeShardReply, isShardError } from '../../../src/shard/reply-codec.js';
import { checkReencodes, decoderProperties } from '../../support/fuzz.js';
import { anyText, bytes, shardConfig, textOfBytes, u32, u64 } from '../../support/fuzz-values.js';

const stamp = {
  clientId: textOfBytes(CLIENT_ID_BYTES_MAX),
  sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
};

const kvCommand: fc.Arbitrary<KvCommand> = fc.oneof(
  fc.record({ type: fc.constant('get' as const), key: bytes() }),
  fc.record({ type: fc.constantFrom('put' as const, 'append' as const), ...stamp, key: bytes(), value: bytes() }),
  fc.record({ type: fc.constant('delete' as const), ...stamp, key: bytes() }),
  fc.record({
    type: fc.constant('cas' as const),
    ...stamp,
    key: bytes(),
    expected: fc.option(bytes(), { nil: null }),
    value: bytes(),
  }),
);

const kvError: fc.Arbitrary<KvError> = fc.oneof(
  fc.tuple(u32, u32).map(([size, max]) => keyTooLarge(size, max)),
  fc.tuple(u32, u32).map(([size, max]) => valueTooLarge(size, max)),
  fc.constant(casMismatch()),
  fc.tuple(u64, u64).map(([sequence, last]) => staleSequence(sequence, last)),
  anyText().map(malformedCommand),
);

const kvReply: fc.Arbitrary<KvReply> = fc.oneof(
  fc
    .record({ value: fc.option(bytes(), { nil: null }), valueBytes: u32, existed: fc.boolean() }, { requiredKeys: [] })
    .map((fields) => ({ ok: true as const, ...fields })),
  kvError.map((error) => ({ ok: false as const, error })),
);

describe('fuzzing kv commands', () => {
  decoderProperties({ arbitrary: kvCommand, encode: encodeCommand, decode: decodeCommand, DecodeError: KvDecodeError });
});

describe('fuzzing kv replies', () => {
  decoderProperties({ arbitrary: kvReply, encode: encodeReply, decode: decodeReply, DecodeError: KvDecodeError });
});

const gid = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const metaStamp = { clientId: textOfBytes(CLIENT_ID_BYTES_MAX), sequence: stamp.sequence };
const metaCommand: fc.Arbitrary<MetaCommand> = fc.oneof(
  fc.record(
    {
      type: fc.constant('join' as const),
      ...metaStamp,
      groups: fc.array(
        fc.record({ gid, members: fc.array(fc.record({ id: gid, address: anyText() }), { maxLength: 3 }) }),
        { maxLength: 3 },
      ),
      bucketCount: gid,
    },
    { requiredKeys: ['type', 'clientId', 'sequence', 'groups'] },
  ),
  fc.record({ type: fc.constant('leave' as const), ...metaStamp, gids: fc.array(gid, { maxLength: 4 }) }),
  fc.record({ type: fc.constant('move' as const), ...metaStamp, fromBucket: gid, toBucket: gid, gid }),
  fc.record({
    type: fc.constant('members' as const),
    ...metaStamp,
    gid,
    members: fc.array(fc.record({ id: gid, address: anyText() }), { maxLength: 3 }),
  }),
  fc.record({ type: fc.constant('query' as const), version: fc.option(u64, { nil: null }) }),
);

describe('fuzzing meta commands', () => {
  decoderProperties({
    arbitrary: metaCommand,
    encode: encodeMetaCommand,
    decode: decodeMetaCommand,
    DecodeError: MetaDecodeError,
  });
});

const metaReply: fc.Arbitrary<MetaReply> = fc.oneof(
  shardConfig.map((config) => ({ ok: true as const, config })),
  fc.record({ gid, message: anyText() }).map(({ gid: unknown, message }) => ({
    ok: false as const,
    error: { code: 'unknownGroup' as const, gid: unknown, message },
  })),
  fc.record({ problem: anyText(), message: anyText() }).map(({ problem, message }) => ({
    ok: false as const,
    error: { code: 'malformedCommand' as const, problem, message },
  })),
  fc.record({ bucketCount: gid, fixed: fc.option(gid, { nil: null }), message: anyText() }).map((fields) => ({
    ok: false as const,
    error: {
      code: 'badBucketCount' as const,
      bucketCount: fields.bucketCount,
      bucketCountFixed: fields.fixed,
      message: fields.message,
    },
  })),
);

describe('fuzzing meta replies', () => {
  decoderProperties({
    arbitrary: metaReply,
    encode: encodeMetaReply,
    decode: decodeMetaReply,
    DecodeError: MetaDecodeError,
  });
});

const bucket = fc.integer({ min: 0, max: 1023 });
const shardCommand: fc.Arbitrary<ShardCommand> = fc.oneof(
  kvCommand.map((command) => ({ type: 'kv' as const, command })),
  shardConfig.map((config) => ({ type: 'config' as const, config })),
  fc.record({
    type: fc.constant('installBucket' as const),
    bucket,
    configVersion: u64,
    firstPairIndex: u64,
    pairs: fc.array(fc.tuple(bytes(), bytes()), { maxLength: 4 }),
    dedup: fc.array(
      fc.tuple(
        textOfBytes(CLIENT_ID_BYTES_MAX),
        fc.record({ lastSequence: stamp.sequence, lastReply: kvReply, stampMsMax: u64 }),
      ),
      { maxLength: 3 },
    ),
    last: fc.boolean(),
  }),
  fc.record({ type: fc.constant('deleteBucket' as const), bucket, configVersion: u64 }),
);

describe('fuzzing shard commands', () => {
  decoderProperties({
    arbitrary: shardCommand,
    encode: encodeShardCommand,
    decode: decodeShardCommand,
    DecodeError: ShardDecodeError,
  });
});

const shardError: fc.Arbitrary<ShardError> = fc.oneof(
  fc.record({
    code: fc.constant('wrongGroup' as const),
    bucket: fc.option(bucket, { nil: null }),
    gid: u32,
    configVersion: u64,
    message: anyText(),
  }),
  fc.record({
    code: fc.constant('wrongVersion' as const),
    configVersion: u64,
    requestedVersion: u64,
    message: anyText(),
  }),
  fc.record({
    code: fc.constant('notReady' as const),
    configVersion: u64,
    bucketsInTransit: fc.array(bucket, { maxLength: 4 }),
    message: anyText(),
  }),
  fc.record({ code: fc.constant('stale' as const), bucket, configVersion: u64, message: anyText() }),
  fc.record({ code: fc.constant('invalidCommand' as const), problem: anyText(), message: anyText() }),
);

/** The fields each shard error has, besides code and message, and what each holds. */
const SHARD_ERROR_FIELDS: Record<ShardError['code'], Record<string, (value: unknown) => boolean>> = {
  wrongGroup: { bucket: (value) => value === null || isCount(value), gid: isCount, configVersion: isCount },
  wrongVersion: { configVersion: isCount, requestedVersion: isCount },
  notReady: { configVersion: isCount, bucketsInTransit: (value) => Array.isArray(value) && value.every(isCount) },
  stale: { bucket: isCount, configVersion: isCount },
  invalidCommand: { problem: (value) => typeof value === 'string' },
};

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

describe('fuzzing shard replies', () => {
  const codec = { encode: encodeShardReply, decode: decodeShardReply };
  decoderProperties<ShardReply>({
    arbitrary: fc.oneof(
      kvReply,
      shardError.map((error) => ({ ok: false as const, error })),
    ),
    ...codec,
    DecodeError: ShardDecodeError,
    // Besides random bytes, JSON objects that name a shard error's code, with any other fields.
    arbitraryBytes: fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc
        .tuple(fc.constantFrom(...Object.keys(SHARD_ERROR_FIELDS)), fc.dictionary(fc.string(), fc.jsonValue()))
        .map(([code, fields]) => Buffer.from(`\u0002${JSON.stringify({ ...fields, code, message: 'm' })}`, 'utf8')),
    ),
    checkValid: (reply) => {
      checkReencodes(codec, reply);
      if (!isShardError(reply)) return;
      // A client acts on these fields: each error must have exactly its own, of the right kind.
      const { code, message, ...rest } = reply.error;
      const expected = SHARD_ERROR_FIELDS[code];
      assert.equal(typeof message, 'string', `a ${code} error has a message`);
      assert.deepEqual(Object.keys(rest).sort(), Object.keys(expected).sort(), `the fields of a ${code} error`);
      for (const [name, holds] of Object.entries(expected)) {
        assert.ok(holds((rest as Record<string, unknown>)[name]), `${code}.${name} is not valid`);
      }
    },
  });
});
