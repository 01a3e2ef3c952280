import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvReply, KvWriteCommand } from '../../../src/kv/commands.js';
import { utf8 } from '../../../src/kv/commands.js';
import { DedupTable } from '../../../src/kv/dedup-table.js';
import type { DedupEntry } from '../../../src/kv/keyspace.js';
import { MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { KvStateMachine } from '../../../src/kv/state-machine.js';
import { applyNext, collectChunks, dumpEngine, streamOf, textOf } from './kv-fixtures.js';

/** A client as the client library is one: every write stamped with its clock, which moves on by 1 ms a write. */
class StampedClient {
  private sequence = 0;

  constructor(
    readonly clientId: string,
    private clockMs: number,
  ) {}

  append(key: string, value: string): KvWriteCommand {
    this.sequence += 1;
    this.clockMs += 1;
    return {
      type: 'append',
      clientId: this.clientId,
      sequence: this.sequence,
      nowMs: this.clockMs,
      key: utf8(key),
      value: utf8(value),
    };
  }
}

function entry(lastSeenIndex: number, stampMsMax: number): DedupEntry {
  return { lastSequence: 1, lastReply: { ok: true }, lastSeenIndex, stampMsMax };
}

function errorCodeOf(reply: KvReply): string {
  return reply.ok ? 'ok' : reply.error.code;
}

/** Applies one write of each of `count` new clients, whose clocks start at `clockMs`. */
async function churn(machine: KvStateMachine, count: number, clockMs: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const reply = await applyNext(machine, new StampedClient(`churn-${clockMs}-${n}`, clockMs + n).append('c', '.'));
    assert.equal(errorCodeOf(reply), 'ok');
  }
}

describe('DedupTable bounded by count', () => {
  it('a new client over clientsMax evicts the least recently seen one, and a returning client is not new', () => {
    const table = new DedupTable({ idleEntriesMax: 1_000, clientsMax: 3 });
    assert.deepEqual(table.record('a', entry(1, 10)), []);
    assert.deepEqual(table.record('b', entry(2, 20)), []);
    assert.deepEqual(table.record('c', entry(3, 30)), []);
    // a is seen again: now b is the least recently seen.
    assert.deepEqual(table.record('a', entry(4, 40)), []);
    assert.deepEqual(table.record('d', entry(5, 50)), ['b']);
    assert.deepEqual(table.record('e', entry(6, 60)), ['c']);
    assert.deepEqual(
      [...table.entries()].map(([clientId]) => clientId),
      ['a', 'd', 'e'],
    );
    // The floor is the newest clock among the evicted clients' requests.
    assert.equal(table.stampMsFloor, 30);
  });

  it('loads entries in any order into the same table, ties broken by id, the floor apart', () => {
    const stored: [string, DedupEntry][] = [
      ['y', entry(7, 1)],
      ['\u0000floor', entry(0, 99)],
      ['x', entry(7, 1)],
      ['w', entry(3, 1)],
    ];
    const forward = new DedupTable({ idleEntriesMax: 1_000, clientsMax: 10 }, stored);
    const backward = new DedupTable({ idleEntriesMax: 1_000, clientsMax: 10 }, [...stored].reverse());
    const ids = (table: DedupTable): string[] => [...table.entries()].map(([clientId]) => clientId);
    assert.deepEqual(ids(forward), ['w', 'x', 'y']);
    assert.deepEqual(ids(backward), ['w', 'x', 'y']);
    assert.equal(forward.stampMsFloor, 99);
    assert.equal(forward.record('z', entry(8, 1)).length, 0);
  });

  it('refuses limits that are not positive integers', () => {
    assert.throws(() => new DedupTable({ idleEntriesMax: 10, clientsMax: 0 }), /dedup clientsMax must be a positive/);
  });
});

describe('KvStateMachine with a bounded dedup table', () => {
  it('holds at most dedupClientsMax clients, in the engine too, however many connect', async () => {
    const engine = new MemoryKvEngine();
    const machine = await KvStateMachine.open(engine, { dedupClientsMax: 5 });
    await churn(machine, 50, 1_000);
    assert.equal(machine.dedupEntries().length, 5);
    const dedupRecords = (await dumpEngine(engine)).filter(([key]) => key.startsWith('0002'));
    // The five clients and the floor's record.
    assert.equal(dedupRecords.length, 6);
  });

  it('a client evicted after its write was applied gets sessionExpired for the retry, never a second apply', async () => {
    const machine = await KvStateMachine.open(new MemoryKvEngine(), { dedupClientsMax: 3 });
    const alice = new StampedClient('alice', 1_000);
    const write = alice.append('k', 'x');
    assert.equal(errorCodeOf(await applyNext(machine, write)), 'ok');
    // Three new clients start after alice's write: she is the least recently seen, and goes.
    await churn(machine, 3, 2_000);
    assert.equal(machine.dedupEntry('alice'), undefined);

    // Her retry (the same bytes: same sequence, same clock) is refused, and says what happened.
    const retry = await applyNext(machine, write);
    assert.equal(errorCodeOf(retry), 'sessionExpired');
    assert.match(retry.ok ? '' : retry.error.message, /no longer remembers this client.*read the key to check/);
    assert.equal(textOf(machine.get(utf8('k'))), 'x', 'applied once');
    // A second copy of the retry in the log gets the same answer.
    assert.equal(errorCodeOf(await applyNext(machine, write)), 'sessionExpired');

    // Her next request is new, stamped later than anything dropped: it is applied.
    assert.equal(errorCodeOf(await applyNext(machine, alice.append('k', 'y'))), 'ok');
    assert.equal(textOf(machine.get(utf8('k'))), 'xy');
  });

  it("a sharded client's request (its sequences here need not start at 1) is refused after its entry is evicted", async () => {
    // As a sharded client is seen by a group: its sequences there need not start at 1.
    const machine = await KvStateMachine.open(new MemoryKvEngine(), { dedupClientsMax: 2 });
    const bob = new StampedClient('bob', 5_000);
    bob.append('elsewhere', 'skipped'); // sequence 1 went to another group
    const second = bob.append('k', 'b');
    assert.equal(second.sequence, 2);
    assert.equal(errorCodeOf(await applyNext(machine, second)), 'ok', 'an unknown client with a new stamp is applied');
    await churn(machine, 2, 6_000);
    assert.equal(errorCodeOf(await applyNext(machine, second)), 'sessionExpired');
    assert.equal(textOf(machine.get(utf8('k'))), 'b');
  });

  it('a client that expired by idleness is refused the same way', async () => {
    const machine = await KvStateMachine.open(new MemoryKvEngine(), { dedupIdleEntriesMax: 3 });
    const carol = new StampedClient('carol', 100);
    const write = carol.append('k', 'c');
    await applyNext(machine, write);
    for (let index = 2; index <= 5; index++) await machine.skip(index, 1);
    assert.equal(machine.dedupEntry('carol'), undefined);
    assert.equal(errorCodeOf(await applyNext(machine, write)), 'sessionExpired');
    assert.equal(textOf(machine.get(utf8('k'))), 'c');
  });

  it('replicas that restore a snapshot or restart evict the same clients at the same index as one that did not', async () => {
    const options = { dedupClientsMax: 4 };
    const original = await KvStateMachine.open(new MemoryKvEngine(), options);
    await churn(original, 10, 1_000);
    const snapshot = await collectChunks(original.snapshot());

    const restored = await KvStateMachine.open(new MemoryKvEngine(), options);
    await restored.restoreFromSnapshot(streamOf(snapshot));
    const restartedEngine = new MemoryKvEngine();
    const beforeRestart = await KvStateMachine.open(restartedEngine, options);
    await beforeRestart.restoreFromSnapshot(streamOf(snapshot));
    const restarted = await KvStateMachine.open(restartedEngine, options);

    const machines = [original, restored, restarted];
    // The same entries, then the same evictions and refusals as the log goes on.
    const late = new StampedClient('late', 900); // a clock behind the dropped clients': refused while unknown
    const commands = [
      new StampedClient('dave', 3_000).append('d', '1'),
      late.append('l', '1'),
      new StampedClient('erin', 3_100).append('e', '1'),
    ];
    for (const command of commands) {
      const replies = await Promise.all(machines.map((machine) => applyNext(machine, command)));
      assert.deepEqual(
        replies.map(errorCodeOf),
        replies.map(() => errorCodeOf(replies[0]!)),
      );
    }
    const tables = machines.map((machine) => machine.dedupEntries());
    assert.deepEqual(tables[1], tables[0]);
    assert.deepEqual(tables[2], tables[0]);
    assert.deepEqual(
      tables[0]!.map(([clientId]) => clientId),
      ['churn-1000-9', 'dave', 'late', 'erin'],
    );
  });
});
