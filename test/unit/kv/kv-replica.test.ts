/**
 * KvReplica as the 'kv' service of a member: what it answers to the bytes a
 * client sends, on a three-member group on the simulated network.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReply, encodeCommand } from '../../../src/kv/command-codec.js';
import type { KvCommand, KvReply } from '../../../src/kv/commands.js';
import { KEY_BYTES_MAX, utf8 } from '../../../src/kv/commands.js';
import { KvReplica } from '../../../src/kv/kv-replica.js';
import type { RaftNode } from '../../../src/node/raft-node.js';
import type { NodeId } from '../../../src/raft/index.js';
import type { ServiceRequest, ServiceResult } from '../../../src/transport/service-protocol.js';
import { KvSim } from '../../support/kv-sim.js';

const SEED = 11;
const MEMBERS = [1, 2, 3];

interface Group {
  readonly sim: KvSim;
  readonly leader: RaftNode;
  readonly follower: NodeId;
  readonly replica: (id: NodeId) => KvReplica;
  /** Every command the leader proposed, as the very objects it was handed. */
  readonly proposed: Uint8Array[];
}

async function startGroup(): Promise<Group> {
  const sim = new KvSim(SEED, MEMBERS);
  await sim.startAll();
  const leader = await sim.group.electLeader();
  const proposed: Uint8Array[] = [];
  const propose = leader.propose.bind(leader);
  leader.propose = (command) => {
    proposed.push(command);
    return propose(command);
  };
  const replica = (id: NodeId): KvReplica => new KvReplica(sim.group.node(id), sim.group.machine(id));
  return { sim, leader, follower: MEMBERS.find((id) => id !== leader.id)!, replica, proposed };
}

function kvRequest(command: KvCommand, stale = false): ServiceRequest {
  return { service: 'kv', stale, payload: encodeCommand(command) };
}

/** The KV reply of an ok result; a service error fails the test. */
function kvReply(result: ServiceResult): KvReply {
  assert.ok(result.ok, result.ok ? '' : `${result.error.code}: ${result.error.message}`);
  return decodeReply(result.reply);
}

const put = (key: string, value: string, sequence: number): KvCommand => ({
  type: 'put',
  clientId: 'c',
  sequence,
  key: utf8(key),
  value: utf8(value),
});

describe('KvReplica, the kv service of a member', () => {
  it('a write is proposed as the very bytes that came in, and answered with the encoded reply', async () => {
    const { sim, leader, replica, proposed } = await startGroup();
    const request = kvRequest(put('a', 'A', 1));
    assert.deepEqual(kvReply(await sim.await(replica(leader.id).handle(request))), { ok: true });
    assert.equal(proposed.length, 1);
    assert.equal(proposed[0], request.payload, 'the payload itself, not a re-encoding');
    const read = await sim.await(replica(leader.id).handle(kvRequest({ type: 'get', key: utf8('a') })));
    assert.deepEqual(kvReply(read), { ok: true, value: utf8('A') });
  });

  it('a payload that is no command is answered malformedCommand, and nothing enters the log', async () => {
    const { sim, leader, replica, proposed } = await startGroup();
    const lastIndex = leader.core.lastIndex;
    const request: ServiceRequest = { service: 'kv', stale: false, payload: Uint8Array.from([1, 0xff]) };
    const reply = kvReply(await sim.await(replica(leader.id).handle(request)));
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'malformedCommand');
    assert.match(reply.error.message, /command kind 255 is unknown/);
    assert.deepEqual(proposed, []);
    assert.equal(leader.core.lastIndex, lastIndex);
  });

  it('a key over the limit is refused on any member before a read barrier or a log entry', async () => {
    const { sim, leader, follower, replica, proposed } = await startGroup();
    const key = new Uint8Array(KEY_BYTES_MAX + 1);
    for (const command of [
      { type: 'get', key },
      { ...put('', 'v', 1), key },
    ] as const) {
      const reply = kvReply(await sim.await(replica(follower).handle(kvRequest(command))));
      assert.ok(!reply.ok);
      assert.equal(reply.error.code, 'keyTooLarge', command.type);
    }
    assert.deepEqual(proposed, []);
    assert.equal(leader.core.role, 'leader');
  });

  it("a follower answers reads (through the leader's read index, or stale) and sends writes to the leader", async () => {
    const { sim, leader, follower, replica } = await startGroup();
    await sim.await(replica(leader.id).handle(kvRequest(put('k', 'v', 1))));
    const get: KvCommand = { type: 'get', key: utf8('k') };
    const read = await sim.await(replica(follower).handle(kvRequest(get)));
    assert.deepEqual(kvReply(read), { ok: true, value: utf8('v') }, 'the follower waited to apply the write');
    const stale = await sim.await(replica(follower).handle(kvRequest(get, true)));
    assert.deepEqual(kvReply(stale), { ok: true, value: utf8('v') });
    const refused = await sim.await(replica(follower).handle(kvRequest(put('k', 'w', 2))));
    assert.deepEqual(refused, {
      ok: false,
      error: {
        code: 'notLeader',
        message: `this node is not the leader: retry on node ${leader.id}`,
        leader: leader.id,
      },
    });
  });

  it('a request for another service is answered unsupported, naming kv', async () => {
    const { sim, leader, replica, proposed } = await startGroup();
    const request: ServiceRequest = { service: 'meta', stale: false, payload: encodeCommand(put('a', 'A', 1)) };
    const answer = await sim.await(replica(leader.id).handle(request));
    assert.ok(!answer.ok);
    assert.equal(answer.error.code, 'unsupported');
    assert.match(answer.error.message, /^this node serves kv, not meta/);
    assert.deepEqual(proposed, []);
  });
});
