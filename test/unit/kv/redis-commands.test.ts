/**
 * The state machine commands behind Redis's conditional, expiring and
 * read-modify-write commands: set, incrBy, getDelete, count. Expiry is
 * decided by the proposer's clock stamped in each write, so replicas that
 * apply the same log at different wall-clock times agree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCommand } from '../../../src/kv/command-codec.js';
import type { KvCommand, KvReply, SetCondition, SetExpiry } from '../../../src/kv/commands.js';
import { utf8 } from '../../../src/kv/commands.js';
import { MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { KvStateMachine } from '../../../src/kv/state-machine.js';
import { decodeStoredValue, encodeStoredValue } from '../../../src/kv/stored-value.js';
import { applyNext, collectChunks, dumpEngine, streamOf, textOf } from './kv-fixtures.js';

const T0 = 1_700_000_000_000;

/** A client stamping its writes with a clock the test moves. */
class ClockedClient {
  private sequence = 0;
  nowMs = T0;

  constructor(readonly clientId: string) {}

  set(key: string, value: string, options: { condition?: SetCondition; expiry?: SetExpiry; previous?: boolean } = {}) {
    return {
      type: 'set' as const,
      ...this.next(),
      key: utf8(key),
      value: utf8(value),
      condition: options.condition ?? 'always',
      expiry: options.expiry ?? { type: 'none' },
      returnPrevious: options.previous ?? false,
    };
  }

  incrBy(key: string, delta: bigint) {
    return { type: 'incrBy' as const, ...this.next(), key: utf8(key), delta };
  }

  getDelete(key: string) {
    return { type: 'getDelete' as const, ...this.next(), key: utf8(key) };
  }

  append(key: string, value: string) {
    return { type: 'append' as const, ...this.next(), key: utf8(key), value: utf8(value) };
  }

  private next(): { clientId: string; sequence: number; nowMs: number } {
    this.sequence++;
    return { clientId: this.clientId, sequence: this.sequence, nowMs: this.nowMs };
  }
}

async function freshMachine(): Promise<{ machine: KvStateMachine; engine: MemoryKvEngine }> {
  const engine = new MemoryKvEngine();
  return { machine: await KvStateMachine.open(engine), engine };
}

function text(bytes: Uint8Array | null | undefined): string | null | undefined {
  return bytes == null ? bytes : Buffer.from(bytes).toString('utf8');
}

/** The value field of an ok reply, as text. */
function valueText(reply: KvReply): string | null | undefined {
  if (!reply.ok) throw new Error(`expected ok, got ${reply.error.code}`);
  return text(reply.value);
}

function errorCode(reply: KvReply): string | null {
  return reply.ok ? null : reply.error.code;
}

describe('stored values', () => {
  it('keep text as is, escape binary values that look like a header, and carry an expiry', () => {
    const plain = utf8('hello');
    assert.equal(encodeStoredValue({ value: plain, expiresAtMs: null }), plain, 'text is stored unchanged');
    for (const value of [Uint8Array.of(0xfe, 1), Uint8Array.of(0xff), new Uint8Array(0), utf8('v')]) {
      for (const expiresAtMs of [null, 0, T0, 2 ** 52]) {
        const decoded = decodeStoredValue(encodeStoredValue({ value, expiresAtMs }));
        assert.deepEqual([Buffer.from(decoded.value), decoded.expiresAtMs], [Buffer.from(value), expiresAtMs]);
      }
    }
  });
});

describe('KvStateMachine: Redis-style commands', () => {
  it('set ifAbsent / ifPresent write only when the condition holds, and say what was there', async () => {
    const { machine } = await freshMachine();
    const client = new ClockedClient('a');
    assert.deepEqual(await applyNext(machine, client.set('k', 'one', { condition: 'ifPresent' })), {
      ok: true,
      written: false,
      existed: false,
    });
    assert.deepEqual(await applyNext(machine, client.set('k', 'one', { condition: 'ifAbsent' })), {
      ok: true,
      written: true,
      existed: false,
    });
    const refused = await applyNext(machine, client.set('k', 'two', { condition: 'ifAbsent', previous: true }));
    assert.ok(refused.ok);
    assert.equal(refused.written, false);
    assert.equal(text(refused.value), 'one');
    assert.equal(textOf(machine.get(utf8('k'))), 'one');
    const replaced = await applyNext(machine, client.set('k', 'two', { condition: 'ifPresent', previous: true }));
    assert.ok(replaced.ok && replaced.written === true);
    assert.equal(text(replaced.value), 'one');
    assert.equal(textOf(machine.get(utf8('k'))), 'two');
  });

  it('expiry is decided by the writer stamp: an expired value is absent for NX, append and incrBy', async () => {
    const { machine } = await freshMachine();
    const client = new ClockedClient('a');
    await applyNext(machine, client.set('k', 'v', { expiry: { type: 'at', expiresAtMs: T0 + 1000 } }));
    const read = machine.get(utf8('k'), T0 + 1000);
    assert.ok(read.ok);
    assert.deepEqual([text(read.value), read.expiresAtMs], ['v', T0 + 1000]);
    assert.equal(textOf(machine.get(utf8('k'), T0 + 1001)), null, 'a read uses the serving clock');
    client.nowMs = T0 + 1001;
    assert.deepEqual(await applyNext(machine, client.set('k', 'w', { condition: 'ifAbsent' })), {
      ok: true,
      written: true,
      existed: false,
    });
    assert.equal(machine.get(utf8('k'), T0 + 10 ** 9).ok && textOf(machine.get(utf8('k'), T0 + 10 ** 9)), 'w');

    await applyNext(machine, client.set('n', '41', { expiry: { type: 'at', expiresAtMs: T0 + 2000 } }));
    assert.equal(valueText(await applyNext(machine, client.incrBy('n', 1n))), '42');
    const kept = machine.get(utf8('n'), T0);
    assert.ok(kept.ok && kept.expiresAtMs === T0 + 2000, 'incrBy keeps the expiry');
    client.nowMs = T0 + 2001;
    assert.equal(valueText(await applyNext(machine, client.incrBy('n', 1n))), '1');
    await applyNext(machine, client.set('s', 'ab', { expiry: { type: 'at', expiresAtMs: T0 + 2001 } }));
    assert.deepEqual(await applyNext(machine, client.append('s', 'c')), { ok: true, valueBytes: 3 });
    client.nowMs = T0 + 2002;
    assert.deepEqual(await applyNext(machine, client.append('s', 'd')), { ok: true, valueBytes: 1 });
  });

  it('two replicas applying the same log at different wall-clock times end byte for byte equal', async () => {
    const client = new ClockedClient('a');
    const log: KvCommand[] = [
      client.set('k', 'v', { expiry: { type: 'at', expiresAtMs: T0 + 500 } }),
      client.incrBy('n', 5n),
      client.set('k', 'w', { condition: 'ifAbsent' }),
    ];
    client.nowMs = T0 + 600;
    log.push(client.set('k', 'x', { condition: 'ifAbsent', previous: true }), client.getDelete('n'));
    const replies: KvReply[][] = [];
    const dumps: [string, string][][] = [];
    // Each replica applies under a different wall clock, which must play no part: the stamps alone decide.
    const realNow = Date.now;
    for (const replicaNowMs of [T0, T0 + 10 ** 9]) {
      Date.now = () => replicaNowMs;
      try {
        const { machine, engine } = await freshMachine();
        const applied: KvReply[] = [];
        for (const command of log) applied.push(await applyNext(machine, command));
        replies.push(applied);
        dumps.push(await dumpEngine(engine));
      } finally {
        Date.now = realNow;
      }
    }
    assert.deepEqual(replies[0], replies[1]);
    assert.deepEqual(dumps[0], dumps[1]);
    const [, , early, late, taken] = replies[0]!;
    assert.deepEqual(early, { ok: true, written: false, existed: true }, 'at T0 the value had not expired');
    assert.ok(late?.ok && late.written === true && late.value === null, 'at T0+600 it had');
    assert.ok(taken?.ok && text(taken.value) === '5' && taken.existed === true);
  });

  it('incrBy keeps to 64-bit signed integers and changes nothing when it refuses', async () => {
    const { machine } = await freshMachine();
    const client = new ClockedClient('a');
    await applyNext(machine, client.set('n', '9223372036854775806'));
    assert.equal(valueText(await applyNext(machine, client.incrBy('n', 1n))), '9223372036854775807');
    assert.equal(errorCode(await applyNext(machine, client.incrBy('n', 1n))), 'incrementOverflow');
    await applyNext(machine, client.set('m', '-9223372036854775807'));
    assert.equal(errorCode(await applyNext(machine, client.incrBy('m', -2n))), 'incrementOverflow');
    await applyNext(machine, client.set('t', '12abc'));
    assert.equal(errorCode(await applyNext(machine, client.incrBy('t', 1n))), 'notAnInteger');
    assert.equal(textOf(machine.get(utf8('n'))), '9223372036854775807');
    assert.equal(textOf(machine.get(utf8('t'))), '12abc');
  });

  it('a retried incrBy or getDelete gets its first reply again and is not applied twice', async () => {
    const { machine } = await freshMachine();
    const client = new ClockedClient('a');
    const increment = client.incrBy('n', 10n);
    const first = await applyNext(machine, increment);
    const retried = await applyNext(machine, increment);
    assert.deepEqual(retried, first);
    assert.equal(textOf(machine.get(utf8('n'))), '10');
    const take = client.getDelete('n');
    const taken = await applyNext(machine, take);
    assert.ok(taken.ok && text(taken.value) === '10');
    assert.deepEqual(await applyNext(machine, take), taken, 'the retry answers the value, though the key is gone');
  });

  it('concurrent clients incrementing one key never lose an increment, whatever the interleaving', async () => {
    const { machine } = await freshMachine();
    const clients = ['a', 'b', 'c'].map((id) => new ClockedClient(id));
    for (let round = 0; round < 20; round++) {
      for (const client of clients) await applyNext(machine, client.incrBy('shared', 1n));
    }
    assert.equal(textOf(machine.get(utf8('shared'))), '60');
  });

  it('count answers the live keys by the serving clock; snapshots carry expiry times', async () => {
    const { machine } = await freshMachine();
    const client = new ClockedClient('a');
    await applyNext(machine, client.set('a', '1'));
    await applyNext(machine, client.set('b', '2', { expiry: { type: 'at', expiresAtMs: T0 + 100 } }));
    await applyNext(machine, client.set('c', '3', { expiry: { type: 'at', expiresAtMs: T0 + 200 } }));
    const count = async (m: KvStateMachine, nowMs: number): Promise<string | null | undefined> => {
      const reply = await m.countLiveKeys(nowMs);
      return reply.ok ? text(reply.value) : reply.error.code;
    };
    assert.equal(await count(machine, T0), '3');
    assert.equal(await count(machine, T0 + 150), '2');
    assert.equal(await count(machine, T0 + 250), '1');
    const restored = (await freshMachine()).machine;
    await restored.restoreFromSnapshot(streamOf(await collectChunks(machine.snapshot())));
    assert.equal(await count(restored, T0 + 150), '2');
    const read = restored.get(utf8('c'), T0);
    assert.ok(read.ok && read.expiresAtMs === T0 + 200);
  });

  it('a count in the log (no proposer sends one) is refused the same way on every replica', async () => {
    const { machine } = await freshMachine();
    const reply = await machine.apply(1, encodeCommand({ type: 'count' }));
    assert.equal(errorCode(reply), 'malformedCommand');
  });
});
