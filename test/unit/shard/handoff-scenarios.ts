/** Buckets moving between two groups, told as the 6.824 ShardKV lab tells it, and batches of such entries. */
import assert from 'node:assert/strict';
import type { ApplyEntry } from '../../../src/node/ports.js';
import type { KvCommand } from '../../../src/kv/commands.js';
import { utf8 } from '../../../src/kv/commands.js';
import { DEDUP_FLOOR_CLIENT_ID } from '../../../src/kv/dedup-table.js';
import { installParts } from '../../../src/shard/bucket-transfer.js';
import { encodeShardCommand } from '../../../src/shard/command-codec.js';
import type { ShardCommand, ShardReply } from '../../../src/shard/commands.js';
import { dumpEngine, TestClient } from '../kv/kv-fixtures.js';
import type { Scenario } from './machine-suite.js';
import type { Member } from './shard-fixtures.js';
import { BUCKET_COUNT, configOf, errorCode, keysInBucket, read, textOf } from './shard-fixtures.js';

const MOVED_BUCKETS = [5, 6, 7, 8, 9];

export function handoffScenarios(scenario: Scenario): void {
  scenario('group 1 joins and serves all; group 2 joins and takes half, exactly once', async (members) => {
    const group1 = await members.start(1);
    const group2 = await members.start(2);
    const alice = new TestClient('alice');
    const [stays] = keysInBucket(0, 1);
    const movedKeys = MOVED_BUCKETS.map((bucket) => keysInBucket(bucket, 1)[0]!);

    // Version 1: group 1 joins alone. Nobody held the buckets, so it serves them all at once, empty.
    const join1 = configOf(1, Array<number>(BUCKET_COUNT).fill(1));
    await group1.config(join1);
    await group2.config(join1);
    assert.deepEqual(group2.states(), [], 'group 2 owns nothing at version 1');
    for (const key of [stays!, ...movedKeys]) await group1.kv(alice.put(key, `v-${key}`));
    // The client's last write before the move; its reply is lost, so it will retry.
    const lostReply = alice.append(movedKeys[0]!, '+once');
    assert.deepEqual(await group1.kv(lostReply), { ok: true, valueBytes: `v-${movedKeys[0]}+once`.length });

    // Version 2: group 2 joins and takes buckets 5..9.
    const join2 = configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    await group1.config(join2);
    await group2.config(join2);
    assert.deepEqual(
      group1.states().filter(([bucket]) => bucket >= 5),
      MOVED_BUCKETS.map((bucket) => [bucket, 'handingOff']),
    );
    assert.deepEqual(
      group2.states(),
      MOVED_BUCKETS.map((bucket) => [bucket, 'pulling']),
    );
    // Neither group serves the moving buckets now; the retry is refused at both, and remembered at neither.
    assert.equal(errorCode(await group1.kv(lostReply)), 'wrongGroup');
    assert.equal(errorCode(await group2.kv(lostReply)), 'wrongGroup');
    assert.equal(errorCode(read(group1, movedKeys[1]!)), 'wrongGroup');
    // Buckets not involved in the change are served throughout.
    assert.equal(textOf(read(group1, stays!)), `v-${stays}`);

    // Group 1 exports what it hands off: exactly the bucket's pairs, and its dedup table.
    const exported = group1.machine.exportBucket(5, 2);
    assert.ok(exported.ok);
    const pairs: [string, string][] = [];
    for await (const [key, value] of exported.export.pairs) {
      pairs.push([Buffer.from(key).toString(), Buffer.from(value).toString()]);
    }
    assert.deepEqual(pairs, [[movedKeys[0]!, `v-${movedKeys[0]}+once`]]);
    assert.deepEqual(
      exported.export.dedup.map(([clientId, entry]) => [clientId, entry.lastSequence]),
      [
        [DEDUP_FLOOR_CLIENT_ID, 1],
        ['alice', 7],
      ],
    );

    // Group 2 installs the buckets one by one, serving each as soon as it is in.
    await group2.pull(group1, 5);
    assert.equal(group2.machine.bucketStates().get(5)?.type, 'serving');
    assert.equal(group2.machine.bucketStates().get(6)?.type, 'pulling');
    // The retried write is answered with its first reply, not applied a second time.
    assert.deepEqual(await group2.kv(lostReply), { ok: true, valueBytes: `v-${movedKeys[0]}+once`.length });
    assert.equal(textOf(read(group2, movedKeys[0]!)), `v-${movedKeys[0]}+once`);
    for (const bucket of MOVED_BUCKETS.slice(1)) await group2.pull(group1, bucket);
    for (const key of movedKeys.slice(1)) assert.equal(textOf(read(group2, key)), `v-${key}`);
    assert.deepEqual(await group2.kv(alice.append(movedKeys[0]!, '+next')), {
      ok: true,
      valueBytes: `v-${movedKeys[0]}+once+next`.length,
    });

    // Group 2 confirmed; group 1 deletes what it handed off, and keeps what it still serves.
    for (const bucket of MOVED_BUCKETS) assert.deepEqual(await group1.deleteBucket(bucket, 2), { ok: true });
    assert.deepEqual(
      group1.states(),
      [0, 1, 2, 3, 4].map((bucket) => [bucket, 'serving']),
    );
    const dataLeft = (await dumpEngine(group1.engine)).filter(([key]) => key.startsWith('01'));
    assert.deepEqual(
      dataLeft.map(([key]) => Buffer.from(key.slice(6), 'hex').toString()),
      [stays],
    );
    assert.equal(errorCode(group1.machine.exportBucket(5, 2)), 'stale');
    assert.equal(errorCode(read(group1, movedKeys[2]!)), 'wrongGroup');

    // Both groups are done with version 2, so version 3 can come.
    const next = configOf(3, [1, 1, 1, 1, 1, 2, 2, 2, 2, 1]);
    assert.deepEqual(await group1.config(next), { ok: true });
    assert.deepEqual(await group2.config(next), { ok: true });
  });

  scenario('a moved bucket keeps its expiry times; each group counts the live keys it serves', async (members) => {
    const group1 = await members.start(1);
    const group2 = await members.start(2);
    const t0 = 1_700_000_000_000;
    const [stays] = keysInBucket(0, 1);
    const [moves] = keysInBucket(5, 1);
    const set = (sequence: number, key: string, expiresAtMs: number): KvCommand => ({
      type: 'set',
      clientId: 'alice',
      sequence,
      nowMs: t0,
      key: utf8(key),
      value: utf8('v'),
      condition: 'always',
      expiry: { type: 'at', expiresAtMs },
      returnPrevious: false,
    });
    const count = async (member: Member, nowMs: number): Promise<string | null> =>
      textOf(await member.machine.countLiveKeys(nowMs));
    const join1 = configOf(1, Array<number>(BUCKET_COUNT).fill(1));
    await group1.config(join1);
    await group2.config(join1);
    await group1.kv(set(1, stays!, t0 + 1000));
    await group1.kv(set(2, moves!, t0 + 2000));
    assert.equal(await count(group1, t0), '2');
    assert.equal(await count(group1, t0 + 1500), '1');

    const join2 = configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    await group1.config(join2);
    await group2.config(join2);
    assert.equal(await count(group1, t0), '1', 'a bucket handing off is not served, so not counted');
    assert.equal(await count(group2, t0), '0', 'nor is one still being pulled');
    await group2.pull(group1, 5);
    assert.equal(await count(group2, t0 + 1500), '1');
    assert.equal(await count(group2, t0 + 2001), '0');
    const moved = group2.machine.get(utf8(moves!), t0);
    assert.ok(moved.ok && moved.expiresAtMs === t0 + 2000);
  });

  scenario('an export is refused until the exporter has applied the version, and after it deleted', async (members) => {
    const group1 = await members.start(1);
    await group1.config(configOf(1, Array<number>(BUCKET_COUNT).fill(1)));
    const early = group1.machine.exportBucket(5, 2);
    assert.ok(!early.ok && early.error.code === 'wrongVersion');
    assert.match(early.error.message, /retry once it has applied version 2/);
    assert.equal(errorCode(group1.machine.exportBucket(5, 1)), 'stale', 'a serving bucket may still change');
    await group1.config(configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]));
    assert.equal(errorCode(group1.machine.exportBucket(0, 2)), 'stale');
    assert.equal(errorCode(group1.machine.exportBucket(5, 1)), 'stale');
    const exported = group1.machine.exportBucket(5, 2);
    assert.ok(exported.ok);
    await exported.export.pairs.return?.();
  });

  scenario('a client the old owner evicted is refused by the new owner too, never applied twice', async (members) => {
    const group1 = await members.start(1, { dedupClientsMax: 2 });
    const group2 = await members.start(2, { dedupClientsMax: 2 });
    await group1.config(configOf(1, Array<number>(BUCKET_COUNT).fill(1)));
    await group2.config(configOf(1, Array<number>(BUCKET_COUNT).fill(1)));
    const [moves] = keysInBucket(5, 1);
    const stamped = (clientId: string, nowMs: number, key: string): KvCommand => ({
      type: 'append',
      clientId,
      sequence: 1,
      nowMs,
      key: utf8(key),
      value: utf8('x'),
    });
    const write = stamped('alice', 1_000, moves!);
    assert.deepEqual(await group1.kv(write), { ok: true, valueBytes: 1 });
    // Two clients that start later push alice out of group 1's table.
    for (const clientId of ['bob', 'carol']) await group1.kv(stamped(clientId, 2_000, keysInBucket(0, 1)[0]!));
    assert.equal(group1.machine.dedupEntry('alice'), undefined);

    const next = configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    await group1.config(next);
    await group2.config(next);
    for (const bucket of MOVED_BUCKETS) await group2.pull(group1, bucket);
    // Alice's retry reaches the new owner, which never saw her: it knows, from group 1's floor, not to apply it.
    assert.equal(errorCode(await group2.kv(write)), 'sessionExpired');
    assert.equal(textOf(read(group2, moves!)), 'x');
  });

  scenario('an export is the bucket of the moment it was asked for', async (members) => {
    const group1 = await members.start(1);
    await group1.config(configOf(1, Array<number>(BUCKET_COUNT).fill(1)));
    const keys = keysInBucket(5, 3);
    for (const key of keys) await group1.kv(new TestClient(`c-${key}`).put(key, 'v'));
    await group1.config(configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]));
    const exported = group1.machine.exportBucket(5, 2);
    assert.ok(exported.ok);
    await group1.deleteBucket(5, 2);
    await group1.kv(new TestClient('late').put(keysInBucket(0, 1)[0]!, 'x'));
    const keysExported: string[] = [];
    for await (const [key] of exported.export.pairs) keysExported.push(Buffer.from(key).toString());
    assert.deepEqual(keysExported, [...keys].sort());
    assert.deepEqual(
      exported.export.dedup.map(([clientId]) => clientId),
      [DEDUP_FLOOR_CLIENT_ID, ...keys.map((key) => `c-${key}`)],
    );
  });

  scenario('a transfer in parts resumes, after a leader change, where the receiver stands', async (members) => {
    const group1 = await members.start(1);
    const group2 = await members.start(2);
    const join1 = configOf(1, Array<number>(BUCKET_COUNT).fill(1));
    const join2 = configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    await group1.config(join1);
    const keys = keysInBucket(7, 40);
    const clients = Array.from({ length: 4 }, (_, n) => new TestClient(`client-${n}`));
    for (const [n, key] of keys.entries()) await group1.kv(clients[n % 4]!.put(key, `value-${n}`));
    await group2.config(join1);
    for (const group of [group1, group2]) assert.deepEqual(await group.config(join2), { ok: true });

    const exported = group1.machine.exportBucket(7, 2);
    assert.ok(exported.ok);
    const parts = installParts(exported.export, { partBytesMax: 100 });
    // The old leader gets three parts in, then is gone.
    for (let n = 0; n < 3; n++) {
      const step = await parts.next();
      assert.ok(step.done !== true);
      assert.deepEqual(await group2.apply(step.value), { ok: true });
    }
    await parts.return(undefined);
    const state = group2.machine.bucketStates().get(7);
    assert.ok(state?.type === 'pulling' && state.pairsReceived > 0 && state.pairsReceived < keys.length);
    // The new leader starts a fresh export and sends on from where the receiver stands.
    const replies = await group2.pull(group1, 7, { partBytesMax: 100, firstPairIndex: state.pairsReceived });
    assert.ok(replies.length > 1);
    assert.ok(replies.every((reply) => reply.ok));
    assert.equal(group2.machine.bucketStates().get(7)?.type, 'serving');
    for (const [n, key] of keys.entries()) assert.equal(textOf(read(group2, key)), `value-${n}`);
    assert.equal(group2.machine.dedupEntries().length, 4);
  });

  scenario('a batch gives the same replies and the same engine as one entry at a time', async (members) => {
    const single = await members.start(1);
    const batched = await members.start(1);
    const commands = batchScript();
    const singleReplies: (ShardReply | undefined)[] = [];
    for (const [offset, command] of commands.entries()) {
      singleReplies.push(...(await single.machine.applyBatch([entryAt(offset + 1, command)])));
    }
    const batchReplies = await batched.machine.applyBatch(
      commands.map((command, offset) => entryAt(offset + 1, command)),
    );
    assert.deepEqual(batchReplies, singleReplies);
    assert.deepEqual(await dumpEngine(batched.engine), await dumpEngine(single.engine));
    assert.equal(batched.machine.appliedIndex, commands.length);
    // Bucket 5 went away (deleted mid-batch) and came back (installed later in the same batch).
    const [oldKey, newKey] = keysInBucket(5, 2);
    assert.equal(textOf(read(batched, oldKey!)), null, 'the deleted data came back');
    assert.equal(textOf(read(batched, newKey!)), 'from-2', 'the clear of the deleted bucket wiped the install');
    assert.equal(textOf(batchReplies.at(-1)!), 'from-2', 'a later command did not read what an earlier one wrote');
    assert.deepEqual(
      batchReplies.map((reply) => (reply === undefined ? 'noop' : (errorCode(reply) ?? 'ok'))),
      ['ok', 'ok', 'ok', 'ok', 'noop', 'ok', 'wrongGroup', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
    );
    assert.deepEqual(batchReplies[3], batchReplies[2], 'a retry inside the batch was not answered from the first');
    assert.deepEqual(batchReplies[10], { ok: true, valueBytes: 9 }, 'the moved dedup entry did not answer the retry');
  });
}

/**
 * Group 1's log: join, writes, a move of bucket 5 to group 2, the deletion of
 * its copy, the bucket coming back at version 3 with group 2's data, and
 * reads of it, all of which one batch must apply as entries one by one do.
 */
function batchScript(): (ShardCommand | null)[] {
  const alice = new TestClient('alice');
  const [oldKey, newKey] = keysInBucket(5, 2);
  const [other] = keysInBucket(0, 1);
  const put = alice.put(oldKey!, 'old');
  const retried = alice.append(other!, '-a');
  return [
    { type: 'config', config: configOf(1, Array<number>(BUCKET_COUNT).fill(1)) },
    { type: 'kv', command: put },
    { type: 'kv', command: retried },
    { type: 'kv', command: retried },
    null,
    { type: 'config', config: configOf(2, [1, 1, 1, 1, 1, 2, 1, 1, 1, 1]) },
    { type: 'kv', command: alice.put(oldKey!, 'refused') },
    { type: 'deleteBucket', bucket: 5, configVersion: 2 },
    { type: 'config', config: configOf(3, Array<number>(BUCKET_COUNT).fill(1)) },
    {
      type: 'installBucket',
      bucket: 5,
      configVersion: 3,
      firstPairIndex: 0,
      pairs: [[utf8(newKey!), utf8('from-2')]],
      dedup: [['bob', { lastSequence: 4, lastReply: { ok: true, valueBytes: 9 }, stampMsMax: 0 }]],
      last: true,
    },
    { type: 'kv', command: { type: 'append', clientId: 'bob', sequence: 4, key: utf8(newKey!), value: utf8('!') } },
    { type: 'kv', command: alice.append(other!, '-b') },
    { type: 'kv', command: { type: 'get', key: utf8(newKey!) } },
  ];
}

function entryAt(index: number, command: ShardCommand | null): ApplyEntry {
  return { index, term: 1, command: command === null ? null : encodeShardCommand(command) };
}
