import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupInfo, MemberInfo, MetaErrorCode, MetaReply } from '../../../src/meta/index.js';
import {
  bucketsOf,
  canonicalConfigJson,
  encodeMetaCommand,
  encodeMetaReply,
  findGroup,
  GROUPS_MAX,
  groupOf,
  MetaSnapshotCorruptionError,
  MetaStateMachine,
} from '../../../src/meta/index.js';
import { chainOf } from '../../support/meta-sim.js';
import { expectConfig, expectError, groupInfo, MachineDriver } from './meta-fixtures.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

async function* replay(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}

describe('MetaStateMachine', () => {
  it('starts at version 0 with no groups and no buckets until the first join fixes their count', () => {
    const machine = new MetaStateMachine();
    assert.equal(machine.bucketCount, null);
    assert.deepEqual(machine.latest, { version: 0, buckets: [], groups: [] });
    assert.deepEqual(machine.query(null), { ok: true, config: machine.latest });
  });

  it('join adds groups with members sorted and gives them every bucket; version 0 then reads as unassigned buckets', async () => {
    const driver = new MachineDriver();
    const group: GroupInfo = {
      gid: 3,
      members: [
        { id: 2, address: 'b.test:7000' },
        { id: 1, address: '10.0.0.1:7000' },
      ],
    };
    const config = expectConfig(await driver.join([group, groupInfo(1)]));
    assert.equal(config.version, 1);
    assert.equal(driver.machine.bucketCount, 10);
    assert.deepEqual(
      config.groups.map((g) => g.gid),
      [1, 3],
    );
    assert.deepEqual(
      config.groups[1]!.members.map((m) => m.id),
      [1, 2],
    );
    assert.deepEqual(config.buckets, [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]);
    assert.deepEqual(bucketsOf(config, 3), [5, 6, 7, 8, 9]);
    assert.equal(groupOf(config, 7)?.gid, 3);
    assert.deepEqual(expectConfig(driver.machine.query(0)).buckets, new Array(10).fill(0));
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.buckets) && Object.isFrozen(config.groups[0]!.members));
  });

  it('the first join fixes the bucket count; later joins may repeat it or leave it out, not change it', async () => {
    const driver = new MachineDriver();
    expectError(await driver.join([groupInfo(1)], 0), 'badBucketCount');
    expectError(await driver.join([groupInfo(1)], 1025), 'badBucketCount');
    assert.equal(driver.machine.bucketCount, null, 'a refused join fixed the bucket count');
    assert.equal(expectConfig(await driver.join([groupInfo(1)], 17)).buckets.length, 17);
    const changed = expectError(await driver.join([groupInfo(2)], 10), 'badBucketCount');
    assert.equal(changed.bucketCountFixed, 17);
    assert.match(changed.message, /fixed by its first join/);
    assert.equal(expectConfig(await driver.join([groupInfo(2)], 17)).version, 2);
    assert.equal(expectConfig(await driver.join([groupInfo(3)])).buckets.length, 17);
    assert.equal(expectConfig(driver.machine.query(0)).buckets.length, 17);
  });

  it('leave rebalances the buckets of the groups that left onto the others', async () => {
    const driver = new MachineDriver();
    await driver.join([groupInfo(1), groupInfo(2), groupInfo(3)]);
    const config = expectConfig(await driver.leave([2]));
    assert.deepEqual(
      config.groups.map((g) => g.gid),
      [1, 3],
    );
    assert.equal(bucketsOf(config, 1).length + bucketsOf(config, 3).length, 10);
    assert.equal(Math.abs(bucketsOf(config, 1).length - bucketsOf(config, 3).length), 0);
  });

  it('move gives one bucket or an inclusive range to a group, without rebalancing', async () => {
    const driver = new MachineDriver();
    await driver.join([groupInfo(1), groupInfo(2)]);
    assert.deepEqual(expectConfig(await driver.move(0, 0, 2)).buckets, [2, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    assert.deepEqual(expectConfig(await driver.move(0, 4, 1)).buckets, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    assert.deepEqual(expectConfig(await driver.move(2, 9, 2)).buckets, [1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it("members sets one group's member list in a new version; the buckets and the other groups stay", async () => {
    const driver = new MachineDriver();
    const before = expectConfig(await driver.join([groupInfo(1), groupInfo(2)]));
    // Member 3 replaced by member 4, member 1 at a new address, member 2 as it was; given in no order.
    const config = expectConfig(
      await driver.members(1, [
        { id: 4, address: 'g1-n4.test:7000' },
        { id: 2, address: 'g1-n2.test:7000' },
        { id: 1, address: 'g1-n1.elsewhere.test:7000' },
      ]),
    );
    assert.equal(config.version, 2);
    assert.deepEqual(config.buckets, before.buckets);
    assert.deepEqual(findGroup(config, 1)?.members, [
      { id: 1, address: 'g1-n1.elsewhere.test:7000' },
      { id: 2, address: 'g1-n2.test:7000' },
      { id: 4, address: 'g1-n4.test:7000' },
    ]);
    assert.deepEqual(findGroup(config, 2), findGroup(before, 2));
    assert.ok(Object.isFrozen(findGroup(config, 1)?.members[0]));
    assert.equal(canonicalConfigJson(expectConfig(driver.machine.query(1))), canonicalConfigJson(before));
    // An address group 1 gave up is free for another group.
    const reused = expectConfig(await driver.members(2, [{ id: 7, address: 'g1-n3.test:7000' }]));
    assert.deepEqual(findGroup(reused, 2)?.members, [{ id: 7, address: 'g1-n3.test:7000' }]);
    assert.equal(reused.version, 3);
  });

  it('members with the list already in place answers the latest config and creates no version', async () => {
    const driver = new MachineDriver();
    await driver.join([groupInfo(1), groupInfo(2)]);
    const latest = driver.machine.latest;
    const same = expectConfig(await driver.members(2, [...groupInfo(2).members].reverse()));
    assert.equal(canonicalConfigJson(same), canonicalConfigJson(latest));
    assert.equal(driver.machine.latest.version, 1);
    expectError(driver.machine.query(2), 'noSuchVersion');
    // One changed address is a change.
    const moved = groupInfo(2).members.map((m) => (m.id === 3 ? { id: 3, address: 'g2-n3.new.test:7000' } : m));
    assert.equal(expectConfig(await driver.members(2, moved)).version, 2);
  });

  describe('refuses invalid commands with an error that changes nothing', () => {
    const cases: [string, (driver: MachineDriver) => Promise<MetaReply>, string, RegExp][] = [
      ['a join of no groups', (d) => d.join([]), 'emptyJoin', /give at least one group/],
      ['a leave of no groups', (d) => d.leave([]), 'emptyLeave', /at least one group id/],
      ['a join naming a group twice', (d) => d.join([groupInfo(5), groupInfo(5)]), 'duplicateGroupId', /twice/],
      ['a leave naming a group twice', (d) => d.leave([1, 1]), 'duplicateGroupId', /twice/],
      ['a join of gid 0', (d) => d.join([groupInfo(0)]), 'badGroupId', /1\.\.4294967295/],
      ['a join of a negative gid', (d) => d.join([groupInfo(-3)]), 'badGroupId', /not a group id/],
      ['a join of a gid over 2^32-1', (d) => d.join([groupInfo(2 ** 32)]), 'badGroupId', /not a group id/],
      ['a join of a group already there', (d) => d.join([groupInfo(1)]), 'groupExists', /already joined/],
      ['a leave of a group never joined', (d) => d.leave([9]), 'unknownGroup', /has not joined/],
      ['a move to a group never joined', (d) => d.move(0, 1, 9), 'unknownGroup', /has not joined/],
      ['a move of a negative bucket', (d) => d.move(-1, 2, 1), 'bucketOutOfRange', /0\.\.9/],
      ['a move past the last bucket', (d) => d.move(5, 10, 1), 'bucketOutOfRange', /0\.\.9/],
      ['a move of a range given high to low', (d) => d.move(4, 0, 1), 'bucketOutOfRange', /low to high/],
      ['a group with no members', (d) => d.join([{ gid: 5, members: [] }]), 'badMembers', /no members/],
      ['a group of 10 members', (d) => d.join([groupInfo(5, 10)]), 'badMembers', /over the limit of 9/],
      [
        'a group naming a member twice',
        (d) =>
          d.join([
            {
              gid: 5,
              members: [
                { id: 1, address: 'a:1' },
                { id: 1, address: 'b:1' },
              ],
            },
          ]),
        'badMembers',
        /member id 1 is given twice/,
      ],
      ['a member id of 0', (d) => d.join([{ gid: 5, members: [{ id: 0, address: 'a:1' }] }]), 'badMembers', /1\.\./],
      ['an address without a port', (d) => d.join([member('host')]), 'badAddress', /no ":port"/],
      ['a port of 0', (d) => d.join([member('host:0')]), 'badAddress', /port/],
      ['a port over 65535', (d) => d.join([member('host:65536')]), 'badAddress', /port/],
      ['an IPv6 host without brackets', (d) => d.join([member('::1:7000')]), 'badAddress', /brackets/],
      ['a host with a space', (d) => d.join([member('my host:7000')]), 'badAddress', /DNS name/],
      ['an empty address', (d) => d.join([member('')]), 'badAddress', /empty/],
      ['an address of 300 characters', (d) => d.join([member(`${'a'.repeat(294)}:7000`)]), 'badAddress', /longer/],
      [
        'an address already used by another group',
        (d) => d.join([{ gid: 5, members: [{ id: 1, address: 'g1-n2.test:7000' }] }]),
        'addressInUse',
        /a member of group 1/,
      ],
      [
        'an address used twice in one group',
        (d) =>
          d.join([
            {
              gid: 5,
              members: [
                { id: 1, address: 'x:1' },
                { id: 2, address: 'x:1' },
              ],
            },
          ]),
        'addressInUse',
        /another member of group 5/,
      ],
      ['members of a group never joined', (d) => d.members(9, groupInfo(9).members), 'unknownGroup', /9 has not/],
      ['members of gid 0', (d) => d.members(0, groupInfo(9).members), 'unknownGroup', /0 has not joined/],
      ['members: an empty list', (d) => d.members(1, []), 'badMembers', /group 1: it has no members/],
      ['members: a list of 10', (d) => d.members(1, groupInfo(1, 10).members), 'badMembers', /over the limit of 9/],
      ['members: a member named twice', (d) => d.members(1, [m(4, 'a:1'), m(4, 'b:1')]), 'badMembers', /4 is given/],
      ['members: a member id of 2^32', (d) => d.members(1, [m(2 ** 32, 'a:1')]), 'badMembers', /1\.\.4294967295/],
      ['members: an address without a port', (d) => d.members(1, [m(1, 'host')]), 'badAddress', /no ":port"/],
      [
        'members: an address of another group',
        (d) => d.members(1, [m(1, 'g1-n1.test:7000'), m(4, 'g2-n1.test:7000')]),
        'addressInUse',
        /a member of group 2/,
      ],
      [
        'members: an address given twice',
        (d) => d.members(1, [m(1, 'g1-n1.test:7000'), m(4, 'g1-n1.test:7000')]),
        'addressInUse',
        /another member of group 1/,
      ],
      ['a leave of every group while they own buckets', (d) => d.leave([1, 2]), 'lastGroupOwnsBuckets', /join a group/],
      [
        'a join beyond the group limit',
        (d) => d.join(Array.from({ length: GROUPS_MAX - 1 }, (_, k) => groupInfo(k + 10, 1))),
        'tooManyGroups',
        /over the limit of 1024/,
      ],
      ['bytes that are not JSON', (d) => d.applyBytes(utf8('join 1')), 'malformedCommand', /not JSON/],
      ['bytes that are not UTF-8', (d) => d.applyBytes(new Uint8Array([0xff, 0xfe])), 'malformedCommand', /UTF-8/],
      [
        'an unknown field',
        (d) => d.applyBytes(utf8('{"format":1,"type":"leave","clientId":"a","sequence":1,"gids":[1],"gid":2}')),
        'malformedCommand',
        /unknown field "gid"/,
      ],
      [
        'a gid that is a string',
        (d) => d.applyBytes(utf8('{"format":1,"type":"leave","clientId":"a","sequence":1,"gids":["1"]}')),
        'malformedCommand',
        /command\.gids\[0\]: expected an integer/,
      ],
      [
        'a command of an unknown type',
        (d) => d.applyBytes(utf8('{"format":1,"type":"shutdown"}')),
        'malformedCommand',
        /command\.type: expected one of/,
      ],
      [
        'a command of another format',
        (d) => d.applyBytes(utf8('{"format":2,"type":"query","version":null}')),
        'malformedCommand',
        /command\.format/,
      ],
      [
        'a sequence of 0',
        (d) => d.applyBytes(utf8('{"format":1,"type":"leave","clientId":"a","sequence":0,"gids":[1]}')),
        'malformedCommand',
        /command\.sequence/,
      ],
      [
        'an empty client id',
        (d) => d.applyBytes(utf8('{"format":1,"type":"leave","clientId":"","sequence":1,"gids":[1]}')),
        'malformedCommand',
        /command\.clientId/,
      ],
      [
        'a query of a negative version',
        (d) => d.applyBytes(utf8('{"format":1,"type":"query","version":-1}')),
        'malformedCommand',
        /command\.version/,
      ],
      ['a query of a version not there yet', (d) => d.apply({ type: 'query', version: 3 }), 'noSuchVersion', /0\.\.2/],
    ];
    for (const [what, run, code, message] of cases) {
      it(what, async () => {
        const driver = new MachineDriver();
        await driver.join([groupInfo(1)]);
        await driver.join([groupInfo(2)]);
        const before = chainOf(driver.machine);
        const reply = await run(driver);
        const error = expectError(reply, code as MetaErrorCode);
        assert.match(error.message, message);
        assert.match(error.message, /nothing|does not exist/, 'the message does not say that nothing changed');
        assert.deepEqual(chainOf(driver.machine), before);
      });
    }
  });

  it('applies a retried write once: the retry gets the first reply and creates no version', async () => {
    const driver = new MachineDriver();
    const join = { type: 'join', clientId: 'a', sequence: 1, groups: [groupInfo(1)] } as const;
    const first = await driver.apply(join);
    await driver.join([groupInfo(2)], undefined, 'b');
    const retry = await driver.apply(join);
    assert.equal(retry, first, 'the retry did not get the remembered reply');
    assert.equal(driver.machine.latest.version, 2);
    // A refusal is remembered too: the retried move stays refused after the group appears.
    const move = { type: 'move', clientId: 'a', sequence: 2, fromBucket: 0, toBucket: 0, gid: 3 } as const;
    expectError(await driver.apply(move), 'unknownGroup');
    await driver.join([groupInfo(3)], undefined, 'b');
    expectError(await driver.apply(move), 'unknownGroup');
    // An older sequence than the last one is stale, and is not applied either.
    const stale = expectError(await driver.apply({ ...join, sequence: 1 }), 'staleSequence');
    assert.equal(stale.lastSequence, 2);
    assert.equal(driver.machine.latest.version, 3);
  });

  it('applies a retried members command once, even after a later change of the same group', async () => {
    const driver = new MachineDriver();
    await driver.join([groupInfo(1)], undefined, 'b');
    const replace = {
      type: 'members',
      clientId: 'a',
      sequence: 1,
      gid: 1,
      members: [m(1, 'g1-n1.test:7000'), m(2, 'g1-n2.test:7000'), m(4, 'g1-n4.test:7000')],
    } as const;
    const first = expectConfig(await driver.apply(replace));
    assert.equal(first.version, 2);
    // Another admin puts member 3 back; a late retry of the first command must not undo that.
    assert.equal(expectConfig(await driver.members(1, groupInfo(1).members, 'b')).version, 3);
    const retry = expectConfig(await driver.apply(replace));
    assert.equal(canonicalConfigJson(retry), canonicalConfigJson(first));
    assert.equal(driver.machine.latest.version, 3);
    assert.deepEqual(findGroup(driver.machine.latest, 1)?.members, groupInfo(1).members);
    // A refusal is remembered too: the retried command stays refused after the group joins.
    const unknown = { type: 'members', clientId: 'c', sequence: 1, gid: 5, members: groupInfo(5).members } as const;
    expectError(await driver.apply(unknown), 'unknownGroup');
    await driver.join([groupInfo(5)], undefined, 'b');
    expectError(await driver.apply(unknown), 'unknownGroup');
  });

  it('forgets a client idle for more than dedupIdleEntriesMax entries, counting every entry', async () => {
    const driver = new MachineDriver({ dedupIdleEntriesMax: 3 });
    const join = { type: 'join', clientId: 'a', sequence: 1, groups: [groupInfo(1)] } as const;
    await driver.apply(join);
    await driver.noop();
    await driver.noop();
    await driver.noop();
    assert.equal(driver.machine.clientRecord('a')?.lastSequence, 1);
    await driver.noop();
    assert.equal(driver.machine.clientRecord('a'), undefined);
    // Forgotten: the retry now runs again, and finds the group there.
    expectError(await driver.apply(join), 'groupExists');
  });

  it('answers historical queries with the config each write returned, through the log or directly', async () => {
    const driver = new MachineDriver();
    const returned = [driver.machine.latest];
    returned.push(expectConfig(await driver.join([groupInfo(1)])));
    returned.push(expectConfig(await driver.join([groupInfo(2), groupInfo(3)])));
    returned.push(expectConfig(await driver.move(0, 3, 2)));
    returned.push(expectConfig(await driver.leave([1])));
    returned[0] = expectConfig(driver.machine.query(0));
    for (const config of returned) {
      assert.equal(
        canonicalConfigJson(expectConfig(driver.machine.query(config.version))),
        canonicalConfigJson(config),
      );
      const viaLog = expectConfig(await driver.apply({ type: 'query', version: config.version }));
      assert.equal(canonicalConfigJson(viaLog), canonicalConfigJson(config));
    }
    assert.equal(expectConfig(await driver.apply({ type: 'query', version: null })).version, 4);
    expectError(driver.machine.query(5), 'noSuchVersion');
    expectError(driver.machine.query(-1), 'noSuchVersion');
  });

  it('applies a batch of consecutive entries with one reply each, and refuses a gap', async () => {
    const machine = new MetaStateMachine();
    const join = encodeMetaCommand({ type: 'join', clientId: 'a', sequence: 1, groups: [groupInfo(1)] });
    const query = encodeMetaCommand({ type: 'query', version: null });
    const replies = await machine.applyBatch([
      { index: 1, term: 1, command: null },
      { index: 2, term: 1, command: join },
      { index: 3, term: 1, command: query },
    ]);
    assert.equal(replies[0], undefined);
    assert.equal(expectConfig(replies[1]!).version, 1);
    assert.equal(expectConfig(replies[2]!).version, 1);
    assert.equal(machine.appliedIndex, 3);
    assert.throws(() => void machine.applyBatch([{ index: 5, term: 1, command: null }]), /consecutive/);
  });

  it('gives byte-identical replies on every replica', async () => {
    const a = new MachineDriver();
    const b = new MachineDriver();
    const commands = [
      encodeMetaCommand({ type: 'join', clientId: 'x', sequence: 1, groups: [groupInfo(4), groupInfo(2)] }),
      encodeMetaCommand({ type: 'move', clientId: 'x', sequence: 2, fromBucket: 0, toBucket: 9, gid: 7 }),
      utf8('nonsense'),
      encodeMetaCommand({ type: 'leave', clientId: 'y', sequence: 1, gids: [2] }),
      encodeMetaCommand({ type: 'members', clientId: 'y', sequence: 2, gid: 4, members: [m(9, 'h9:1'), m(1, 'h1:1')] }),
      encodeMetaCommand({ type: 'members', clientId: 'y', sequence: 3, gid: 4, members: [m(1, 'h1:1'), m(9, 'h9:1')] }),
    ];
    for (const bytes of commands) {
      assert.deepEqual(encodeMetaReply(await a.applyBytes(bytes)), encodeMetaReply(await b.applyBytes(bytes)));
    }
  });

  describe('snapshot and restore', () => {
    async function busyMachine(): Promise<MachineDriver> {
      const driver = new MachineDriver({ snapshotChunkBytesMax: 100 });
      await driver.join([groupInfo(1), groupInfo(2)], 17, 'a');
      await driver.join([groupInfo(3)], undefined, 'b');
      await driver.move(0, 5, 3, 'a');
      expectError(await driver.leave([9], 'c'), 'unknownGroup');
      await driver.leave([1], 'b');
      expectConfig(await driver.members(2, REPLACED, 'e'));
      // Changes nothing: the remembered reply is the latest config, which the chain holds already.
      expectConfig(await driver.members(2, [...REPLACED].reverse(), 'f'));
      await driver.noop();
      return driver;
    }

    it('a restored machine holds the same chain and clients, and answers what follows byte for byte the same', async () => {
      const original = await busyMachine();
      const chunks = await collect(original.machine.snapshot());
      assert.ok(chunks.length > 3 && chunks.every((chunk) => chunk.byteLength <= 100), 'chunks are not bounded');
      const restored = new MachineDriver();
      await restored.join([groupInfo(8)]);
      await restored.machine.restore(replay(chunks), original.machine.appliedIndex);
      assert.equal(restored.machine.appliedIndex, original.machine.appliedIndex);
      assert.equal(restored.machine.bucketCount, 17);
      assert.deepEqual(chainOf(restored.machine), chainOf(original.machine));
      for (const clientId of ['a', 'b', 'c']) {
        assert.deepEqual(restored.machine.clientRecord(clientId), original.machine.clientRecord(clientId));
      }
      const next = [
        { type: 'leave', clientId: 'c', sequence: 1, gids: [9] }, // a retry: the remembered error
        { type: 'join', clientId: 'b', sequence: 2, groups: [groupInfo(4)] }, // a retry: the remembered config
        { type: 'move', clientId: 'a', sequence: 1, fromBucket: 0, toBucket: 0, gid: 2 }, // stale
        { type: 'join', clientId: 'd', sequence: 1, groups: [groupInfo(5)] },
        { type: 'members', clientId: 'e', sequence: 1, gid: 3, members: groupInfo(3, 1).members }, // a retry
        { type: 'members', clientId: 'f', sequence: 1, gid: 3, members: groupInfo(3, 1).members }, // a retry
        { type: 'members', clientId: 'g', sequence: 1, gid: 3, members: groupInfo(3, 1).members },
        { type: 'query', version: 5 },
      ] as const;
      for (const command of next) {
        const bytes = encodeMetaCommand(command);
        assert.deepEqual(
          encodeMetaReply(await restored.applyBytes(bytes)),
          encodeMetaReply(await original.applyBytes(bytes)),
        );
      }
      assert.deepEqual(
        Buffer.concat(await collect(restored.machine.snapshot())),
        Buffer.concat(await collect(original.machine.snapshot())),
      );
    });

    it('captures the state at the moment of the call, while applies go on', async () => {
      const driver = await busyMachine();
      const index = driver.machine.appliedIndex;
      const chain = chainOf(driver.machine);
      const stream = driver.machine.snapshot();
      await driver.join([groupInfo(6)], undefined, 'late');
      const restored = new MetaStateMachine();
      await restored.restore(stream, index);
      assert.deepEqual(chainOf(restored), chain);
      assert.equal(restored.clientRecord('late'), undefined);
    });

    it('restores an empty machine', async () => {
      const empty = new MachineDriver();
      await empty.noop();
      const restored = new MetaStateMachine();
      await restored.restore(empty.machine.snapshot(), 1);
      assert.equal(restored.bucketCount, null);
      assert.deepEqual(chainOf(restored), chainOf(empty.machine));
    });

    it('refuses a damaged or misplaced stream and keeps its state', async () => {
      const original = await busyMachine();
      const bytes = Buffer.concat(await collect(original.machine.snapshot()));
      const index = original.machine.appliedIndex;
      const text = bytes.toString('utf8');
      const damaged: [string, Uint8Array, number][] = [
        ['cut short at a line end', bytes.subarray(0, text.lastIndexOf('\n', text.length - 2) + 1), index],
        ['cut inside a line', bytes.subarray(0, bytes.byteLength - 5), index],
        ['with a line too many', Buffer.concat([bytes, utf8('{}\n')]), index],
        ['installed at another index', bytes, index + 1],
        [
          'with a bucket given to a group that is not there',
          utf8(text.replace('"buckets":[3,', '"buckets":[77,')),
          index,
        ],
        [
          'with a byte that is not UTF-8',
          Buffer.concat([bytes.subarray(0, 10), Buffer.from([0xff]), bytes.subarray(11)]),
          index,
        ],
        ['with an unknown field', utf8(text.replace('"lastSequence"', '"x":1,"lastSequence"')), index],
        ['empty', new Uint8Array(0), index],
      ];
      const target = await busyMachine();
      await target.join([groupInfo(9)], undefined, 'z');
      const chain = chainOf(target.machine);
      for (const [what, stream, at] of damaged) {
        await assert.rejects(
          target.machine.restore(replay([stream]), at),
          (error: unknown) => error instanceof MetaSnapshotCorruptionError,
          what,
        );
        assert.deepEqual(chainOf(target.machine), chain, `${what}: the state changed`);
      }
    });
  });
});

/** Group 2's members after member 3 was replaced by member 4. */
const REPLACED: readonly MemberInfo[] = [m(1, 'g2-n1.test:7000'), m(2, 'g2-n2.test:7000'), m(4, 'g2-n4.test:7000')];

function m(id: number, address: string): MemberInfo {
  return { id, address };
}

function member(address: string): GroupInfo {
  return { gid: 5, members: [{ id: 1, address }] };
}
