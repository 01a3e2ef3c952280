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
});
