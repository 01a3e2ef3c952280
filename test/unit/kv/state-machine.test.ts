import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { encodeCommand } from '../../../src/kv/command-codec.js';
import type { KvReply } from '../../../src/kv/commands.js';
import { KEY_BYTES_MAX, utf8, VALUE_BYTES_MAX } from '../../../src/kv/commands.js';
import type { EngineWrite, EngineWriteOptions, KvEngine } from '../../../src/kv/engine.js';
import { DEDUP_FLOOR_CLIENT_ID } from '../../../src/kv/dedup-table.js';
import { dedupKey } from '../../../src/kv/keyspace.js';
import { LevelKvEngine } from '../../../src/kv/level-engine.js';
import { MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { KvStateMachine } from '../../../src/kv/state-machine.js';
import { StoreFailedError } from '../../../src/storage/errors.js';
import { applyNext, dumpEngine, inTempDirectory, TestClient, textOf } from './kv-fixtures.js';

async function freshMachine(options = {}): Promise<{ machine: KvStateMachine; engine: MemoryKvEngine }> {
  const engine = new MemoryKvEngine();
  return { machine: await KvStateMachine.open(engine, options), engine };
}

function errorCode(reply: KvReply): string | null {
  return reply.ok ? null : reply.error.code;
}

describe('KvStateMachine applies commands', () => {
  it('put, get, append, delete: the values and replies Redis users expect', async () => {
    const { machine } = await freshMachine();
    const client = new TestClient('alice');
    assert.deepEqual(await applyNext(machine, client.put('k', 'v1')), { ok: true });
    assert.equal(textOf(machine.get(utf8('k'))), 'v1');
    assert.deepEqual(await applyNext(machine, client.append('k', '+2')), { ok: true, valueBytes: 4 });
    assert.deepEqual(await applyNext(machine, client.append('fresh', 'abc')), { ok: true, valueBytes: 3 });
    assert.equal(textOf(machine.get(utf8('k'))), 'v1+2');
    assert.equal(textOf(await applyNext(machine, { type: 'get', key: utf8('fresh') })), 'abc');
    assert.deepEqual(await applyNext(machine, client.delete('k')), { ok: true, existed: true });
    assert.deepEqual(await applyNext(machine, client.delete('k')), { ok: true, existed: false });
    assert.equal(textOf(machine.get(utf8('k'))), null);
    assert.equal(machine.appliedIndex, 6);
  });

  it('cas writes only when the current value is the expected one, null meaning absent', async () => {
    const { machine } = await freshMachine();
    const client = new TestClient('alice');
    assert.deepEqual(await applyNext(machine, client.cas('k', null, 'first')), { ok: true });
    assert.equal(errorCode(await applyNext(machine, client.cas('k', null, 'second'))), 'casMismatch');
    assert.equal(errorCode(await applyNext(machine, client.cas('k', 'wrong', 'second'))), 'casMismatch');
    assert.equal(errorCode(await applyNext(machine, client.cas('absent', 'x', 'y'))), 'casMismatch');
    assert.equal(textOf(machine.get(utf8('k'))), 'first');
    assert.equal(textOf(machine.get(utf8('absent'))), null);
    assert.deepEqual(await applyNext(machine, client.cas('k', 'first', 'second')), { ok: true });
    assert.equal(textOf(machine.get(utf8('k'))), 'second');
  });

  it('hands its replies to the node before the engine write is done, and counts the entries applied only after it', async () => {
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    class HeldEngine extends MemoryKvEngine {
      override async write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
        await gate;
        return super.write(batch, options);
      }
    }
    const machine = await KvStateMachine.open(new HeldEngine());
    const alice = new TestClient('alice');
    let decided: readonly (KvReply | undefined)[] | null = null;
    const applied = machine.applyBatch(
      [
        { index: 1, term: 1, command: encodeCommand(alice.put('k', 'v')) },
        { index: 2, term: 1, command: encodeCommand(alice.append('k', 'w')) },
      ],
      (replies) => (decided = replies),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(decided, [{ ok: true }, { ok: true, valueBytes: 2 }], 'the replies come before the write');
    assert.equal(machine.appliedIndex, 0, 'reads must not see the batch before its write is done');
    openGate();
    assert.deepEqual(await applied, decided);
    assert.equal(machine.appliedIndex, 2);
    assert.equal(textOf(machine.get(utf8('k'))), 'vw');
  });

  it('a cas mismatch says what to do', async () => {
    const { machine } = await freshMachine();
    const reply = await applyNext(machine, new TestClient('a').cas('k', 'x', 'y'));
    assert.ok(!reply.ok);
    assert.match(reply.error.message, /not the expected one.*read the key again and retry/);
  });

  it('user keys cannot reach the bookkeeping, whatever their bytes', async () => {
    const engine = new MemoryKvEngine();
    const machine = await KvStateMachine.open(engine);
    const client = new TestClient('alice');
    // These user keys are the engine keys of the applied position and the restore marker.
    for (const key of [Uint8Array.of(0, 1), Uint8Array.of(0, 0), new Uint8Array(0)]) {
      await applyNext(machine, client.put(key, 'x'));
    }
    const reopened = await KvStateMachine.open(engine);
    assert.equal(reopened.appliedIndex, 3);
    assert.equal(textOf(reopened.get(Uint8Array.of(0, 1))), 'x');
    assert.equal(textOf(reopened.get(new Uint8Array(0))), 'x');
  });
});

describe('KvStateMachine applies each request exactly once', () => {
  it('a duplicate sequence gets the first reply and is not applied again', async () => {
    const { machine } = await freshMachine();
    const append = new TestClient('alice').append('k', 'x');
    const first = await applyNext(machine, append);
    const retry = await applyNext(machine, append);
    assert.deepEqual(first, { ok: true, valueBytes: 1 });
    assert.deepEqual(retry, first);
    assert.equal(textOf(machine.get(utf8('k'))), 'x');
    assert.equal(machine.dedupEntry('alice')?.lastSeenIndex, 2);
  });

  it('a duplicate gets the first reply even when applying it now would answer differently', async () => {
    const { machine } = await freshMachine();
    const alice = new TestClient('alice');
    const casThatFails = alice.cas('k', 'v', 'w');
    assert.equal(errorCode(await applyNext(machine, casThatFails)), 'casMismatch');
    await applyNext(machine, new TestClient('bob').put('k', 'v'));
    // Now the cas would succeed; the retry must still report the failure it had, and write nothing.
    assert.equal(errorCode(await applyNext(machine, casThatFails)), 'casMismatch');
    assert.equal(textOf(machine.get(utf8('k'))), 'v');
  });

  it('an older sequence is refused with staleSequence and changes nothing', async () => {
    const { machine } = await freshMachine();
    const alice = new TestClient('alice');
    const first = alice.append('k', 'a');
    await applyNext(machine, first);
    await applyNext(machine, alice.append('k', 'b'));
    const reply = await applyNext(machine, first);
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'staleSequence');
    assert.match(reply.error.message, /sequence 1 is older than this client's last applied sequence 2/);
    assert.equal(textOf(machine.get(utf8('k'))), 'ab');
    assert.equal(machine.dedupEntry('alice')?.lastSequence, 2);
  });

  it('clients are deduplicated independently of each other', async () => {
    const { machine } = await freshMachine();
    const alice = new TestClient('alice');
    const bob = new TestClient('bob');
    await applyNext(machine, alice.append('k', 'a'));
    await applyNext(machine, bob.append('k', 'b'));
    assert.equal(textOf(machine.get(utf8('k'))), 'ab');
    assert.deepEqual(
      machine.dedupEntries().map(([clientId, entry]) => [clientId, entry.lastSequence, entry.lastSeenIndex]),
      [
        ['alice', 1, 1],
        ['bob', 1, 2],
      ],
    );
  });
});

describe('KvStateMachine expires idle clients by log index', () => {
  it('drops a client idle for more than dedupIdleEntriesMax entries at exactly that index', async () => {
    const { machine, engine } = await freshMachine({ dedupIdleEntriesMax: 10 });
    const alice = new TestClient('alice');
    const append = alice.append('k', 'a');
    await applyNext(machine, append); // index 1
    for (let index = 2; index <= 11; index++) await machine.skip(index, 1);
    // Index 11: idle for 10 entries, still remembered; a retry now is still caught.
    assert.equal(machine.dedupEntry('alice')?.lastSeenIndex, 1);
    await machine.skip(12, 1);
    assert.equal(machine.dedupEntry('alice'), undefined);
    assert.deepEqual(
      (await dumpEngine(engine)).filter(([key]) => key.startsWith('0002')).map(([key]) => key),
      [Buffer.from(dedupKey(DEDUP_FLOOR_CLIENT_ID)).toString('hex')],
      'the expired entry is gone from the engine too; only the floor record is left',
    );
    // The documented cost of expiry: a retry this late is applied as new.
    assert.deepEqual(await applyNext(machine, append), { ok: true, valueBytes: 2 });
  });

  it('two replicas expire the same clients at the same indexes: lastSeenIndex + N + 1', async () => {
    const replicas = [await freshMachine({ dedupIdleEntriesMax: 3 }), await freshMachine({ dedupIdleEntriesMax: 3 })];
    const clients = ['a', 'b', 'c', 'd'].map((id) => new TestClient(id));
    // Requests of clients 0..3 and noops (-1) at indexes 1..16.
    const pattern = [0, 1, -1, 2, 0, -1, -1, 3, -1, 0, -1, -1, -1, -1, 1, 2];
    const commands = pattern.map((client) => (client === -1 ? null : clients[client]!.put(`k${client}`, 'v')));
    const tables: string[][] = [[], []];
    for (const [replicaIndex, { machine }] of replicas.entries()) {
      for (const command of commands) {
        if (command === null) await machine.skip(machine.appliedIndex + 1, 1);
        else await applyNext(machine, command);
        const table = machine.dedupEntries().map(([id, entry]) => `${id}@${entry.lastSeenIndex}`);
        tables[replicaIndex]!.push(table.join(','));
      }
    }
    assert.deepEqual(tables[0], tables[1]);
    assert.deepEqual(tables[0], [
      'a@1', // 1
      'a@1,b@2', // 2
      'a@1,b@2', // 3
      'a@1,b@2,c@4', // 4
      'b@2,c@4,a@5', // 5: a, idle for 4, expires first, then its request starts a new entry
      'c@4,a@5', // 6: b expires
      'c@4,a@5', // 7
      'a@5,d@8', // 8: c expires
      'd@8', // 9: a expires
      'd@8,a@10', // 10
      'd@8,a@10', // 11
      'a@10', // 12: d expires
      'a@10', // 13
      '', // 14: a expires
      'b@15', // 15
      'b@15,c@16', // 16
    ]);
  });
});

describe('KvStateMachine rejects bad input and keeps serving', () => {
  it('an oversized key or value gets a clear error and changes no data', async () => {
    const { machine, engine } = await freshMachine();
    const alice = new TestClient('alice');
    await applyNext(machine, alice.put('k', 'small'));
    const dataBefore = (await dumpEngine(engine)).filter(([key]) => key.startsWith('01'));

    const longKey = 'x'.repeat(KEY_BYTES_MAX + 1);
    const keyReply = await applyNext(machine, alice.put(longKey, 'v'));
    assert.ok(!keyReply.ok && keyReply.error.code === 'keyTooLarge');
    assert.match(keyReply.error.message, /a key of 4097 bytes is over the limit of 4096 bytes; use a shorter key/);

    const bigValue = new Uint8Array(VALUE_BYTES_MAX + 1);
    const valueReply = await applyNext(machine, alice.put('k', bigValue));
    assert.ok(!valueReply.ok && valueReply.error.code === 'valueTooLarge');
    assert.match(valueReply.error.message, /would be 1048577 bytes, over the limit of 1048576 bytes; split it/);

    const appendReply = await applyNext(machine, alice.append('k', new Uint8Array(VALUE_BYTES_MAX)));
    assert.ok(!appendReply.ok && appendReply.error.code === 'valueTooLarge');
    assert.equal(appendReply.error.valueBytes, VALUE_BYTES_MAX + 5);

    assert.equal(
      errorCode(await applyNext(machine, alice.cas('k', 'small', 'x'.repeat(VALUE_BYTES_MAX + 1)))),
      'valueTooLarge',
    );
    assert.equal(errorCode(machine.get(utf8(longKey))), 'keyTooLarge');
    assert.deepEqual(
      (await dumpEngine(engine)).filter(([key]) => key.startsWith('01')),
      dataBefore,
    );
    assert.equal(machine.appliedIndex, 5);
    // The machine keeps serving.
    assert.deepEqual(await applyNext(machine, alice.append('k', '!')), { ok: true, valueBytes: 6 });
  });

  it('command bytes that do not decode get malformedCommand, advance the index and change nothing', async () => {
    const { machine, engine } = await freshMachine();
    await applyNext(machine, new TestClient('alice').put('k', 'v'));
    const before = await dumpEngine(engine);
    const reply = await machine.apply(2, Uint8Array.of(1, 99));
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'malformedCommand');
    assert.match(reply.error.message, /command kind 99 is unknown/);
    assert.equal(machine.appliedIndex, 2);
    const after = await dumpEngine(engine);
    assert.deepEqual(
      after.filter(([key]) => key !== '0001'),
      before.filter(([key]) => key !== '0001'),
    );
  });

  it('applying out of order, or while another apply runs, is a programmer error', async () => {
    const { machine } = await freshMachine();
    const alice = new TestClient('alice');
    await assert.rejects(machine.apply(2, encodeCommand(alice.put('k', 'v'))), /apply index 2 after 0; out of order/);
    const running = applyNext(machine, alice.put('k', 'v'));
    await assert.rejects(machine.skip(2), /apply of index 2 called while apply is still running; await each call/);
    await running;
    assert.equal(machine.appliedIndex, 1);
  });

  it('an engine write that fails stops the machine until a restart reads back the disk', async () => {
    const engine = new FailingEngine();
    const machine = await KvStateMachine.open(engine);
    await applyNext(machine, new TestClient('alice').put('k', 'v'));
    engine.failWrites = true;
    await assert.rejects(applyNext(machine, new TestClient('bob').put('k', 'w')), StoreFailedError);
    engine.failWrites = false;
    await assert.rejects(machine.skip(2), /failed earlier.*restart the node/);
    assert.throws(() => machine.get(utf8('k')), StoreFailedError);
    const restarted = await KvStateMachine.open(engine);
    assert.equal(restarted.appliedIndex, 1);
    assert.equal(restarted.dedupEntry('bob'), undefined);
  });
});

describe('KvStateMachine on disk', () => {
  it('a restart resumes at the applied index with the dedup table intact', async () => {
    await inTempDirectory(async (directory) => {
      const dataDirectory = path.join(directory, 'kv');
      const alice = new TestClient('alice');
      const bob = new TestClient('bob');
      const retried = alice.append('log', 'a');
      let engine: KvEngine = await LevelKvEngine.open(dataDirectory);
      const machine = await KvStateMachine.open(engine, { dedupIdleEntriesMax: 100 });
      await applyNext(machine, retried, 3);
      await applyNext(machine, bob.put('k', 'v'), 3);
      await applyNext(machine, alice.cas('k', 'nope', 'w'), 4);
      await machine.skip(4, 4);
      const tableBefore = machine.dedupEntries();
      await engine.close();

      engine = await LevelKvEngine.open(dataDirectory);
      try {
        const restarted = await KvStateMachine.open(engine, { dedupIdleEntriesMax: 100 });
        assert.equal(restarted.appliedIndex, 4);
        assert.equal(restarted.appliedTerm, 4);
        assert.deepEqual(restarted.dedupEntries(), tableBefore);
        // An old retry is still recognised after the restart: refused, not applied again.
        assert.equal(errorCode(await applyNext(restarted, retried)), 'staleSequence');
        assert.equal(textOf(restarted.get(utf8('log'))), 'a');
        assert.equal(textOf(restarted.get(utf8('k'))), 'v');
      } finally {
        await engine.close();
      }
    });
  });

  it('a restore cut short by a crash is cleared on open, so the node restores again from index 0', async () => {
    await inTempDirectory(async (directory) => {
      let engine: KvEngine = await LevelKvEngine.open(directory);
      const machine = await KvStateMachine.open(engine);
      await applyNext(machine, new TestClient('alice').put('k', 'v'));
      // What a crash in the middle of a restore leaves: the marker up, part of the state in.
      await engine.write([{ type: 'put', key: Uint8Array.of(0, 0), value: new Uint8Array(0) }], { sync: true });
      await engine.close();
      engine = await LevelKvEngine.open(directory);
      try {
        const reopened = await KvStateMachine.open(engine);
        assert.equal(reopened.appliedIndex, 0);
        assert.deepEqual(await dumpEngine(engine), []);
      } finally {
        await engine.close();
      }
    });
  });
});

/** A memory engine whose writes can be made to fail, as a full disk would make them. */
class FailingEngine extends MemoryKvEngine {
  failWrites = false;

  override write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error('ENOSPC: no space left on device'));
    return super.write(batch, options);
  }
}

describe('KvStateMachine applies batches', () => {
  /** A mixed run of commands: puts, appends on the same keys, a retry, a delete, a cas, a noop. */
  function script(): (Uint8Array | null)[] {
    const alice = new TestClient('alice');
    const bob = new TestClient('bob');
    const first = alice.put('k', 'v');
    const retried = alice.append('k', '-a');
    return [
      encodeCommand(first),
      encodeCommand(retried),
      encodeCommand(retried),
      null,
      encodeCommand(bob.append('k', '-b')),
      encodeCommand(bob.cas('k', 'v-a-b', 'swapped')),
      encodeCommand(bob.delete('gone')),
      encodeCommand(alice.append('other', 'x')),
      encodeCommand({ type: 'get', key: utf8('k') }),
    ];
  }

  it('gives the same replies and the same engine contents as applying one entry at a time', async () => {
    const single = await freshMachine();
    const singleReplies: (KvReply | undefined)[] = [];
    for (const [offset, command] of script().entries()) {
      singleReplies.push(...(await single.machine.applyBatch([{ index: offset + 1, term: 1, command }])));
    }
    const batched = await freshMachine();
    const batchReplies = await batched.machine.applyBatch(
      script().map((command, offset) => ({ index: offset + 1, term: 1, command })),
    );
    assert.deepEqual(batchReplies, singleReplies);
    assert.equal(textOf(batchReplies.at(-1)!), 'swapped', 'a later command did not read what an earlier one wrote');
    assert.deepEqual(
      batchReplies[2],
      batchReplies[1],
      'a retry inside the batch was not answered with the first reply',
    );
    assert.deepEqual(await dumpEngine(batched.engine), await dumpEngine(single.engine));
    assert.equal(batched.machine.appliedIndex, 9);
  });

  it('refuses a batch with a gap before changing anything', async () => {
    const { machine, engine } = await freshMachine();
    const client = new TestClient('alice');
    await assert.rejects(
      machine.applyBatch([
        { index: 1, term: 1, command: encodeCommand(client.put('k', 'v')) },
        { index: 3, term: 1, command: encodeCommand(client.put('k', 'w')) },
      ]),
      /consecutive/,
    );
    assert.equal(machine.appliedIndex, 0);
    assert.equal(machine.dedupEntry('alice'), undefined);
    assert.deepEqual(await dumpEngine(engine), []);
  });
});
