import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { casMismatch, failed } from '../../../src/kv/commands.js';
import { shardFailed, wrongGroup } from '../../../src/shard/commands.js';
import { ShardDecodeError } from '../../../src/shard/errors.js';
import { decodeShardReply, encodeShardReply } from '../../../src/shard/reply-codec.js';

describe('shard reply codec', () => {
  it('round-trips KV replies and shard errors', () => {
    const replies = [
      { ok: true as const, value: new TextEncoder().encode('v') },
      failed(casMismatch()),
      shardFailed(wrongGroup(3, 2, 7)),
    ];
    for (const reply of replies) assert.deepEqual(decodeShardReply(encodeShardReply(reply)), reply);
  });

  it('refuses bytes it does not understand with one error type, whichever half broke', () => {
    assert.throws(() => decodeShardReply(Uint8Array.of(9)), ShardDecodeError);
    assert.throws(() => decodeShardReply(Uint8Array.of(1, 7, 7)), ShardDecodeError);
    assert.throws(() => decodeShardReply(Buffer.from('\u0002{"code":"nope","message":"x"}')), ShardDecodeError);
  });

  it('refuses a shard error without the fields of its code, or with others: a client acts on them', () => {
    const shardError = (json: string): Buffer => Buffer.from(`\u0002${json}`, 'utf8');
    assert.throws(
      () => decodeShardReply(shardError('{"code":"wrongGroup","cucket":3,"gid":2,"configVersion":7,"message":"m"}')),
      /the field "bucket" is missing/,
    );
    assert.throws(
      () => decodeShardReply(shardError('{"code":"notReady","configVersion":1,"bucketsInTransit":"3","message":"m"}')),
      /bucketsInTransit: expected an array/,
    );
    assert.throws(
      () => decodeShardReply(shardError('{"code":"stale","bucket":1,"configVersion":1,"message":"m","extra":1}')),
      /unknown field "extra"/,
    );
    assert.throws(() => decodeShardReply(Buffer.from([2, 0xff])), /not valid UTF-8/);
  });
});
