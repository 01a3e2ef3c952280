/** The 'shard' service's codec: round trips, and strict refusals of what is out of place. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import { ShardDecodeError } from '../../../src/shard/index.js';
import type { ShardRpcReply, ShardRpcRequest } from '../../../src/shard/shard-rpc.js';
import {
  decodeShardRpcReply,
  decodeShardRpcRequest,
  encodeShardRpcReply,
  encodeShardRpcRequest,
  PULL_PART_BYTES_MAX,
} from '../../../src/shard/shard-rpc.js';
import { stale } from '../../../src/shard/commands.js';

describe('shard rpc codec', () => {
  it('round-trips every request', () => {
    const requests: ShardRpcRequest[] = [
      { type: 'confirm', bucket: 7, configVersion: 12 },
      { type: 'installed', bucket: 9, configVersion: 3 },
      { type: 'pull', bucket: 0, configVersion: 3, firstPairIndex: 0, partBytesMax: 1, dedup: { mode: 'all' } },
      {
        type: 'pull',
        bucket: 1023,
        configVersion: 2 ** 40,
        firstPairIndex: 123_456,
        partBytesMax: PULL_PART_BYTES_MAX,
        dedup: { mode: 'after', clientId: 'client-ü-7' },
      },
      { type: 'pull', bucket: 5, configVersion: 9, firstPairIndex: 17, partBytesMax: 4096, dedup: { mode: 'none' } },
    ];
    for (const request of requests) assert.deepEqual(decodeShardRpcRequest(encodeShardRpcRequest(request)), request);
  });

  it('round-trips every reply', () => {
    const replies: ShardRpcReply[] = [
      { type: 'done' },
      { type: 'refused', error: stale(3, 4, 'the bucket is served here') },
      {
        type: 'part',
        part: {
          type: 'installBucket',
          bucket: 2,
          configVersion: 5,
          firstPairIndex: 8,
          pairs: [[utf8('k'), utf8('v')]],
          dedup: [['c', { lastSequence: 3, lastReply: { ok: true }, stampMsMax: 0 }]],
          last: true,
        },
      },
    ];
    for (const reply of replies) assert.deepEqual(decodeShardRpcReply(encodeShardRpcReply(reply)), reply);
  });

  it('refuses what is out of place', () => {
    const pull = encodeShardRpcRequest({
      type: 'pull',
      bucket: 1,
      configVersion: 1,
      firstPairIndex: 0,
      partBytesMax: 10,
      dedup: { mode: 'all' },
    });
    const cases: Uint8Array[] = [
      Uint8Array.of(),
      Uint8Array.of(2, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), // format version 2
      Uint8Array.of(1, 9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), // kind 9
      Uint8Array.of(1, 2, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1), // bucket over the limit
      Buffer.concat([pull, Uint8Array.of(0)]), // trailing byte
      pull.subarray(0, pull.byteLength - 1), // cut short
    ];
    for (const bytes of cases) assert.throws(() => decodeShardRpcRequest(bytes), ShardDecodeError);
    const noPartLimit = Buffer.from(pull);
    noPartLimit.writeUInt32BE(0, 2 + 2 + 8 + 8);
    assert.throws(() => decodeShardRpcRequest(noPartLimit), ShardDecodeError);
    for (const bytes of [Uint8Array.of(), Uint8Array.of(2, 0), Uint8Array.of(9), Uint8Array.of(3, 1, 2)]) {
      assert.throws(() => decodeShardRpcReply(bytes), ShardDecodeError);
    }
  });
});
