import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCommand, decodeReply, encodeCommand, encodeReply } from '../../../src/kv/command-codec.js';
import type { KvCommand, KvReply } from '../../../src/kv/commands.js';
import {
  casMismatch,
  failed,
  incrementOverflow,
  keyTooLarge,
  notAnInteger,
  SET_CONDITIONS,
  malformedCommand,
  staleSequence,
  utf8,
  utf8Text,
  valueTooLarge,
} from '../../../src/kv/commands.js';
import { KvDecodeError } from '../../../src/kv/errors.js';
import { SeededRandom, seedFromEnv } from '../../../src/sim/random.js';

/** One example of each command, with its bytes in format version 1, pinned so a format change cannot slip by. */
const PINNED_COMMANDS: [string, KvCommand, string][] = [
  ['get', { type: 'get', key: utf8('k') }, '0101' + '000000016b'],
  [
    'put',
    { type: 'put', clientId: 'c1', sequence: 7, key: utf8('k'), value: utf8('v') },
    '0102' + '026331' + '0000000000000007' + '000000016b' + '0000000176',
  ],
  [
    'append',
    { type: 'append', clientId: 'c1', sequence: 8, key: utf8('k'), value: utf8('w') },
    '0103' + '026331' + '0000000000000008' + '000000016b' + '0000000177',
  ],
  [
    'delete',
    { type: 'delete', clientId: 'c1', sequence: 9, key: utf8('k') },
    '0104' + '026331' + '0000000000000009' + '000000016b',
  ],
  [
    'cas expecting a value',
    { type: 'cas', clientId: 'c1', sequence: 10, key: utf8('k'), expected: utf8('v'), value: utf8('x') },
    '0105' + '026331' + '000000000000000a' + '000000016b' + '01' + '0000000176' + '0000000178',
  ],
  [
    'cas expecting the key absent',
    { type: 'cas', clientId: 'c1', sequence: 11, key: utf8('k'), expected: null, value: utf8('x') },
    '0105' + '026331' + '000000000000000b' + '000000016b' + '00' + '0000000178',
  ],
  ['count', { type: 'count' }, '0109'],
  // Version 2: the proposer's clock (here 1000 ms) follows the stamp.
  [
    'put with a clock',
    { type: 'put', clientId: 'c1', sequence: 7, nowMs: 1000, key: utf8('k'), value: utf8('v') },
    '0202' + '026331' + '0000000000000007' + '00000000000003e8' + '000000016b' + '0000000176',
  ],
  [
    'set if absent, expiring, answering the previous value',
    {
      type: 'set',
      clientId: 'c1',
      sequence: 12,
      nowMs: 1000,
      key: utf8('k'),
      value: utf8('v'),
      condition: 'ifAbsent',
      expiry: { type: 'at', expiresAtMs: 11_000 },
      returnPrevious: true,
    },
    '0206' +
      '026331' +
      '000000000000000c' +
      '00000000000003e8' +
      '000000016b' +
      '0000000176' +
      '01' +
      '02' +
      '0000000000002af8' +
      '01',
  ],
  [
    'set if present, keeping the expiry',
    {
      type: 'set',
      clientId: 'c1',
      sequence: 13,
      key: utf8('k'),
      value: utf8('v'),
      condition: 'ifPresent',
      expiry: { type: 'keep' },
      returnPrevious: false,
    },
    '0106' + '026331' + '000000000000000d' + '000000016b' + '0000000176' + '02' + '01' + '00',
  ],
  [
    'incrBy by -2',
    { type: 'incrBy', clientId: 'c1', sequence: 14, nowMs: 1000, key: utf8('n'), delta: -2n },
    '0207' + '026331' + '000000000000000e' + '00000000000003e8' + '000000016e' + 'fffffffffffffffe',
  ],
  [
    'getDelete',
    { type: 'getDelete', clientId: 'c1', sequence: 15, nowMs: 1000, key: utf8('k') },
    '0208' + '026331' + '000000000000000f' + '00000000000003e8' + '000000016b',
  ],
];

const PINNED_REPLIES: [string, KvReply, string][] = [
  ['ok', { ok: true }, '010100'],
  ['a value', { ok: true, value: utf8('v') }, '010103' + '0000000176'],
  ['an absent value', { ok: true, value: null }, '010101'],
  ['an append size', { ok: true, valueBytes: 2 }, '010104' + '00000002'],
  ['a delete of a present key', { ok: true, existed: true }, '010118'],
  ['a delete of an absent key', { ok: true, existed: false }, '010108'],
  ['keyTooLarge', failed(keyTooLarge(5000)), '010201' + '00001388' + '00001000'],
  ['valueTooLarge', failed(valueTooLarge(1048577)), '010202' + '00100001' + '00100000'],
  ['casMismatch', failed(casMismatch()), '010203'],
  ['staleSequence', failed(staleSequence(3, 5)), '010204' + '0000000000000003' + '0000000000000005'],
  ['malformedCommand', failed(malformedCommand('no')), '010205' + '0002' + '6e6f'],
  ['a set that did not write', { ok: true, written: false, existed: true }, '010138'],
  [
    'a set that wrote, with the previous value',
    { ok: true, value: utf8('v'), written: true, existed: false },
    '01016b' + '0000000176',
  ],
  [
    'a value with its expiry',
    { ok: true, value: utf8('v'), expiresAtMs: 11_000 },
    '010183' + '0000000176' + '0000000000002af8',
  ],
  ['notAnInteger', failed(notAnInteger()), '010206'],
  ['incrementOverflow', failed(incrementOverflow()), '010207'],
];

function randomBytes(random: SeededRandom, lengthBytes: number): Uint8Array {
  return Uint8Array.from({ length: lengthBytes }, () => random.int(256));
}

function randomCommand(random: SeededRandom): KvCommand {
  const key = randomBytes(random, random.int(40));
  const stamp = {
    clientId: `client-${random.int(1000)}-é`,
    sequence: random.intBetween(1, 2 ** 40),
    ...(random.chance(0.5) ? { nowMs: random.intBetween(0, 2 ** 45) } : {}),
  };
  const kinds = ['get', 'put', 'append', 'delete', 'cas', 'set', 'incrBy', 'getDelete', 'count'] as const;
  switch (random.pick(kinds)) {
    case 'get':
      return { type: 'get', key };
    case 'put':
      return { type: 'put', ...stamp, key, value: randomBytes(random, random.int(100)) };
    case 'append':
      return { type: 'append', ...stamp, key, value: randomBytes(random, random.int(100)) };
    case 'delete':
      return { type: 'delete', ...stamp, key };
    case 'cas': {
      const expected = random.chance(0.3) ? null : randomBytes(random, random.int(50));
      return { type: 'cas', ...stamp, key, expected, value: randomBytes(random, random.int(100)) };
    }
    case 'set': {
      const expiry = random.pick([
        { type: 'none' },
        { type: 'keep' },
        { type: 'at', expiresAtMs: random.intBetween(0, 2 ** 50) },
      ] as const);
      const condition = random.pick(SET_CONDITIONS);
      const value = randomBytes(random, random.int(100));
      return { type: 'set', ...stamp, key, value, condition, expiry, returnPrevious: random.chance(0.5) };
    }
    case 'incrBy':
      return {
        type: 'incrBy',
        ...stamp,
        key,
        delta: BigInt(random.intBetween(0, 2 ** 40)) * BigInt(random.pick([-1, 1, 1000])),
      };
    case 'getDelete':
      return { type: 'getDelete', ...stamp, key };
    case 'count':
      return { type: 'count' };
  }
}

/** Runs `decode` and passes only if it returns or throws KvDecodeError: nothing else may escape. */
function decodesOrRejectsCleanly(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array, seed: number): void {
  try {
    decode(bytes);
  } catch (error) {
    assert.ok(
      error instanceof KvDecodeError,
      `seed ${seed}: ${Buffer.from(bytes).toString('hex')} threw ${String(error)}, not a KvDecodeError`,
    );
  }
}

describe('command codec', () => {
  for (const [name, command, hex] of PINNED_COMMANDS) {
    it(`a ${name} command encodes to its pinned bytes and back`, () => {
      assert.equal(encodeCommand(command).toString('hex'), hex);
      assert.deepEqual(decodeCommand(Buffer.from(hex, 'hex')), command);
    });
  }

  for (const [name, reply, hex] of PINNED_REPLIES) {
    it(`a reply of ${name} encodes to its pinned bytes and back`, () => {
      assert.equal(encodeReply(reply).toString('hex'), hex);
      assert.deepEqual(decodeReply(Buffer.from(hex, 'hex')), reply);
    });
  }

  for (const seed of seedFromEnv([1, 2, 3])) {
    it(`random commands round trip (seed ${seed})`, () => {
      const random = new SeededRandom(seed);
      for (let round = 0; round < 500; round++) {
        const command = randomCommand(random);
        assert.deepEqual(decodeCommand(encodeCommand(command)), command, `seed ${seed}, round ${round}`);
      }
    });

    it(`random bytes and damaged commands decode or throw KvDecodeError, never anything else (seed ${seed})`, () => {
      const random = new SeededRandom(seed);
      for (let round = 0; round < 2000; round++) {
        const garbage = randomBytes(random, random.int(48));
        // A valid version and kind half the time, so that decoding gets past the first bytes.
        if (garbage.byteLength >= 2 && random.chance(0.5)) {
          garbage[0] = random.intBetween(1, 2);
          garbage[1] = random.intBetween(0, 10);
        }
        decodesOrRejectsCleanly(decodeCommand, garbage, seed);
        decodesOrRejectsCleanly(decodeReply, garbage, seed);
        const damaged = new Uint8Array(encodeCommand(randomCommand(random)));
        damaged[random.int(damaged.byteLength)] = random.int(256);
        decodesOrRejectsCleanly(decodeCommand, damaged, seed);
      }
    });
  }

  it('rejects every truncation of a valid command and of a valid reply', () => {
    const truncations = (hex: string): Buffer[] => {
      const bytes = Buffer.from(hex, 'hex');
      return Array.from({ length: bytes.byteLength }, (_, lengthBytes) => bytes.subarray(0, lengthBytes));
    };
    for (const [name, , hex] of PINNED_COMMANDS) {
      for (const cut of truncations(hex)) assert.throws(() => decodeCommand(cut), KvDecodeError, name);
    }
    for (const [name, , hex] of PINNED_REPLIES) {
      for (const cut of truncations(hex)) assert.throws(() => decodeReply(cut), KvDecodeError, name);
    }
  });

  it('says what is wrong with bytes it rejects', () => {
    const cases: [string, RegExp][] = [
      ['', /command bytes do not decode: the format version needs 1 bytes but only 0 remain/],
      ['0301', /format version 3 is unknown/],
      ['010a', /command kind 10 is unknown/],
      ['010200', /client id length 0 is outside 1\.\.128/],
      ['010201ff0000000000000001', /client id is not valid UTF-8/],
      ['0102016300000000000000000000000000', /sequence is 0/],
      ['0101000000016b00', /1 unexpected bytes follow the end/],
      ['0101ffffffff', /the key needs 4294967295 bytes but only 0 remain/],
      ['0105' + '0163' + '0000000000000001' + '00000000' + '02', /expected-present flag is 2/],
    ];
    for (const [hex, message] of cases) {
      assert.throws(() => decodeCommand(Buffer.from(hex, 'hex')), message, hex);
    }
    assert.throws(() => decodeReply(Buffer.from('010140', 'hex')), /written=true is flagged without written/);
    assert.throws(() => decodeReply(Buffer.from('010102', 'hex')), /non-null value is flagged without a value/);
    assert.throws(() => decodeReply(Buffer.from('010209', 'hex')), /error code 9 is unknown/);
  });

  it('keeps a leading U+FEFF in client ids and text values: it is text, not a byte order mark', () => {
    const put: KvCommand = { type: 'put', clientId: '\uFEFFalice', sequence: 1, key: utf8('k'), value: utf8('v') };
    assert.deepEqual(decodeCommand(encodeCommand(put)), put);
    const orphan: KvCommand = { ...put, clientId: '\uFEFF' };
    assert.deepEqual(decodeCommand(encodeCommand(orphan)), orphan);
    assert.equal(utf8Text(utf8('\uFEFFvalue')), '\uFEFFvalue');
  });

  it('refuses to encode a stamp no decoder accepts: a programmer error, thrown at the source', () => {
    const put = { type: 'put', key: utf8('k'), value: utf8('v') } as const;
    assert.throws(() => encodeCommand({ ...put, clientId: '', sequence: 1 }), /client id must be 1 to 128/);
    assert.throws(() => encodeCommand({ ...put, clientId: 'x'.repeat(129), sequence: 1 }), /client id/);
    assert.throws(() => encodeCommand({ ...put, clientId: 'c', sequence: 0 }), /positive safe integer/);
    assert.throws(() => encodeCommand({ ...put, clientId: 'c', sequence: 1.5 }), /positive safe integer/);
  });
});
