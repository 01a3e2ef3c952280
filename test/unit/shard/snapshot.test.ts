import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import { emptyMemoryKvDisk, MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { SERVING } from '../../../src/shard/bucket-state.js';
import { ShardSnapshotCorruptionError } from '../../../src/shard/errors.js';
import type { SnapshotRecord } from '../../../src/shard/snapshot-format.js';
import { encodeSnapshotRecord } from '../../../src/shard/snapshot-format.js';
import { collectChunks, dumpEngine, streamOf, TestClient } from '../kv/kv-fixtures.js';
import type { Member } from './shard-fixtures.js';
import { BUCKET_COUNT, configOf, errorCode, keysInBucket, Members, read, textOf } from './shard-fixtures.js';

const memoryHarness = () => {
  const disk = emptyMemoryKvDisk();
  return Promise.resolve({ open: () => Promise.resolve(new MemoryKvEngine(disk)), destroy: () => Promise.resolve() });
};

/** Group 1 at version 2, handing off 5..9, with data in every bucket and three clients. */
async function populated(members: Members): Promise<Member> {
  const group = await members.start(1, { snapshotChunkBytesMax: 256 });
  await group.config(configOf(1, Array<number>(BUCKET_COUNT).fill(1)));
  const clients = ['alice', 'bob', 'carol'].map((id) => new TestClient(id));
  for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
    for (const [n, key] of keysInBucket(bucket, 4).entries()) await group.kv(clients[n % 3]!.put(key, `v-${key}`));
  }
  await group.config(configOf(2, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]));
  return group;
}

async function stateOf(member: Member) {
  return {
    appliedIndex: member.machine.appliedIndex,
    states: member.machine.bucketStates(),
    dedup: member.machine.dedupEntries(),
    engine: await dumpEngine(member.engine),
  };
}

function corruptOneByte(chunks: readonly Uint8Array[], streamOffsetBytes: number): Uint8Array[] {
  const stream = Buffer.concat(chunks);
  stream[streamOffsetBytes] = stream[streamOffsetBytes]! ^ 0x5a;
  return [stream];
}

async function restoreError(member: Member, chunks: Iterable<Uint8Array>, index: number): Promise<Error> {
  try {
    await member.machine.restoreFromSnapshot(chunks, index);
  } catch (error) {
    return error as Error;
  }
  return assert.fail('the restore succeeded');
}

describe('shard snapshots', () => {
  const members = new Members(memoryHarness);
  let source: Member;
  let chunks: Uint8Array[];
  before(async () => {
    source = await populated(members);
    chunks = await collectChunks(source.machine.snapshot());
  });
  after(() => members.stopAll());

  it('are the state of the moment snapshot() is called, whatever is applied while they stream', async () => {
    const group = await populated(members);
    const expected = await stateOf(group);
    const stream = group.machine.snapshot();
    const [key] = keysInBucket(0, 1);
    await group.kv(new TestClient('late').put(key!, 'late'));
    await group.deleteBucket(5, 2);
    const target = await members.start(1);
    await target.machine.restore(stream, expected.appliedIndex);
    assert.deepEqual(await stateOf(target), expected);
    assert.equal(textOf(read(target, key!)), `v-${key}`);
  });

  it('restore from chunks of any size', async () => {
    const stream = Buffer.concat(chunks);
    const tiny: Uint8Array[] = [];
    for (let offset = 0; offset < stream.byteLength; offset += 7) tiny.push(stream.subarray(offset, offset + 7));
    const target = await members.start(1);
    await target.machine.restoreFromSnapshot(tiny, source.machine.appliedIndex);
    assert.deepEqual(await stateOf(target), await stateOf(source));
  });

  it('a stream of another index or another group, or damaged in its header, leaves the state as it was', async () => {
    const target = await populated(members);
    await target.kv(new TestClient('dave').put('only-here', 'x'));
    const expected = await stateOf(target);
    const index = source.machine.appliedIndex;
    assert.match((await restoreError(target, chunks, index + 1)).message, /ends at log index \d+, but the node/);
    assert.match((await restoreError(target, corruptOneByte(chunks, 10), index)).message, /checksum mismatch/);
    const otherGroup = await members.start(2);
    assert.match((await restoreError(otherGroup, chunks, index)).message, /snapshot is of group 1, and this member/);
    assert.deepEqual(await stateOf(target), expected);
  });

  it('damage further in is found where it is, and leaves an empty machine that can restore again', async () => {
    const target = await populated(members);
    const stream = Buffer.concat(chunks);
    const damageAtBytes = Math.floor(stream.byteLength * 0.7);
    const error = await restoreError(target, corruptOneByte(chunks, damageAtBytes), source.machine.appliedIndex);
    assert.ok(error instanceof ShardSnapshotCorruptionError, String(error));
    assert.ok(error.offsetBytes <= damageAtBytes && error.offsetBytes > damageAtBytes - 300, error.message);
    assert.match(error.message, /fetch it again from the leader/);
    assert.equal(target.machine.appliedIndex, 0);
    assert.equal(target.machine.currentConfig.version, 0);
    assert.deepEqual(target.states(), []);
    await target.restart();
    assert.equal(target.machine.appliedIndex, 0);
    await target.machine.restore(streamOf(chunks), source.machine.appliedIndex);
    assert.deepEqual(await stateOf(target), await stateOf(source));
  });

  it('a stream cut short, at a record boundary or inside one, is refused', async () => {
    const stream = Buffer.concat(chunks);
    const endRecordBytes = 8 + 1 + 24;
    const target = await members.start(1);
    const index = source.machine.appliedIndex;
    const atBoundary = await restoreError(target, [stream.subarray(0, stream.byteLength - endRecordBytes)], index);
    assert.match(atBoundary.message, /ends before its end record: it was cut short/);
    const inside = await restoreError(target, [stream.subarray(0, stream.byteLength - 5)], index);
    assert.match(inside.message, /the stream ends inside a record/);
  });

  it('records that check out one by one but describe no state a group can be in are refused', async () => {
    const header: SnapshotRecord = { type: 'header', appliedIndex: 9, appliedTerm: 1, gid: 1 };
    const config: SnapshotRecord = { type: 'config', config: configOf(1, [1, 1, 2, 2, 2, 2, 2, 2, 2, 2]) };
    const [keyOf0] = keysInBucket(0, 1);
    const end = (stateCount: number, dedupCount: number, pairCount: number): SnapshotRecord => ({
      type: 'end',
      stateCount,
      dedupCount,
      pairCount,
    });
    const bodies: [SnapshotRecord[], RegExp][] = [
      [[header, end(0, 0, 0)], /end record where the config record belongs/],
      [[config], /config record where the header record belongs/],
      [[header, config, { type: 'bucketState', bucket: 0, state: SERVING }, end(1, 0, 0)], /gives bucket 1 to group 1/],
      [
        [
          header,
          config,
          ...[0, 1, 2].map((bucket): SnapshotRecord => ({ type: 'bucketState', bucket, state: SERVING })),
          end(3, 0, 0),
        ],
        /bucket 2 is serving, but config 1 gives it to group 2/,
      ],
      [
        [
          header,
          config,
          { type: 'bucketState', bucket: 1, state: SERVING },
          { type: 'bucketState', bucket: 0, state: SERVING },
        ],
        /bucket 0's state follows bucket 1's/,
      ],
      [
        [
          header,
          config,
          { type: 'bucketState', bucket: 0, state: SERVING },
          { type: 'bucketState', bucket: 1, state: SERVING },
          { type: 'pair', bucket: 1, key: utf8(keyOf0!), value: utf8('v') },
        ],
        /a pair filed under bucket 1 whose key is in bucket 0/,
      ],
      [
        [header, config, { type: 'pair', bucket: 2, key: utf8('k'), value: utf8('v') }],
        /a pair of bucket 2, which the group does not hold/,
      ],
      [
        [
          header,
          config,
          {
            type: 'dedup',
            clientId: 'a',
            entry: { lastSequence: 1, lastReply: { ok: true }, lastSeenIndex: 3, stampMsMax: 0 },
          },
          { type: 'bucketState', bucket: 0, state: SERVING },
        ],
        /a bucketState record after a dedup record/,
      ],
      [
        [
          header,
          config,
          {
            type: 'dedup',
            clientId: 'a',
            entry: { lastSequence: 1, lastReply: { ok: true }, lastSeenIndex: 10, stampMsMax: 0 },
          },
        ],
        /client a was last seen at index 10, after the snapshot/,
      ],
      [
        [
          header,
          config,
          { type: 'bucketState', bucket: 0, state: SERVING },
          { type: 'bucketState', bucket: 1, state: SERVING },
          end(2, 0, 1),
        ],
        /the end record counts 2 states, 0 dedup and 1 pairs; the stream held 2, 0 and 0/,
      ],
    ];
    const target = await members.start(1);
    for (const [records, problem] of bodies) {
      const error = await restoreError(target, records.map(encodeSnapshotRecord), 9);
      assert.ok(error instanceof ShardSnapshotCorruptionError, String(error));
      assert.match(error.message, problem);
    }
    // The same records, in a valid order, restore.
    await target.machine.restoreFromSnapshot(
      [
        header,
        config,
        { type: 'bucketState', bucket: 0, state: SERVING },
        { type: 'bucketState', bucket: 1, state: SERVING },
        { type: 'pair', bucket: 0, key: utf8(keyOf0!), value: utf8('v') },
        end(2, 0, 1),
      ].map((record) => encodeSnapshotRecord(record as SnapshotRecord)),
      9,
    );
    assert.equal(textOf(read(target, keyOf0!)), 'v');
    assert.equal(errorCode(read(target, keysInBucket(2, 1, 'x')[0]!)), 'wrongGroup');
  });
});
