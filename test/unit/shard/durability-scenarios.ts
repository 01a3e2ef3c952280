/** Restarts over the same engine, snapshots into fresh members, and a bucket clear cut short by a crash. */
import assert from 'node:assert/strict';
import { utf8 } from '../../../src/kv/commands.js';
import { KvStateMachine } from '../../../src/kv/state-machine.js';
import { canonicalConfigJson } from '../../../src/meta/config.js';
import { installParts } from '../../../src/shard/bucket-transfer.js';
import { clearPendingKey, dataKey } from '../../../src/shard/keyspace.js';
import { applyNext, collectChunks, dumpEngine, streamOf, TestClient } from '../kv/kv-fixtures.js';
import type { Scenario } from './machine-suite.js';
import type { Member, Members } from './shard-fixtures.js';
import { BUCKET_COUNT, configOf, errorCode, keysInBucket, read, textOf } from './shard-fixtures.js';

/** Group 1 handing off 5..9 (5 deleted already) and group 2 pulling them: 5 installed, 6 half, 7..9 not yet. */
async function midMove(members: Members, snapshotChunkBytesMax = 64 * 1024): Promise<[Member, Member]> {
  const group1 = await members.start(1, { snapshotChunkBytesMax });
  const group2 = await members.start(2, { snapshotChunkBytesMax });
  const join1 = configOf(1, Array<number>(BUCKET_COUNT).fill(1));
  const join2 = configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  for (const group of [group1, group2]) assert.deepEqual(await group.config(join1), { ok: true });
  const clients = ['alice', 'bob', 'carol'].map((id) => new TestClient(id));
  for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
    for (const [n, key] of keysInBucket(bucket, 6).entries()) {
      await group1.kv(clients[n % clients.length]!.put(key, `${key}=${'x'.repeat(n * 20)}`));
    }
  }
  for (const group of [group1, group2]) assert.deepEqual(await group.config(join2, 3), { ok: true });
  await group2.pull(group1, 5);
  assert.deepEqual(await group1.deleteBucket(5, 2), { ok: true });
  // Bucket 6 half installed: the first parts of a transfer whose sender then went away.
  const exported = group1.machine.exportBucket(6, 2);
  assert.ok(exported.ok);
  const parts = installParts(exported.export, { partBytesMax: 150 });
  for (let n = 0; n < 3; n++) {
    const step = await parts.next();
    assert.ok(step.done !== true && !step.value.last);
    await group2.apply(step.value, 3);
  }
  await parts.return(undefined);
  await group2.kv(clients[0]!.append(keysInBucket(5, 1)[0]!, '+moved'), 3);
  await group2.machine.skip(group2.machine.appliedIndex + 1, 4);
  return [group1, group2];
}

/** Everything two members of one group must agree on. */
async function stateOf(member: Member) {
  return {
    appliedIndex: member.machine.appliedIndex,
    appliedTerm: member.machine.appliedTerm,
    config: canonicalConfigJson(member.machine.currentConfig),
    states: member.machine.bucketStates(),
    dedup: member.machine.dedupEntries(),
    engine: await dumpEngine(member.engine),
  };
}

export function durabilityScenarios(scenario: Scenario): void {
  scenario('a restart resumes with the position, config, bucket states, dedup table and data', async (members) => {
    const [group1, group2] = await midMove(members);
    for (const group of [group1, group2]) {
      const before = await stateOf(group);
      await group.restart();
      assert.deepEqual(await stateOf(group), before);
    }
    assert.equal(group2.machine.appliedTerm, 4);
    assert.deepEqual(group2.states(), [
      [5, 'serving'],
      [6, 'pulling'],
      [7, 'pulling'],
      [8, 'pulling'],
      [9, 'pulling'],
    ]);
    // The half-done transfer goes on where it stood, and a retry from before the restart is still answered.
    const standing = group2.machine.bucketStates().get(6);
    assert.ok(standing?.type === 'pulling');
    await group2.pull(group1, 6, { firstPairIndex: standing.pairsReceived });
    for (const key of keysInBucket(6, 6)) assert.match(textOf(read(group2, key)) ?? '', /^k/);
    const retry = { type: 'put' as const, clientId: 'alice', sequence: 1, key: utf8(keysInBucket(5, 1)[0]!) };
    assert.equal(errorCode(await group2.kv({ ...retry, value: utf8('again') })), 'staleSequence');
  });

  scenario('a snapshot restores the whole state into a fresh member of the same group', async (members) => {
    const [group1, group2] = await midMove(members, 200);
    for (const source of [group1, group2]) {
      const expected = await stateOf(source);
      const chunks = await collectChunks(source.machine.snapshot());
      assert.ok(chunks.length > 5, `expected many chunks, got ${chunks.length}`);
      assert.ok(chunks.every((chunk) => chunk.byteLength <= 200));
      const target = await members.start(source.machine.gid);
      await target.machine.restore(streamOf(chunks), source.machine.appliedIndex);
      assert.deepEqual(await stateOf(target), expected);
      await target.restart();
      assert.deepEqual(await stateOf(target), expected);
    }
    // What a restored member of group 2 holds carries on: the pulled bucket, its dedup table, the transfer.
    const restored = await members.start(2);
    await restored.machine.restore(
      streamOf(await collectChunks(group2.machine.snapshot())),
      group2.machine.appliedIndex,
    );
    const append = await restored.kv(new TestClient('dave').append(keysInBucket(5, 1)[0]!, '!'));
    assert.ok(append.ok);
    const standing = restored.machine.bucketStates().get(6);
    assert.ok(standing?.type === 'pulling');
    const replies = await restored.pull(group1, 6, { firstPairIndex: standing.pairsReceived });
    assert.ok(replies.every((reply) => reply.ok));
  });

  scenario('a bucket clear cut short by a crash is finished on open, and no snapshot holds it', async (members) => {
    const [group1] = await midMove(members);
    // What a crash during the clear of bucket 5 leaves: the bucket forgotten, the pending key, some of its data.
    const [leftover] = keysInBucket(5, 1);
    await group1.engine.write(
      [
        { type: 'put', key: dataKey(5, utf8(leftover!)), value: utf8('leftover') },
        { type: 'put', key: clearPendingKey(5), value: new Uint8Array(0) },
      ],
      { sync: true },
    );
    const restoredFromCrashState = await members.start(1);
    await restoredFromCrashState.machine.restore(
      streamOf(await collectChunks(group1.machine.snapshot())),
      group1.machine.appliedIndex,
    );
    const bucket5Prefix = Buffer.from(dataKey(5, new Uint8Array(0))).toString('hex');
    const holdsBucket5 = async (member: Member): Promise<boolean> =>
      (await dumpEngine(member.engine)).some(([key]) => key.startsWith(bucket5Prefix) || key === '00050005');
    assert.equal(await holdsBucket5(restoredFromCrashState), false);
    assert.equal(await holdsBucket5(group1), true);
    await group1.restart();
    assert.equal(await holdsBucket5(group1), false);
    assert.equal(errorCode(read(group1, leftover!)), 'wrongGroup');
  });

  scenario("a store of another group's member, or of a plain KV group, is refused", async (members) => {
    const group1 = await members.start(1);
    await group1.config(configOf(1, Array<number>(BUCKET_COUNT).fill(1)));
    await assert.rejects(group1.restart({ gid: 2 }), /belongs to a member of group 1, not of group 2/);

    await group1.engine.clear();
    const kv = await KvStateMachine.open(group1.engine);
    await applyNext(kv, new TestClient('alice').put('k', 'v'));
    await assert.rejects(group1.restart(), /no shard layout key/);
  });
}
