import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../../../src/raft/index.js';
import { SeededRandom, seedFromEnv } from '../../../src/sim/random.js';
import { MessageDecodeError } from '../../../src/transport/errors.js';
import { decodeRaftMessage, encodeRaftMessage } from '../../../src/transport/raft-message-codec.js';
import { MESSAGE_TYPES, randomMessage } from './random-messages.js';

/** Format version 1, pinned byte for byte so that a change of the wire format cannot slip by. */
const PINNED: [string, Message, string][] = [
  [
    'a heartbeat with a read context',
    { type: 'heartbeat', term: 3, from: 1, to: 2, commit: 7, readContext: 'r', round: 9 },
    '0103' +
      '0000000000000003' +
      '00000001' +
      '00000002' +
      '0000000000000007' +
      '01' +
      '00000001' +
      '72' +
      '0000000000000009',
  ],
  [
    'an append with one entry of each kind',
    {
      type: 'append',
      term: 2,
      from: 1,
      to: 3,
      prevIndex: 4,
      prevTerm: 1,
      commit: 4,
      entries: [
        { kind: 'noop', index: 5, term: 2 },
        { kind: 'command', index: 6, term: 2, data: Uint8Array.of(0xab) },
        { kind: 'config', index: 7, term: 2, change: { type: 'addLearner', node: 4 } },
      ],
    },
    '0101' +
      '0000000000000002' +
      '00000001' +
      '00000003' +
      '0000000000000004' +
      '0000000000000001' +
      '0000000000000004' +
      '00000003' +
      '03' +
      '0000000000000005' +
      '0000000000000002' +
      '01' +
      '0000000000000006' +
      '0000000000000002' +
      '00000001' +
      'ab' +
      '02' +
      '0000000000000007' +
      '0000000000000002' +
      '01' +
      '00000004' +
      '00', // no address
  ],
];

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Passes only if `bytes` decode or are refused with MessageDecodeError: nothing else may escape. */
function decodesOrRejectsCleanly(bytes: Uint8Array, context: string): void {
  try {
    decodeRaftMessage(bytes);
  } catch (error) {
    assert.ok(error instanceof MessageDecodeError, `${context}: ${hex(bytes)} threw ${String(error)}`);
  }
}

describe('raft message codec', () => {
  for (const [name, message, pinnedHex] of PINNED) {
    it(`${name} encodes to its pinned bytes and back`, () => {
      assert.equal(hex(encodeRaftMessage(message)), pinnedHex);
      assert.deepEqual(decodeRaftMessage(Buffer.from(pinnedHex, 'hex')), message);
    });
  }

  for (const seed of seedFromEnv([1, 2, 3])) {
    for (const type of MESSAGE_TYPES) {
      it(`random ${type} messages round trip (seed ${seed})`, () => {
        const random = new SeededRandom(seed);
        for (let round = 0; round < 100; round++) {
          const message = randomMessage(random, type);
          assert.deepEqual(decodeRaftMessage(encodeRaftMessage(message)), message, `seed ${seed}, round ${round}`);
        }
      });
    }

    it(`truncated, damaged and random bytes decode or throw MessageDecodeError (seed ${seed})`, () => {
      const random = new SeededRandom(seed);
      for (let round = 0; round < 40; round++) {
        const encoded = encodeRaftMessage(randomMessage(random, random.pick(MESSAGE_TYPES)));
        const context = `seed ${seed}, round ${round}`;
        for (let cut = 0; cut < encoded.byteLength; cut++) {
          assert.throws(() => decodeRaftMessage(encoded.subarray(0, cut)), MessageDecodeError, context);
        }
        const damaged = Buffer.from(encoded);
        damaged[random.int(damaged.byteLength)] = random.int(256);
        decodesOrRejectsCleanly(damaged, context);
        decodesOrRejectsCleanly(
          Uint8Array.from({ length: random.int(64) }, () => random.int(256)),
          context,
        );
      }
    });
  }

  it('a forged entry count fails at once instead of looping or allocating', () => {
    const append = encodeRaftMessage({
      type: 'append',
      term: 1,
      from: 1,
      to: 2,
      prevIndex: 0,
      prevTerm: 0,
      commit: 0,
      entries: [],
    });
    append.writeUInt32BE(0xffff_ffff, append.byteLength - 4);
    assert.throws(() => decodeRaftMessage(append), /entry count of 4294967295 needs at least/);
  });

  it('a forged snapshot data length fails at once', () => {
    const chunk = encodeRaftMessage({
      type: 'installSnapshot',
      term: 1,
      from: 1,
      to: 2,
      snapshot: { index: 5, term: 1, membership: { voters: [1, 2], learners: [] }, sizeBytes: 3 },
      offset: 0,
      data: Uint8Array.of(1, 2, 3),
      done: true,
    });
    chunk.writeUInt32BE(0xffff_ffff, chunk.byteLength - 3 - 4);
    assert.throws(() => decodeRaftMessage(chunk), MessageDecodeError);
  });

  it('an unknown format version, message type or entry index 0 is refused with the reason', () => {
    const timeoutNow = encodeRaftMessage({ type: 'timeoutNow', term: 1, from: 1, to: 2 });
    assert.throws(() => decodeRaftMessage(Buffer.concat([Buffer.of(2), timeoutNow.subarray(1)])), /format version 2/);
    assert.throws(() => decodeRaftMessage(Buffer.concat([Buffer.of(1, 99), timeoutNow.subarray(2)])), /type 99/);
    const noopAtZero = encodeRaftMessage({
      type: 'append',
      term: 1,
      from: 1,
      to: 2,
      prevIndex: 0,
      prevTerm: 0,
      commit: 0,
      entries: [{ kind: 'noop', index: 0, term: 1 }],
    });
    assert.throws(() => decodeRaftMessage(noopAtZero), /index 0/);
  });

  it('an append whose entries do not follow prevIndex, or whose terms go down, is refused, not handed to the core', () => {
    const base = { type: 'append', term: 5, from: 1, to: 2, prevIndex: 3, prevTerm: 2, commit: 0 } as const;
    const gap: Message = { ...base, entries: [{ kind: 'noop', index: 5, term: 5 }] };
    assert.throws(() => decodeRaftMessage(encodeRaftMessage(gap)), /entries must follow prevIndex/);
    const down: Message = {
      ...base,
      entries: [
        { kind: 'noop', index: 4, term: 4 },
        { kind: 'noop', index: 5, term: 3 },
      ],
    };
    assert.throws(() => decodeRaftMessage(encodeRaftMessage(down)), /terms must not go down/);
    const ahead: Message = { ...base, entries: [{ kind: 'noop', index: 4, term: 6 }] };
    assert.throws(() => decodeRaftMessage(encodeRaftMessage(ahead)), MessageDecodeError);
  });

  it('a node id that does not fit in 32 bits is a programming error at encode time', () => {
    assert.throws(() => encodeRaftMessage({ type: 'timeoutNow', term: 1, from: 2 ** 32, to: 2 }), /does not fit/);
  });
});
