import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetaCommand, MetaError, MetaReply } from '../../../src/meta/index.js';
import {
  decodeMetaCommand,
  decodeMetaReply,
  encodeMetaCommand,
  encodeMetaReply,
  MetaDecodeError,
} from '../../../src/meta/index.js';
import * as errors from '../../../src/meta/commands.js';
import { expectConfig, groupInfo, MachineDriver } from './meta-fixtures.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** One of every error, as the state machine builds them. */
const EVERY_ERROR: MetaError[] = [
  errors.malformedCommand('command.type: expected one of join, leave, move, query'),
  errors.staleSequence(3, 5),
  errors.badBucketCount(20, 10),
  errors.badBucketCount(0, null),
  errors.emptyJoin(),
  errors.emptyLeave(),
  errors.duplicateGroupId(4),
  errors.badGroupId(-1),
  errors.tooManyGroups(1030),
  errors.badMembers(4, 'it has no members'),
  errors.badAddress(4, 2, 'host', 'it has no ":port"'),
  errors.addressInUse(4, 'h:1', 2),
  errors.groupExists(4),
  errors.unknownGroup(4),
  errors.bucketOutOfRange(3, 12, 10),
  errors.lastGroupOwnsBuckets(),
  errors.noSuchVersion(9, 4),
];

describe('meta command codec', () => {
  it('writes commands with keys in a fixed order, whatever order they were built in', () => {
    const built = { gids: [2, 1], sequence: 3, clientId: 'admin', type: 'leave' } as MetaCommand;
    assert.equal(
      text(encodeMetaCommand(built)),
      '{"format":1,"type":"leave","clientId":"admin","sequence":3,"gids":[2,1]}',
    );
    const members = {
      members: [{ address: 'n9.test:7000', id: 9 }],
      gid: 4,
      sequence: 2,
      clientId: 'admin',
      type: 'members',
    } as unknown as MetaCommand;
    assert.equal(
      text(encodeMetaCommand(members)),
      '{"format":1,"type":"members","clientId":"admin","sequence":2,"gid":4,"members":[{"id":9,"address":"n9.test:7000"}]}',
    );
    assert.equal(
      text(encodeMetaCommand({ type: 'query', version: null })),
      '{"format":1,"type":"query","version":null}',
    );
  });

  it('decodes what it encodes', () => {
    const commands: MetaCommand[] = [
      { type: 'join', clientId: 'a', sequence: 1, groups: [groupInfo(1), groupInfo(2, 1)], bucketCount: 17 },
      { type: 'join', clientId: 'a', sequence: 2, groups: [groupInfo(3)] },
      { type: 'leave', clientId: 'b', sequence: 9, gids: [1, 3] },
      { type: 'move', clientId: 'ü', sequence: 1, fromBucket: 0, toBucket: 4, gid: 1 },
      // Members in the order given: sorting them is the state machine's job.
      { type: 'members', clientId: 'c', sequence: 3, gid: 2, members: [...groupInfo(2).members].reverse() },
      // Shapes only: values the state machine refuses still decode, so that it can say what is wrong.
      { type: 'members', clientId: 'c', sequence: 4, gid: -1, members: [{ id: 0, address: '' }] },
      { type: 'members', clientId: 'c', sequence: 5, gid: 2, members: [] },
      { type: 'query', version: 7 },
      { type: 'query', version: null },
    ];
    for (const command of commands) assert.deepEqual(decodeMetaCommand(encodeMetaCommand(command)), command);
  });

  it('refuses to encode a command that would not decode: a bug of the caller, caught before the log', () => {
    assert.throws(() => encodeMetaCommand({ type: 'leave', clientId: '', sequence: 1, gids: [1] }), MetaDecodeError);
    assert.throws(() => encodeMetaCommand({ type: 'leave', clientId: 'a', sequence: 1.5, gids: [1] }), MetaDecodeError);
    assert.throws(
      () => encodeMetaCommand({ type: 'join', clientId: 'x'.repeat(129), sequence: 1, groups: [] }),
      MetaDecodeError,
    );
  });

  it('decodes strictly: every field present, of its type, and nothing else', () => {
    const bad: [string, RegExp][] = [
      ['[]', /command: expected an object/],
      ['null', /command: expected an object/],
      ['{"format":1}', /the field "type" is missing/],
      ['{"format":1,"type":"query"}', /the field "version" is missing/],
      ['{"format":1,"type":"query","version":1.5}', /command\.version: expected an integer/],
      ['{"format":1,"type":"query","version":"1"}', /command\.version/],
      ['{"type":"query","version":1}', /the field "format" is missing/],
      ['{"format":1,"type":"query","version":1,"__proto__":{}}', /unknown field "__proto__"/],
      ['{"format":1,"type":"move","clientId":"a","sequence":1,"fromBucket":0,"toBucket":1}', /"gid" is missing/],
      [
        '{"format":1,"type":"join","clientId":"a","sequence":1,"groups":[{"gid":1}]}',
        /groups\[0\]: the field "members"/,
      ],
      [
        '{"format":1,"type":"join","clientId":"a","sequence":1,"groups":[{"gid":1,"members":[{"id":1}]}]}',
        /groups\[0\]\.members\[0\]: the field "address" is missing/,
      ],
      [
        '{"format":1,"type":"join","clientId":"a","sequence":1,"groups":[],"bucketCount":1e300}',
        /command\.bucketCount: expected an integer/,
      ],
      ['{"format":1,"type":"leave","clientId":"a","sequence":9007199254740992,"gids":[]}', /command\.sequence/],
      ['{"format":1,"type":"members","clientId":"a","sequence":1,"gid":1}', /the field "members" is missing/],
      ['{"format":1,"type":"members","clientId":"a","sequence":1,"members":[]}', /the field "gid" is missing/],
      ['{"format":1,"type":"members","clientId":"a","sequence":1,"gid":"1","members":[]}', /command\.gid: expected/],
      ['{"format":1,"type":"members","clientId":"a","sequence":1,"gid":1,"members":{}}', /command\.members/],
      [
        '{"format":1,"type":"members","clientId":"a","sequence":1,"gid":1,"members":[{"id":1}]}',
        /command\.members\[0\]: the field "address" is missing/,
      ],
      [
        '{"format":1,"type":"members","clientId":"a","sequence":1,"gid":1,"members":[{"id":1,"address":"a:1","gid":1}]}',
        /command\.members\[0\]: unknown field "gid"/,
      ],
      [
        '{"format":1,"type":"members","clientId":"a","sequence":1,"gid":1,"members":[{"id":1.5,"address":"a:1"}]}',
        /command\.members\[0\]\.id: expected an integer/,
      ],
      ['{"format":1,"type":"members","gid":1,"members":[]}', /the field "clientId" is missing/],
    ];
    for (const [json, problem] of bad) {
      assert.throws(() => decodeMetaCommand(utf8(json)), problem, json);
    }
    assert.throws(() => decodeMetaCommand(new Uint8Array(256 * 1024 + 1).fill(32)), /over the limit of 262144/);
  });

  it('writes every error reply with its fields in a fixed order and reads it back equal', () => {
    for (const error of EVERY_ERROR) {
      const reply: MetaReply = { ok: false, error };
      const bytes = encodeMetaReply(reply);
      assert.deepEqual(decodeMetaReply(bytes), reply, error.code);
      const shuffled = Object.fromEntries(Object.entries(error).reverse()) as unknown as MetaError;
      assert.deepEqual(encodeMetaReply({ ok: false, error: shuffled }), bytes, `${error.code}: key order leaked`);
      assert.ok(text(bytes).startsWith(`{"ok":false,"error":{"code":"${error.code}"`));
      assert.ok(text(bytes).endsWith(`"message":${JSON.stringify(error.message)}}}`));
    }
  });

  it('reads a config reply back equal, frozen, and checked', async () => {
    const driver = new MachineDriver();
    const reply = await driver.join([groupInfo(1), groupInfo(2)], 5);
    const decoded = decodeMetaReply(encodeMetaReply(reply));
    assert.deepEqual(decoded, reply);
    assert.ok(Object.isFrozen(expectConfig(decoded).buckets));
    const json = text(encodeMetaReply(reply));
    assert.throws(
      () => decodeMetaReply(utf8(json.replace('"buckets":[1', '"buckets":[3'))),
      /group 3, which is not in it/,
    );
    assert.throws(() => decodeMetaReply(utf8(json.replace('"gid":2', '"gid":0'))), /gid: expected an integer in 1\.\./);
    assert.throws(
      () => decodeMetaReply(utf8(json.replace('g1-n1.test:7000', 'nowhere'))),
      /address: it has no ":port"/,
    );
    assert.throws(() => decodeMetaReply(utf8('{"ok":true,"error":{}}')), /the field "config" is missing/);
    assert.throws(
      () => decodeMetaReply(utf8('{"ok":false,"error":{"code":"emptyJoin","gid":1,"message":""}}')),
      /unknown field "gid"/,
    );
    assert.throws(
      () => decodeMetaReply(utf8('{"ok":false,"error":{"code":"unknownGroup","message":""}}')),
      /the field "gid" is missing/,
    );
  });
});
