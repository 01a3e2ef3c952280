/**
 * ShardedKvClient against scripted groups and a scripted meta group: it
 * routes by bucket, follows a bucket that moved after a wrongGroup, and
 * sends the very same bytes (client id and sequence) to the new owner.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientClock, GroupChannel } from '../../../src/client/channel.js';
import { ClientError } from '../../../src/client/errors.js';
import { ShardedKvClient } from '../../../src/client/sharded-client.js';
import { decodeCommand, encodeReply } from '../../../src/kv/command-codec.js';
import { casMismatch, failed } from '../../../src/kv/commands.js';
import type { ShardConfig } from '../../../src/meta/config.js';
import type { NodeId } from '../../../src/raft/index.js';
import { bucketOf } from '../../../src/shard/bucket.js';
import { shardFailed, wrongGroup } from '../../../src/shard/commands.js';
import { encodeShardReply } from '../../../src/shard/reply-codec.js';
import type { ServiceRequest, ServiceResult } from '../../../src/transport/service-protocol.js';

const BUCKETS = 4;
const GROUP_1 = { gid: 1, members: [1, 2, 3].map((id) => ({ id, address: `127.0.0.1:${7000 + id}` })) };
const GROUP_2 = { gid: 2, members: [4, 5, 6].map((id) => ({ id, address: `127.0.0.1:${7000 + id}` })) };

function config(version: number, owner: (bucket: number) => number): ShardConfig {
  return {
    version,
    buckets: Array.from({ length: BUCKETS }, (_, bucket) => owner(bucket)),
    groups: [GROUP_1, GROUP_2],
  };
}

class ScriptedCluster implements GroupChannel {
  nowMs = 0;
  configs: ShardConfig[] = [config(1, () => 1)];
  readonly calls: { node: NodeId; request: ServiceRequest }[] = [];
  readonly clock: ClientClock = {
    nowMs: () => this.nowMs,
    sleep: (delayMs) => {
      this.nowMs += delayMs;
      return Promise.resolve();
    },
  };
  readonly meta = { query: () => Promise.resolve(this.configs.at(-1)!) };

  constructor(private readonly answer: (node: NodeId, config: ShardConfig, request: ServiceRequest) => ServiceResult) {}

  call(node: NodeId, request: ServiceRequest): Promise<ServiceResult> {
    this.calls.push({ node, request });
    return Promise.resolve(this.answer(node, this.configs.at(-1)!, request));
  }

  close(): void {}

  client(): ShardedKvClient {
    return new ShardedKvClient({
      meta: this.meta,
      channel: this,
      clock: this.clock,
      clientId: 'alice',
      random: () => 0,
    });
  }
}

/** A group answers ok for the buckets the latest config gives it, wrongGroup for the others. */
function owners(node: NodeId, latest: ShardConfig, request: ServiceRequest): ServiceResult {
  const gid = node <= 3 ? 1 : 2;
  const command = decodeCommand(request.payload);
  if (command.type === 'count') throw new Error('these tests send no count');
  const bucket = bucketOf(command.key, BUCKETS);
  if (latest.buckets[bucket] !== gid) {
    return { ok: true, reply: encodeShardReply(shardFailed(wrongGroup(bucket, gid, latest.version))) };
  }
  return { ok: true, reply: encodeShardReply({ ok: true }) };
}

describe('ShardedKvClient', () => {
  it('routes a key to the group of its bucket, and follows the bucket after it moves, with the same bytes', async () => {
    const cluster = new ScriptedCluster(owners);
    const client = cluster.client();
    await client.put('k', 'v');
    assert.ok(
      cluster.calls.every((call) => call.node <= 3),
      'config 1 gives every bucket to group 1',
    );

    // The bucket of "k" moves to group 2; the client still believes config 1.
    const bucket = bucketOf(new TextEncoder().encode('k'), BUCKETS);
    cluster.configs.push(config(2, (b) => (b === bucket ? 2 : 1)));
    cluster.calls.length = 0;
    await client.put('k', 'w');
    const [first, ...rest] = cluster.calls;
    assert.ok(first !== undefined && first.node <= 3, 'the first attempt goes where the cached config says');
    const last = rest.at(-1)!;
    assert.ok(last.node >= 4, 'after wrongGroup it reaches group 2');
    assert.deepEqual(last.request.payload, first.request.payload, 'the retry carries the same client id and sequence');
    assert.equal(client.cachedConfig?.version, 2);
  });

  it("passes the KV layer's refusals through: a cas mismatch answers false, not a retry", async () => {
    const cluster = new ScriptedCluster(() => ({ ok: true, reply: encodeReply(failed(casMismatch())) }));
    // A KV reply must be wrapped as a shard reply: tag 1.
    const wrapped = new ScriptedCluster(() => ({ ok: true, reply: encodeShardReply(failed(casMismatch())) }));
    assert.equal(await wrapped.client().compareAndSet('k', 'old', 'new'), false);
    assert.equal(wrapped.calls.length, 1);
    await assert.rejects(cluster.client().put('k', 'v'), /do not decode/);
  });

  it('gives up after its deadline when no group serves the bucket, saying a write may have happened', async () => {
    const cluster = new ScriptedCluster(owners);
    cluster.configs = [config(1, () => 0)];
    await assert.rejects(cluster.client().put('k', 'v'), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, 'deadlineExceeded');
      assert.match(error.message, /may or may not have been applied/);
      return true;
    });
  });
});
