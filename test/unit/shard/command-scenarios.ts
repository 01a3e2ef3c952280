/** Each command of the shard log, and each of its refusals, on one member. */
import assert from 'node:assert/strict';
import { utf8 } from '../../../src/kv/commands.js';
import type { InstallBucketCommand } from '../../../src/shard/commands.js';
import { TestClient } from '../kv/kv-fixtures.js';
import { dumpEngine } from '../kv/kv-fixtures.js';
import type { Scenario } from './machine-suite.js';
import { BUCKET_COUNT, configOf, errorCode, keysInBucket, read, textOf } from './shard-fixtures.js';

const ALL_TO_1 = configOf(1, Array<number>(BUCKET_COUNT).fill(1));
/** Version 2 of the 6.824 story: group 2 joins and takes buckets 5..9. */
const HALF_TO_2 = configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);

function part(fields: Partial<InstallBucketCommand> & Pick<InstallBucketCommand, 'bucket'>): InstallBucketCommand {
  return { type: 'installBucket', configVersion: 2, firstPairIndex: 0, pairs: [], dedup: [], last: true, ...fields };
}

export function commandScenarios(scenario: Scenario): void {
  scenario('before its first config a group serves nothing, and does not remember refusing', async (members) => {
    const group = await members.start(1);
    const alice = new TestClient('alice');
    const reply = await group.kv(alice.put('k', 'v'));
    assert.ok(!reply.ok && reply.error.code === 'wrongGroup');
    assert.equal(reply.error.bucket, null);
    assert.match(reply.error.message, /group 1 has no config yet \(version 0\).*refresh the config and retry/);
    assert.equal(group.machine.dedupEntry('alice'), undefined);
    assert.equal(errorCode(read(group, 'k')), 'wrongGroup');
    assert.equal(group.machine.appliedIndex, 1);
  });

  scenario('the first config serves every bucket at once, and KV commands answer as in a KV group', async (members) => {
    const group = await members.start(1);
    assert.deepEqual(await group.config(ALL_TO_1), { ok: true });
    assert.equal(group.machine.currentConfig.version, 1);
    assert.deepEqual(
      group.states(),
      Array.from({ length: BUCKET_COUNT }, (_, bucket) => [bucket, 'serving']),
    );
    const alice = new TestClient('alice');
    assert.deepEqual(await group.kv(alice.put('k', 'v1')), { ok: true });
    assert.deepEqual(await group.kv(alice.append('k', '+2')), { ok: true, valueBytes: 4 });
    const retried = alice.append('k', '+3');
    assert.deepEqual(await group.kv(retried), { ok: true, valueBytes: 6 });
    assert.deepEqual(await group.kv(retried), { ok: true, valueBytes: 6 }, 'a retry is answered, not applied');
    assert.equal(textOf(await group.kv({ type: 'get', key: utf8('k') })), 'v1+2+3');
    assert.equal(errorCode(await group.kv(alice.cas('k', 'nope', 'x'))), 'casMismatch');
    assert.deepEqual(await group.kv(alice.cas('k', 'v1+2+3', 'swapped')), { ok: true });
    assert.deepEqual(await group.kv(alice.delete('k')), { ok: true, existed: true });
    assert.deepEqual(await group.kv(alice.delete('k')), { ok: true, existed: false });
    assert.equal(textOf(read(group, 'k')), null);
    assert.equal(group.machine.dedupEntry('alice')?.lastSequence, 7);
  });

  scenario('a key of a bucket served elsewhere gets wrongGroup, and the refusal is not remembered', async (members) => {
    const group = await members.start(1);
    await group.config(configOf(1, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]));
    const [elsewhere] = keysInBucket(7, 1);
    const [here] = keysInBucket(2, 1);
    const put = { type: 'put' as const, clientId: 'alice', sequence: 1, key: utf8(elsewhere!), value: utf8('v') };
    assert.deepEqual(await group.kv(put), {
      ok: false,
      error: {
        code: 'wrongGroup',
        bucket: 7,
        gid: 1,
        configVersion: 1,
        message: 'bucket 7 is not served by group 1 at config version 1; refresh the config and retry',
      },
    });
    assert.equal(group.machine.dedupEntry('alice'), undefined);
    assert.equal(errorCode(read(group, elsewhere!)), 'wrongGroup');
    // Had the refusal been recorded, the same sequence would now be answered with it.
    assert.deepEqual(await group.kv({ ...put, key: utf8(here!) }), { ok: true });
    assert.equal(textOf(read(group, here!)), 'v');
  });

  scenario('a config must be the next version, of the same bucket count', async (members) => {
    const group = await members.start(1);
    await group.config(ALL_TO_1);
    const gap = await group.config(configOf(3, Array<number>(BUCKET_COUNT).fill(1)));
    assert.ok(!gap.ok && gap.error.code === 'wrongVersion');
    assert.equal(gap.error.requestedVersion, 3);
    assert.match(gap.error.message, /propose version 2 first/);
    const duplicate = await group.config(ALL_TO_1);
    assert.ok(!duplicate.ok && duplicate.error.code === 'wrongVersion');
    assert.match(duplicate.error.message, /late duplicate/);
    assert.equal(errorCode(await group.config(configOf(2, [1, 1, 1, 1, 1]))), 'invalidCommand');
    assert.equal(group.machine.currentConfig.version, 1);
    assert.equal(group.states().length, BUCKET_COUNT);
  });

  scenario('the next config waits while buckets are handing off or pulling', async (members) => {
    const giver = await members.start(1);
    const taker = await members.start(2);
    for (const group of [giver, taker]) {
      await group.config(ALL_TO_1);
      assert.deepEqual(await group.config(HALF_TO_2), { ok: true });
    }
    assert.deepEqual(
      giver.states().filter(([, state]) => state !== 'serving'),
      [5, 6, 7, 8, 9].map((bucket) => [bucket, 'handingOff']),
    );
    assert.deepEqual(
      taker.states(),
      [5, 6, 7, 8, 9].map((bucket) => [bucket, 'pulling']),
    );
    assert.deepEqual(taker.machine.bucketStates().get(5), { type: 'pulling', fromGid: 1, pairsReceived: 0 });
    assert.deepEqual(giver.machine.bucketStates().get(5), { type: 'handingOff', toGid: 2 });
    const next = configOf(3, Array<number>(BUCKET_COUNT).fill(1));
    for (const group of [giver, taker]) {
      const reply = await group.config(next);
      assert.ok(!reply.ok && reply.error.code === 'notReady');
      assert.deepEqual(reply.error.bucketsInTransit, [5, 6, 7, 8, 9]);
      assert.equal(group.machine.currentConfig.version, 2);
    }
    for (const bucket of [5, 6, 7, 8, 9]) {
      await taker.pull(giver, bucket);
      await giver.deleteBucket(bucket, 2);
    }
    assert.deepEqual(await giver.config(next), { ok: true });
    assert.deepEqual(await taker.config(next), { ok: true });
  });

  scenario('installBucket takes only the next part of a bucket pulling at the current version', async (members) => {
    const taker = await members.start(2);
    await taker.config(ALL_TO_1);
    await taker.config(HALF_TO_2);
    const [a, b, c] = keysInBucket(5, 3);
    const pair = (key: string, value: string) => [utf8(key), utf8(value)] as const;

    const refusals: [InstallBucketCommand, string][] = [
      [part({ bucket: 5, configVersion: 1 }), 'stale'],
      [part({ bucket: 0 }), 'stale'],
      [part({ bucket: 12 }), 'invalidCommand'],
      [part({ bucket: 5, firstPairIndex: 1 }), 'stale'],
      [part({ bucket: 5, pairs: [pair(a!, '1'), pair(keysInBucket(6, 1)[0]!, 'x')] }), 'invalidCommand'],
    ];
    const before = await dumpEngine(taker.engine);
    for (const [command, code] of refusals) assert.equal(errorCode(await taker.apply(command)), code);
    assert.deepEqual(
      (await dumpEngine(taker.engine)).filter(([key]) => key !== '0001'),
      before.filter(([key]) => key !== '0001'),
      'a refused part changed something',
    );

    const first = part({ bucket: 5, pairs: [pair(a!, '1'), pair(b!, '2')], last: false });
    assert.deepEqual(await taker.apply(first), { ok: true });
    assert.deepEqual(taker.machine.bucketStates().get(5), { type: 'pulling', fromGid: 1, pairsReceived: 2 });
    assert.equal(errorCode(read(taker, a!)), 'wrongGroup', 'a bucket is not served before its last part');
    const duplicate = await taker.apply(first);
    assert.ok(!duplicate.ok && duplicate.error.code === 'stale');
    assert.match(duplicate.error.message, /starts at pair 0, but 2 pairs are installed/);
    assert.deepEqual(await taker.apply(part({ bucket: 5, firstPairIndex: 2, pairs: [pair(c!, '3')] })), { ok: true });
    assert.deepEqual(taker.machine.bucketStates().get(5), { type: 'serving' });
    assert.deepEqual(
      [a, b, c].map((key) => textOf(read(taker, key!))),
      ['1', '2', '3'],
    );
    assert.equal(errorCode(await taker.apply(part({ bucket: 5, firstPairIndex: 3 }))), 'stale');
  });

  scenario('installBucket merges dedup entries, keeping the larger sequence of each client', async (members) => {
    const taker = await members.start(2);
    await taker.config(ALL_TO_1);
    await taker.config(HALF_TO_2);
    await taker.apply(part({ bucket: 5 }));
    const [key] = keysInBucket(5, 1);
    await taker.kv({ type: 'put', clientId: 'bob', sequence: 7, key: utf8(key!), value: utf8('b7') });
    const moved = { lastSequence: 3, lastReply: { ok: true as const, valueBytes: 3 }, stampMsMax: 0 };
    const reply = await taker.apply(
      part({
        bucket: 6,
        dedup: [
          ['bob', { ...moved, lastSequence: 6 }],
          ['carol', moved],
        ],
      }),
    );
    assert.deepEqual(reply, { ok: true });
    assert.equal(taker.machine.dedupEntry('bob')?.lastSequence, 7, 'an older entry replaced a newer one');
    const carol = taker.machine.dedupEntry('carol');
    assert.deepEqual(carol, { ...moved, lastSeenIndex: taker.machine.appliedIndex });
  });

  scenario('deleteBucket takes only a bucket handed off at the current version', async (members) => {
    const giver = await members.start(1);
    await giver.config(ALL_TO_1);
    const [moved] = keysInBucket(5, 1);
    await giver.kv(new TestClient('alice').put(moved!, 'v'));
    await giver.config(HALF_TO_2);
    assert.equal(errorCode(await giver.deleteBucket(5, 1)), 'stale');
    assert.equal(errorCode(await giver.deleteBucket(0, 2)), 'stale');
    assert.equal(errorCode(await giver.deleteBucket(12, 2)), 'invalidCommand');
    assert.deepEqual(giver.machine.bucketStates().get(5), { type: 'handingOff', toGid: 2 });
    assert.deepEqual(await giver.deleteBucket(5, 2), { ok: true });
    assert.equal(giver.machine.bucketStates().has(5), false);
    const stale = await giver.deleteBucket(5, 2);
    assert.ok(!stale.ok && stale.error.code === 'stale');
    assert.match(stale.error.message, /bucket 5 at config version 2: the bucket is not held by this group/);
  });

  scenario('command bytes that do not decode get malformedCommand and change nothing', async (members) => {
    const group = await members.start(1);
    await group.config(ALL_TO_1);
    const before = await dumpEngine(group.engine);
    const cases: [number[], RegExp][] = [
      [[1, 99], /command kind 99 is unknown/],
      [[3, 1], /format version 3 is unknown/],
      [[2, 1], /format version 2 is for installBucket commands only/],
      [[1, 1, 1, 99], /the kv command: command kind 99 is unknown/],
      [[1, 2, 0x7b], /not JSON/],
      [[1, 4, 0, 5], /config version needs 8 bytes/],
    ];
    for (const [bytes, problem] of cases) {
      const reply = await group.machine.apply(group.machine.appliedIndex + 1, Uint8Array.from(bytes));
      assert.ok(!reply.ok && reply.error.code === 'malformedCommand', `bytes ${bytes.join(',')}`);
      assert.match(reply.error.message, problem);
    }
    assert.equal(group.machine.appliedIndex, 1 + cases.length);
    assert.deepEqual(
      (await dumpEngine(group.engine)).filter(([key]) => key !== '0001'),
      before.filter(([key]) => key !== '0001'),
    );
  });
}
