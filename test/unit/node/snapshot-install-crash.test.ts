/**
 * A whole member crashes at every step of installing a snapshot it receives,
 * on real disk stores, and restarts from its directory. Three members; one
 * follower is cut off while the leader writes enough to compact its log past
 * it, so that on the heal the leader must send it a snapshot. The follower
 * dies at one step of the install, restarts, and must then start cleanly,
 * hold exactly what the leader holds (every key, the applied index), and
 * carry a write as part of a majority once the old leader is cut off.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import type { KvReply } from '../../../src/kv/commands.js';
import { compareKeys } from '../../../src/kv/engine.js';
import { dataKey, DATA_RANGE } from '../../../src/kv/keyspace.js';
import { RESTORE_BATCH_BYTES_MAX } from '../../../src/kv/state-machine.js';
import type { RaftNode } from '../../../src/node/index.js';
import type { NodeId } from '../../../src/raft/index.js';
import { SeededRandom } from '../../../src/sim/random.js';
import type { InstallCrashPoint } from '../../support/disk-kv-group.js';
import { DiskKvGroup, engineLine, INSTALL_CRASH_POINTS } from '../../support/disk-kv-group.js';

const SEED = 11;
const MEMBERS: readonly NodeId[] = [1, 2, 3];
const BIG_VALUE_BYTES = 768 * 1024;
/** Enough big values that a restore writes its records in more than one engine batch. */
const BIG_VALUES = Math.ceil(RESTORE_BATCH_BYTES_MAX / BIG_VALUE_BYTES);
const SNAPSHOT_EVERY_ENTRIES = 8;
/** With a snapshot every 8 entries and at most 2 kept behind it: the leader's log then starts past the follower's. */
const WRITES_WHILE_CUT_OFF = 12;
/** The big values, the same in every case and every run. */
const bigValues = seededBytes(SEED, BIG_VALUES, BIG_VALUE_BYTES);

const WHERE: Record<InstallCrashPoint, string> = {
  synced: 'after the received snapshot file is synced, before its rename',
  renamed: 'after the snapshot file is renamed into place, before its meta file',
  metaWritten: 'after the meta file is written, before the state machine restores',
  restoreHalfway: 'halfway through the restore, records loaded, restore marker still up',
  restored: 'after the restore, before the log is reset',
  logReset: 'after the log is reset, before anything is appended',
};

/** Crashes at or after this point find the received snapshot on disk when they restart. */
const SNAPSHOT_KEPT: Record<InstallCrashPoint, boolean> = {
  synced: false,
  renamed: false,
  metaWritten: true,
  restoreHalfway: true,
  restored: true,
  logReset: true,
};

/**
 * The follower's log before the snapshot arrives: holding entries (a few are
 * kept behind each snapshot), or empty because it was compacted right up to
 * the follower's own latest snapshot (none kept), like a new member's.
 */
type FollowerLog = 'holdsEntries' | 'empty';

describe('a follower that crashes while installing a snapshot restarts from its directory', () => {
  for (const point of INSTALL_CRASH_POINTS) {
    it(`crash ${WHERE[point]}: it starts, catches up to the leader exactly, and carries a majority`, async () => {
      await inGroup(point, 'holdsEntries');
    });
  }
});

describe("the same when the follower's log was empty, compacted up to its own older snapshot", () => {
  // The points where the restart finds the received snapshot but a log that does not continue it.
  for (const point of ['metaWritten', 'restoreHalfway', 'restored'] as const) {
    it(`crash ${WHERE[point]}: the restart resets the empty log, and the member catches up`, async () => {
      await inGroup(point, 'empty');
    });
  }
});

async function inGroup(point: InstallCrashPoint, followerLog: FollowerLog): Promise<void> {
  const group = await DiskKvGroup.create(SEED, MEMBERS, {
    snapshotEveryEntries: SNAPSHOT_EVERY_ENTRIES,
    snapshotCatchUpEntries: followerLog === 'empty' ? 0 : 2,
    snapshotChunkBytes: 256 * 1024,
  });
  try {
    await crashWhileInstalling(group, point, followerLog);
  } finally {
    await group.close();
  }
}

async function crashWhileInstalling(
  group: DiskKvGroup,
  point: InstallCrashPoint,
  followerLog: FollowerLog,
): Promise<void> {
  const context = `seed ${group.seed}, crash ${point}, follower log ${followerLog}`;
  const expected = new Map<string, Uint8Array>();
  const put = async (node: RaftNode, key: string, value: Uint8Array): Promise<void> => {
    assertOk(await group.put(node, key, value), context);
    expected.set(key, value);
  };

  await group.startAll();
  const leader = await group.electLeader();
  const follower = MEMBERS.find((id) => id !== leader.id)!;
  const other = MEMBERS.find((id) => id !== leader.id && id !== follower)!;

  // What the follower holds before the cut, and the snapshot must replace: a key deleted and one changed later.
  for (let k = 0; k < BIG_VALUES; k++) await put(leader, `big${k}`, bigValues[k]!);
  await put(leader, 'doomed', utf8('soon deleted'));
  await put(leader, 'changed', utf8('old'));
  await waitUntilCaughtUp(group, follower, leader.id, context);
  if (followerLog === 'empty') {
    // Until the follower's latest snapshot is its last entry: with none kept behind, its log is then empty.
    const core = group.node(follower).core;
    for (let k = 0; k < SNAPSHOT_EVERY_ENTRIES && core.lastIndex >= core.firstIndex; k++) {
      await put(leader, `filler${k}`, utf8('x'));
      await waitUntilCaughtUp(group, follower, leader.id, context);
    }
    assert.ok(core.lastIndex === core.snapshot.index && core.snapshot.index > 0, `${context}: the log is not empty`);
  }

  group.network.partition([[leader.id, other], [follower]]);
  assertOk(await group.delete(leader, 'doomed'), context);
  expected.delete('doomed');
  await put(leader, 'changed', utf8('new'));
  for (let k = 0; k < WRITES_WHILE_CUT_OFF; k++) await put(leader, `k${k}`, utf8(`v${k}`));
  const followerLastIndex = group.node(follower).core.lastIndex;
  assert.ok(
    leader.core.firstIndex > followerLastIndex + 1,
    `${context}: the leader's log starts at ${leader.core.firstIndex}, not past the follower's ${followerLastIndex}`,
  );
  const snapshotIndex = leader.core.snapshot.index;

  group.armCrash(follower, point);
  group.network.heal();
  const crashed = await group.runUntil(() => group.crashedAt(follower) !== null, 10_000);
  assert.ok(crashed, `${context}: the follower never reached the crash point`);
  if (point === 'restoreHalfway') {
    assert.ok(group.restoreBatchesWritten(follower) > 0, `${context}: no records were loaded before the crash`);
  }

  const restarted = await group.restart(follower);
  if (SNAPSHOT_KEPT[point]) {
    assert.equal(group.snapshotIndex(follower), snapshotIndex, `${context}: the installed snapshot is gone`);
    assert.equal(group.machine(follower).appliedIndex, snapshotIndex, `${context}: the machine is not at the snapshot`);
    assert.equal(restarted.core.lastIndex, snapshotIndex, `${context}: the log from before the snapshot is back`);
  } else {
    assert.ok((group.snapshotIndex(follower) ?? 0) < snapshotIndex, `${context}: a half-installed snapshot counts`);
    assert.ok(group.machine(follower).appliedIndex < snapshotIndex, `${context}: the machine moved without a snapshot`);
  }

  await waitUntilCaughtUp(group, follower, leader.id, context);
  assert.ok((group.snapshotIndex(follower) ?? 0) >= snapshotIndex, `${context}: caught up without the snapshot`);
  await assertSameState(group, follower, leader.id, expected, context);

  // The old leader cut off: no write goes through without the follower.
  group.network.partition([[leader.id], [follower, other]]);
  const newLeader = await group.electLeader([follower, other]);
  await put(newLeader, 'after', utf8('the restart'));
  await waitUntilCaughtUp(group, follower, newLeader.id, context);
  await assertSameState(group, follower, newLeader.id, expected, context);
  assert.deepEqual(group.failures, [], context);
}

async function waitUntilCaughtUp(group: DiskKvGroup, id: NodeId, leader: NodeId, context: string): Promise<void> {
  const caughtUp = await group.runUntil(
    () => group.crashedAt(id) === null && group.machine(id).appliedIndex === group.machine(leader).appliedIndex,
    10_000,
  );
  assert.ok(
    caughtUp,
    `${context}: member ${id} applied ${group.machine(id).appliedIndex}, ` +
      `leader ${leader} ${group.machine(leader).appliedIndex}; failures: ${group.failures.join('; ')}`,
  );
}

/** Every engine entry (data, dedup table, applied position) equal to the leader's, and the data what was written. */
async function assertSameState(
  group: DiskKvGroup,
  id: NodeId,
  leader: NodeId,
  expected: ReadonlyMap<string, Uint8Array>,
  context: string,
): Promise<void> {
  assert.equal(group.machine(id).appliedIndex, group.machine(leader).appliedIndex, context);
  assert.deepEqual(await group.engineContents(id), await group.engineContents(leader), context);
  const expectedLines = [...expected]
    .map(([key, value]) => ({ key: dataKey(utf8(key)), value }))
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ key, value }) => engineLine(key, value));
  assert.deepEqual(await group.engineContents(id, DATA_RANGE), expectedLines, context);
}

function assertOk(reply: KvReply, context: string): void {
  assert.ok(reply.ok, `${context}: a write failed: ${reply.ok ? '' : reply.error.message}`);
}

/** `count` arrays of seeded random bytes: incompressible, and the same run after run. */
function seededBytes(seed: number, count: number, length: number): Uint8Array[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => {
    const words = new Uint32Array(Math.ceil(length / 4)).map(() => random.int(0x1_0000_0000));
    return new Uint8Array(words.buffer, 0, length);
  });
}
