import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../../../src/raft/index.js';
import type { SnapshotFiles } from '../../../src/node/index.js';
import { NodeError } from '../../../src/node/index.js';
import type { ApplyEntry } from '../../../src/node/index.js';
import { ListMachine } from '../../support/list-machine.js';
import { NodeGroup } from '../../support/node-group.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Three members over `machine`'s machines, a leader elected, and one entry ('warm') applied. */
async function warmedGroup<M extends ListMachine>(seed: number, machine: () => M) {
  const group = new NodeGroup(seed, [1, 2, 3], {}, { open: () => Promise.resolve(machine()) });
  await group.startAll();
  const leader = await group.electLeader();
  await group.await(leader.propose(encode('warm')));
  return { group, leader };
}

describe('RaftNode', () => {
  for (const seed of [1, 2, 3]) {
    it(`replicates proposals, replies once applied, and every member applies the same list (seed ${seed})`, async () => {
      const group = new NodeGroup(seed, [1, 2, 3]);
      await group.startAll();
      const leader = await group.electLeader();
      const replies: unknown[] = [];
      for (let k = 0; k < 20; k++) replies.push(await group.await(leader.propose(encode(`v${k}`))));
      assert.deepEqual(
        replies,
        Array.from({ length: 20 }, (_, k) => k + 1),
      );
      await group.runUntil(() => group.ids.every((id) => group.machine(id).items.length === 20), 2000);
      for (const id of group.ids)
        assert.deepEqual(
          group.machine(id).items,
          replies.map((_, k) => `v${k}`),
        );
      assert.deepEqual(group.failures, []);
    });
  }

  it('a follower refuses proposals with the leader to retry on', async () => {
    const group = new NodeGroup(4, [1, 2, 3]);
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('x')));
    const follower = group.node(group.ids.find((id) => id !== leader.id)!);
    await assert.rejects(follower.propose(encode('y')), (error: unknown) => {
      assert.ok(error instanceof NodeError);
      assert.equal(error.code, 'notLeader');
      assert.equal(error.leader, leader.id);
      return true;
    });
  });

  it('a read barrier on any member waits until that member has applied every earlier write', async () => {
    const group = new NodeGroup(5, [1, 2, 3]);
    await group.startAll();
    const leader = await group.electLeader();
    for (let k = 0; k < 5; k++) await group.await(leader.propose(encode(`w${k}`)));
    for (const id of group.ids) {
      await group.await(group.node(id).readBarrier());
      assert.equal(group.machine(id).items.length, 5, `node ${id} read before applying every write`);
    }
  });

  it('reads and proposals made in one event-loop turn share one heartbeat round and one append per follower', async () => {
    const group = new NodeGroup(13, [1, 2, 3]);
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('first')));
    await group.runFor(100); // everything about 'first' delivered
    const sent: Message[] = [];
    group.network.onDeliver = (message) => {
      if (message.from === leader.id) sent.push(message);
    };
    // Ten reads and ten writes from one turn, as from connections that all had data when the loop polled.
    const reads = Array.from({ length: 10 }, () => leader.readBarrier());
    const writes = Array.from({ length: 10 }, (_, k) => leader.propose(encode(`w${k}`)));
    await group.await(Promise.all([...reads, ...writes]));
    await group.runFor(100); // the slower follower's copy delivered too
    const rounds = new Set(sent.map((m) => (m.type === 'heartbeat' ? m.readContext : null)).filter((c) => c !== null));
    assert.equal(rounds.size, 1, `one read round confirms all ten reads, not one round per read (seed ${group.seed})`);
    const appends = sent.filter((m) => m.type === 'append' && m.entries.length > 0);
    assert.equal(appends.length, 2, `one append with the ten writes to each follower (seed ${group.seed})`);
    for (const append of appends) assert.ok(append.type === 'append' && append.entries.length === 10);
  });

  it('a leader that loses its majority rejects pending proposals as outcome unknown', async () => {
    const group = new NodeGroup(6, [1, 2, 3]);
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('before')));
    group.network.partition([[leader.id], group.ids.filter((id) => id !== leader.id)]);
    await assert.rejects(group.await(leader.propose(encode('lost?'))), (error: unknown) => {
      assert.ok(error instanceof NodeError);
      assert.ok(error.code === 'outcomeUnknown' || error.code === 'timeout', error.code);
      return true;
    });
  });

  it('members restart from their stores and go on; a member far behind catches up by snapshot', async () => {
    const group = new NodeGroup(7, [1, 2, 3], { snapshotEveryEntries: 10 });
    await group.startAll();
    let leader = await group.electLeader();
    for (let k = 0; k < 15; k++) await group.await(leader.propose(encode(`a${k}`)));
    const lagging = group.ids.find((id) => id !== leader.id)!;
    await group.crash(lagging);
    for (let k = 0; k < 40; k++) await group.await(leader.propose(encode(`b${k}`)));
    // Everyone restarts: the two up to date ones from snapshot + log, the laggard from its old state.
    for (const id of group.ids) await group.crash(id);
    for (const id of group.ids) await group.start(id);
    leader = await group.electLeader();
    await group.await(leader.propose(encode('after')));
    const expected = [
      ...Array.from({ length: 15 }, (_, k) => `a${k}`),
      ...Array.from({ length: 40 }, (_, k) => `b${k}`),
      'after',
    ];
    const caughtUp = await group.runUntil(
      () => group.ids.every((id) => group.machine(id).items.length === expected.length),
      5000,
    );
    assert.ok(caughtUp, group.ids.map((id) => `${id}: ${group.machine(id).items.length}`).join(', '));
    for (const id of group.ids) assert.deepEqual(group.machine(id).items, expected);
    assert.ok(group.disks.get(lagging)!.snapshots.snapshots.size > 0, 'the laggard never received a snapshot');
    assert.deepEqual(group.failures, []);
  });

  it('goes on committing while a snapshot is written, then compacts its log up to it', async () => {
    // Every member's snapshot writes wait at a gate, as a large store's would take seconds.
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let writesStarted = 0;
    const group = new NodeGroup(8, [1, 2, 3], {
      snapshotEveryEntries: 10,
      snapshotCatchUpEntries: 2,
      wrapSnapshots: (_id, store) =>
        Object.assign(Object.create(store) as SnapshotFiles, {
          async write(...args: Parameters<SnapshotFiles['write']>) {
            writesStarted += 1;
            await gate;
            return store.write(...args);
          },
        }),
    });
    await group.startAll();
    const leader = await group.electLeader();
    for (let k = 0; k < 12; k++) await group.await(leader.propose(encode(`a${k}`)));
    assert.ok(writesStarted >= 1, 'no snapshot was started after 12 entries with snapshots every 10');
    // The snapshot write hangs; proposals still commit, and nobody loses the leader.
    for (let k = 0; k < 30; k++) await group.await(leader.propose(encode(`b${k}`)));
    assert.equal(group.leader(), leader);
    const logBefore = group.disks.get(leader.id)!.log.entries.length;
    assert.ok(logBefore >= 42, `the log was compacted before any snapshot was written (${logBefore} entries)`);

    openGate();
    await group.await(leader.propose(encode('after')));
    await group.runFor(500);
    const logAfter = group.disks.get(leader.id)!.log.entries.length;
    assert.ok(logAfter < logBefore, `the log kept ${logAfter} entries after the snapshot was written`);
    for (const id of group.ids) assert.equal(group.machine(id).items.length, 43);
    assert.deepEqual(group.failures, []);
  });

  it('a leader sends new entries while its own write is in flight; a commit still needs a majority of durable copies', async () => {
    // Log writes of the members in `held` wait at a gate, as a slow fsync would.
    const held = new Set<number>();
    let gate = Promise.resolve();
    const group = new NodeGroup(9, [1, 2, 3], {
      wrapLog: (id, store) => {
        const append = store.append.bind(store);
        store.append = async (entries) => {
          if (held.has(id)) await gate;
          return append(entries);
        };
        return store;
      },
    });
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('warm')));
    const followers = group.ids.filter((id) => id !== leader.id);

    const hold = (): (() => void) => {
      let open: () => void = () => undefined;
      gate = new Promise<void>((resolve) => (open = resolve));
      held.add(leader.id);
      return () => {
        held.delete(leader.id);
        open();
      };
    };
    const logged = (id: number, index: number): boolean =>
      group.disks.get(id)!.log.entries.some((entry) => entry.index === index);
    // Shorter than an election timeout: a leader stuck in its own write that long would be replaced.
    const whileHeldMs = 60;

    // The leader's own write hangs, yet both followers get the entry, and their two copies commit it.
    let release = hold();
    const first = leader.propose(encode('while-the-leader-writes'));
    const firstIndex = leader.core.lastIndex;
    await group.runFor(whileHeldMs);
    assert.ok(
      followers.every((id) => logged(id, firstIndex)),
      'the followers have the entry while the leader writes it',
    );
    assert.equal(leader.core.stableIndex, firstIndex - 1, "the leader's own write of the entry is still in flight");
    assert.equal(leader.core.commitIndex, firstIndex, 'two durable copies of three commit it');
    release();
    assert.equal(await group.await(first), 2);

    // One follower down: the other's copy alone is not a majority until the leader's own write lands.
    await group.crash(followers[0]!);
    release = hold();
    const second = leader.propose(encode('needs-the-leader'));
    const secondIndex = leader.core.lastIndex;
    await group.runFor(whileHeldMs);
    assert.ok(logged(followers[1]!, secondIndex), 'the remaining follower has the entry');
    assert.equal(leader.core.commitIndex, firstIndex, 'committed with one durable copy of three');
    release();
    assert.equal(await group.await(second), 3);
    assert.equal(leader.core.commitIndex, secondIndex);
    assert.deepEqual(group.failures, []);
  });

  it('a proposal and a read that cannot be answered are rejected as timed out after the request timeout, not before', async () => {
    // The leader's applies hang from now on: its entries commit, but nothing is ever answered.
    let held = false;
    const never = new Promise<never>(() => undefined);
    class HeldMachine extends ListMachine {
      override async applyBatch(entries: readonly ApplyEntry[]): Promise<unknown[]> {
        if (held) await never;
        return super.applyBatch(entries);
      }
    }
    const { group, leader } = await warmedGroup(11, () => new HeldMachine());
    held = true;
    const outcomes: string[] = [];
    const codeOf = (error: unknown): string => (error instanceof NodeError ? error.code : String(error));
    const proposal = leader.propose(encode('stuck')).then(
      () => outcomes.push('applied'),
      (error: unknown) => outcomes.push(`proposal ${codeOf(error)}`),
    );
    await group.runFor(100);
    const read = leader.readBarrier().then(
      () => outcomes.push('read'),
      (error: unknown) => outcomes.push(`read ${codeOf(error)}`),
    );
    // The default request timeout is 5 s.
    await group.runFor(4800);
    assert.deepEqual(outcomes, [], 'a request was settled before its timeout');
    await group.runFor(400);
    await proposal;
    await read;
    assert.deepEqual(outcomes, ['proposal timeout', 'read timeout']);
    assert.equal(leader.core.role, 'leader');
  });

  it('a machine that decides its replies before its write is done has its writers answered then; reads wait for the write', async () => {
    // Every member's machine decides at once, then holds its write while `held`, as LevelDB's write in the thread pool.
    let held = false;
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    class EarlyReplyMachine extends ListMachine {
      override async applyBatch(
        entries: readonly ApplyEntry[],
        decided?: (replies: readonly unknown[]) => void,
      ): Promise<unknown[]> {
        if (!held) return super.applyBatch(entries);
        decided?.(entries.map((entry, k) => (entry.command === null ? undefined : this.items.length + k + 1)));
        await gate;
        return super.applyBatch(entries);
      }
    }
    const { group, leader } = await warmedGroup(14, () => new EarlyReplyMachine());
    held = true;
    let reply: unknown = null;
    void leader.propose(encode('early')).then((answer) => (reply = answer));
    assert.ok(await group.runUntil(() => reply !== null, 1000), `the writer was not answered (seed ${group.seed})`);
    assert.equal(reply, 2);
    assert.deepEqual(group.machine(leader.id).items, ['warm'], 'the write is still held');
    let readDone = false;
    void leader.readBarrier().then(() => (readDone = true));
    await group.runFor(1000);
    assert.equal(readDone, false, 'a read was let through before the write it must see');
    openGate();
    assert.ok(await group.runUntil(() => readDone, 1000), `the read never went through (seed ${group.seed})`);
    assert.deepEqual(group.machine(leader.id).items, ['warm', 'early']);
  });

  it('a state machine slow to apply does not hold up the next log write and send; replies and reads wait for the apply', async () => {
    // Every member's applies wait at a gate while `held`, as a LevelDB write under load would.
    let held = false;
    let gate = Promise.resolve();
    let openGate: () => void = () => undefined;
    class HeldMachine extends ListMachine {
      override async applyBatch(entries: readonly ApplyEntry[]): Promise<unknown[]> {
        if (held) await gate;
        return super.applyBatch(entries);
      }
    }
    const group = new NodeGroup(10, [1, 2, 3], {}, { open: () => Promise.resolve(new HeldMachine()) });
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('warm')));
    const logged = (id: number, index: number): boolean =>
      group.disks.get(id)!.log.entries.some((entry) => entry.index === index);

    held = true;
    gate = new Promise<void>((resolve) => (openGate = resolve));
    let settled = 0;
    const first = leader.propose(encode('first')).finally(() => settled++);
    const firstIndex = leader.core.lastIndex;
    await group.runUntil(() => leader.core.commitIndex === firstIndex, 60);
    assert.equal(leader.core.commitIndex, firstIndex, 'the first entry commits');
    const read = leader.readBarrier().finally(() => settled++);

    // The first entry's apply hangs everywhere; the second is still written, sent, acknowledged and committed.
    const second = leader.propose(encode('second')).finally(() => settled++);
    const secondIndex = leader.core.lastIndex;
    await group.runFor(60);
    assert.equal(leader.core.stableIndex, secondIndex, "the leader's own write of the second entry is done");
    assert.ok(
      group.ids.every((id) => logged(id, secondIndex)),
      'every member logged the second entry',
    );
    assert.equal(leader.core.commitIndex, secondIndex, 'the second entry committed while the first was applying');
    assert.equal(settled, 0, 'a reply or a read was released before its entry was applied');
    assert.deepEqual(group.machine(leader.id).items, ['warm']);

    held = false;
    openGate();
    assert.equal(await group.await(first), 2);
    assert.equal(await group.await(second), 3);
    await group.await(read);
    assert.deepEqual(group.machine(leader.id).items, ['warm', 'first', 'second']);
    await group.runUntil(() => group.ids.every((id) => group.machine(id).items.length === 3), 1000);
    for (const id of group.ids) assert.deepEqual(group.machine(id).items, ['warm', 'first', 'second']);
    assert.deepEqual(group.failures, []);
  });

  it("a commit learnt while the leader's next log write is in flight is applied and answered without waiting for it", async () => {
    // Log writes of the members in `held` wait at that member's gate, as a slow fsync would.
    const gates = new Map<number, { promise: Promise<void>; open: () => void }>();
    const group = new NodeGroup(11, [1, 2, 3], {
      wrapLog: (id, store) => {
        const append = store.append.bind(store);
        store.append = async (entries) => {
          const gate = gates.get(id);
          if (gate !== undefined) await gate.promise;
          return append(entries);
        };
        return store;
      },
    });
    const hold = (id: number): void => {
      let open: () => void = () => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gates.set(id, { promise, open });
    };
    const release = (id: number): void => {
      gates.get(id)?.open();
      gates.delete(id);
    };
    await group.startAll();
    const leader = await group.electLeader();
    await group.await(leader.propose(encode('warm')));
    const followers = group.ids.filter((id) => id !== leader.id);

    // The followers are slow to write the first entry; the leader has it on disk at once.
    for (const id of followers) hold(id);
    let firstSettled = false;
    const first = leader.propose(encode('first')).finally(() => (firstSettled = true));
    const firstIndex = leader.core.lastIndex;
    await group.runFor(20);
    assert.equal(leader.core.stableIndex, firstIndex);
    // Now the leader is slow to write the second, and the followers' acknowledgements of the first arrive meanwhile.
    hold(leader.id);
    const second = leader.propose(encode('second'));
    const secondIndex = leader.core.lastIndex;
    await group.runFor(5);
    for (const id of followers) release(id);
    await group.runFor(40);
    assert.equal(leader.core.stableIndex, secondIndex - 1, "the leader's write of the second entry is in flight");
    assert.ok(firstSettled, 'the first entry waited for the write of the second before its reply');
    assert.equal(await first, 2);

    release(leader.id);
    assert.equal(await group.await(second), 3);
    await group.runUntil(() => group.ids.every((id) => group.machine(id).items.length === 3), 1000);
    for (const id of group.ids) assert.deepEqual(group.machine(id).items, ['warm', 'first', 'second']);
    assert.deepEqual(group.failures, []);
  });

  it('snapshots by the bytes of commands applied, however many entries carried them', async () => {
    const group = new NodeGroup(12, [1, 2, 3], { snapshotEveryBytes: 4000 });
    await group.startAll();
    const leader = await group.electLeader();
    const snapshotIndex = (): number => Math.max(0, ...group.disks.get(leader.id)!.snapshots.snapshots.keys());
    // 200 commands of 10 bytes: 2,000 bytes, half the threshold, and no snapshot.
    for (let k = 0; k < 200; k++) await group.await(leader.propose(encode(`small-${String(k).padStart(4, '0')}`)));
    await group.runFor(200);
    assert.equal(snapshotIndex(), 0, 'a snapshot was taken by the number of entries');
    // 3 commands of 1,000 bytes pass it.
    for (let k = 0; k < 3; k++) await group.await(leader.propose(encode('x'.repeat(1000))));
    const taken = await group.runUntil(() => snapshotIndex() > 200, 1000);
    assert.ok(taken, `no snapshot after 5,000 bytes of commands (latest at ${snapshotIndex()})`);
    assert.deepEqual(group.failures, []);
  });
});
