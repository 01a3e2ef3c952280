/**
 * KvClient with a member in its own process (LocalKvMember): served directly
 * while that member is the leader it knows, the long way otherwise, and a
 * write that moves from one path to the other keeps its bytes, so its client
 * id and sequence, and is applied once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientClock, GroupChannel } from '../../../src/client/channel.js';
import { KvClient } from '../../../src/client/kv-client.js';
import type { LocalKvMember, LocalServed } from '../../../src/client/local-member.js';
import { decodeCommand, encodeReply } from '../../../src/kv/command-codec.js';
import type { KvCommand } from '../../../src/kv/commands.js';
import { utf8, utf8Text } from '../../../src/kv/commands.js';
import type { NodeId } from '../../../src/raft/index.js';
import type { ServiceRequest, ServiceResult } from '../../../src/transport/service-protocol.js';

const LOCAL: NodeId = 1;

/** A group whose leader is the test's choice; it applies each (client id, sequence) once and logs the path it came by. */
class FakeGroup implements GroupChannel, LocalKvMember {
  leader: NodeId = LOCAL;
  /** The local member applies writes but answers as if it timed out (outcome unknown). */
  loseLocalAnswers = false;
  readonly id = LOCAL;
  readonly applied: { key: string; path: 'local' | `channel to ${number}` }[] = [];
  readonly values = new Map<string, string>();
  private readonly seen = new Set<string>();
  readonly clock: ClientClock = { nowMs: () => 0, sleep: () => Promise.resolve() };

  serve(command: KvCommand, payload: Uint8Array, _stale: boolean): Promise<LocalServed> {
    assert.deepEqual(decodeCommand(payload), command, 'the payload is the encoding of the command');
    if (this.leader !== LOCAL) return Promise.resolve({ ok: false });
    if (this.loseLocalAnswers) {
      this.apply(payload, 'local');
      return Promise.resolve({ ok: false });
    }
    return Promise.resolve({ ok: true, reply: this.apply(payload, 'local') });
  }

  call(node: NodeId, request: ServiceRequest): Promise<ServiceResult> {
    if (node !== this.leader) {
      const message = `not the leader; retry on node ${this.leader}`;
      return Promise.resolve({ ok: false, error: { code: 'notLeader', message, leader: this.leader } });
    }
    return Promise.resolve({ ok: true, reply: encodeReply(this.apply(request.payload, `channel to ${node}`)) });
  }

  close(): void {}

  private apply(payload: Uint8Array, path: 'local' | `channel to ${number}`): { ok: true; value?: Uint8Array } {
    const command = decodeCommand(payload);
    if (command.type === 'get') {
      const value = this.values.get(utf8Text(command.key));
      return value === undefined ? { ok: true } : { ok: true, value: utf8(value) };
    }
    if (command.type !== 'put') throw new Error(`the fake group takes get and put, not ${command.type}`);
    const stamp = `${command.clientId}/${command.sequence}`;
    if (!this.seen.has(stamp)) {
      this.seen.add(stamp);
      this.values.set(utf8Text(command.key), utf8Text(command.value));
      this.applied.push({ key: utf8Text(command.key), path });
    }
    return { ok: true };
  }
}

function clientOf(group: FakeGroup, local: LocalKvMember | undefined): KvClient {
  return new KvClient({
    members: [1, 2, 3],
    channel: group,
    clock: group.clock,
    clientId: 'local-test',
    random: () => 0,
    ...(local === undefined ? {} : { local }),
  });
}

describe('KvClient with a member in its own process', () => {
  it('is served directly while that member leads, and the long way once another does', async () => {
    const group = new FakeGroup();
    const client = clientOf(group, group);
    await client.put('a', '1'); // the leader is not known yet: found the long way
    await client.put('b', '2');
    assert.equal(utf8Text((await client.get('b'))!), '2');
    group.leader = 2;
    await client.put('c', '3'); // refused here, then redirected
    await client.put('d', '4');
    assert.deepEqual(group.applied, [
      { key: 'a', path: 'channel to 1' },
      { key: 'b', path: 'local' },
      { key: 'c', path: 'channel to 2' },
      { key: 'd', path: 'channel to 2' },
    ]);
    assert.equal(utf8Text((await client.get('d'))!), '4');
  });

  it('a write whose direct answer was lost is retried the long way with the same stamp, and applied once', async () => {
    const group = new FakeGroup();
    const client = clientOf(group, group);
    await client.put('a', '1');
    group.loseLocalAnswers = true;
    await client.put('b', '2');
    group.loseLocalAnswers = false;
    await client.put('b', '3');
    assert.deepEqual(group.applied, [
      { key: 'a', path: 'channel to 1' },
      { key: 'b', path: 'local' },
      { key: 'b', path: 'local' },
    ]);
    assert.equal(group.values.get('b'), '3');
  });

  it('a member that is not one of the group is never called directly', async () => {
    const group = new FakeGroup();
    const stranger: LocalKvMember = { id: 7, serve: () => assert.fail('a stranger was asked') };
    const client = clientOf(group, stranger);
    await client.put('a', '1');
    await client.put('b', '2');
    assert.deepEqual(
      group.applied.map((write) => write.path),
      ['channel to 1', 'channel to 1'],
    );
  });

  it('puts called together while the member leads run one at a time, in call order, each with its own sequence', async () => {
    const group = new FakeGroup();
    const client = clientOf(group, group);
    await client.put('a', '0'); // learns the leader
    // Not awaited one by one: the first goes straight to the member, the others wait for their turn.
    await Promise.all([client.put('k', '1'), client.put('k', '2'), client.get('k'), client.put('k', '3')]);
    // A sequence taken twice would have been dropped as a retry; one taken out of order would leave '2'.
    assert.deepEqual(
      group.applied.map((write) => write.path),
      ['channel to 1', 'local', 'local', 'local'],
    );
    assert.equal(group.values.get('k'), '3');
  });

  it('a put that fails before it reaches the member gives its turn back to the next call', async () => {
    const group = new FakeGroup();
    const client = clientOf(group, group);
    await client.put('a', '1');
    client.wallClockMs = () => {
      throw new Error('clock broken');
    };
    await assert.rejects(client.put('b', '2'), /clock broken/);
    client.wallClockMs = () => Date.now();
    await client.put('c', '3');
    assert.deepEqual(
      group.applied.map((write) => write.key),
      ['a', 'c'],
    );
  });
});
