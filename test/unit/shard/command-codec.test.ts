import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { casMismatch, failed, utf8 } from '../../../src/kv/commands.js';
import { decodeShardCommand, encodeShardCommand } from '../../../src/shard/command-codec.js';
import type { InstallBucketCommand, ShardCommand } from '../../../src/shard/commands.js';
import { ShardDecodeError } from '../../../src/shard/errors.js';
import { configOf } from './shard-fixtures.js';

const INSTALL: InstallBucketCommand = {
  type: 'installBucket',
  bucket: 3,
  configVersion: 2,
  firstPairIndex: 1,
  pairs: [[utf8('k'), utf8('v')]],
  dedup: [['c', { lastSequence: 5, lastReply: { ok: true }, stampMsMax: 1_700_000_000_000 }]],
  last: true,
};

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function decodeProblem(bytes: Uint8Array): string {
  try {
    decodeShardCommand(bytes);
  } catch (error) {
    assert.ok(error instanceof ShardDecodeError, String(error));
    return error.problem;
  }
  return assert.fail(`bytes ${hex(bytes)} decoded`);
}

describe('shard command codec', () => {
  it('every kind of command reads back as it was written', () => {
    const commands: ShardCommand[] = [
      { type: 'kv', command: { type: 'get', key: utf8('k') } },
      {
        type: 'kv',
        command: { type: 'cas', clientId: 'alice', sequence: 9, key: utf8('k'), expected: null, value: utf8('v') },
      },
      { type: 'config', config: configOf(4, [1, 2, 2, 3]) },
      INSTALL,
      { ...INSTALL, pairs: [], dedup: [], last: false, firstPairIndex: 2 ** 40 },
      { ...INSTALL, dedup: [['bob', { lastSequence: 2, lastReply: failed(casMismatch()), stampMsMax: 0 }]] },
      { type: 'deleteBucket', bucket: 1023, configVersion: 77 },
    ];
    for (const command of commands) {
      assert.deepEqual(decodeShardCommand(encodeShardCommand(command)), command);
    }
  });

  it('lays out commands byte for byte as documented (pinned)', () => {
    assert.equal(
      hex(encodeShardCommand({ type: 'deleteBucket', bucket: 5, configVersion: 2 })),
      '01040005' + '0000000000000002',
    );
    assert.equal(
      hex(encodeShardCommand({ type: 'kv', command: { type: 'get', key: utf8('k') } })),
      '0101' + '0101' + '000000016b',
    );
    assert.equal(
      hex(encodeShardCommand(INSTALL)),
      '0203' + // version 2: dedup entries carry their clock
        '0003' + // bucket
        '0000000000000002' + // config version
        '0000000000000001' + // first pair index
        '01' + // last
        '00000001' + // dedup count
        '01' +
        '63' +
        '0000000000000005' +
        '0000018bcfe56800' +
        '00000003' +
        '010100' + // client "c", sequence 5, clock 1_700_000_000_000, reply { ok: true }
        '00000001' + // pair count
        '00000001' +
        '6b' +
        '00000001' +
        '76', // "k" = "v"
    );
  });

  it('decodes strictly: anything out of place is a ShardDecodeError that says what', () => {
    const install = encodeShardCommand(INSTALL);
    const withByte = (bytes: Buffer, offset: number, value: number): Uint8Array => {
      const copy = Uint8Array.from(bytes);
      copy[offset] = value;
      return copy;
    };
    const cases: [Uint8Array, RegExp][] = [
      [Uint8Array.of(), /format version needs 1 bytes/],
      [Uint8Array.of(3, 4), /format version 3 is unknown/],
      [Uint8Array.of(2, 4), /format version 2 is for installBucket commands only, not kind 4/],
      [Uint8Array.of(1, 9), /command kind 9 is unknown/],
      [Uint8Array.of(1, 4, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 1), /bucket 1024 is outside 0..1023/],
      [Uint8Array.of(1, 4, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0), /1 unexpected bytes follow the end/],
      [Uint8Array.of(1, 1, 1, 4), /the kv command: the client id length needs 1 bytes/],
      [utf8('\u0001\u0002{"version":1}'), /config: the field "buckets" is missing/],
      [withByte(install, 20, 2), /the last flag is 2/],
      [withByte(install, 25, 0), /the client id length 0 is outside/],
      [withByte(install, 34, 0), /a last sequence is 0/],
      [withByte(install, 47, 9), /the reply of client c: format version 9 is unknown/],
      [withByte(install, 54, 0x10), /a key of 268435457 bytes is over the limit of 4096/],
      [install.subarray(0, install.byteLength - 1), /the value needs 1 bytes but only 0 remain/],
      [Buffer.concat([install, Buffer.of(0)]), /1 unexpected bytes follow the end/],
    ];
    for (const [bytes, problem] of cases) assert.match(decodeProblem(bytes), problem, hex(bytes));
  });

  it('refuses to encode what no sender may send', () => {
    assert.throws(() => encodeShardCommand({ type: 'deleteBucket', bucket: 1024, configVersion: 1 }), /bucket 1024/);
    assert.throws(() => encodeShardCommand({ ...INSTALL, dedup: [['', INSTALL.dedup[0]![1]]] }), /client id must be/);
    assert.throws(
      () => encodeShardCommand({ ...INSTALL, pairs: [[new Uint8Array(4097), utf8('v')]] }),
      /over the kv limits/,
    );
  });
});
