/**
 * GroupClient, the retry core, against a scripted group: each member's answer
 * is the test's choice, and time moves only when the client sleeps or an
 * attempt times out, so every run is the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientClock, GroupChannel } from '../../../src/client/channel.js';
import { ChannelError } from '../../../src/client/channel.js';
import { ClientError } from '../../../src/client/errors.js';
import { GroupClient } from '../../../src/client/group-client.js';
import type { NodeId } from '../../../src/raft/index.js';
import type { ServiceRequest, ServiceResult } from '../../../src/transport/service-protocol.js';

const MEMBERS = [1, 2, 3];

/** What a member does with a request: answer it, or never answer (the call times out). */
type Behaviour = (request: ServiceRequest) => ServiceResult | 'silent' | 'busy' | 'rejected';

class ScriptedGroup implements GroupChannel {
  nowMs = 0;
  readonly calls: { node: NodeId; request: ServiceRequest }[] = [];
  readonly clock: ClientClock = {
    nowMs: () => this.nowMs,
    sleep: (delayMs) => {
      this.nowMs += delayMs;
      return Promise.resolve();
    },
  };

  constructor(readonly behaviour: (node: NodeId) => Behaviour) {}

  call(node: NodeId, request: ServiceRequest, timeoutMs: number): Promise<ServiceResult> {
    this.calls.push({ node, request });
    const answer = this.behaviour(node)(request);
    if (answer === 'busy' || answer === 'rejected') {
      return Promise.reject(new ChannelError(node, answer, `node ${node}: ${answer}`));
    }
    if (answer !== 'silent') return Promise.resolve(answer);
    this.nowMs += timeoutMs;
    return Promise.reject(new ChannelError(node, 'timeout', `node ${node} did not answer within ${timeoutMs} ms`));
  }

  close(): void {}

  client(options: { deadlineMs?: number } = {}): GroupClient {
    return new GroupClient({
      service: 'meta',
      members: MEMBERS,
      channel: this,
      clock: this.clock,
      random: () => 0,
      deadlineMs: options.deadlineMs ?? 10_000,
    });
  }
}

const reply = (text: string): ServiceResult => ({ ok: true, reply: new TextEncoder().encode(text) });
const notLeader = (leader: NodeId | null): ServiceResult => ({
  ok: false,
  error: { code: 'notLeader', message: 'not the leader', leader },
});
const payload = Uint8Array.from([7, 7]);

describe('GroupClient, the retry core of every group client', () => {
  it('follows the leader hint, remembers the leader, and sends the same bytes to the service it speaks', async () => {
    const group = new ScriptedGroup((node) => () => (node === 3 ? reply('done') : notLeader(3)));
    const client = group.client();
    const answer = await client.call({ payload, kind: 'write' });
    assert.equal(new TextDecoder().decode(answer), 'done');
    assert.equal(client.knownLeader, 3);
    assert.deepEqual(
      group.calls.map((call) => call.node),
      [1, 3],
    );
    for (const call of group.calls) assert.deepEqual(call.request, { service: 'meta', stale: false, payload });
    await client.call({ payload, kind: 'read' });
    assert.equal(group.calls.at(-1)?.node, 3, 'the next call goes straight to the known leader');
  });

  it('a stale read is answered by whoever it reaches, and does not make that member the known leader', async () => {
    const group = new ScriptedGroup(() => (request) => (request.stale ? reply('old') : notLeader(null)));
    const client = group.client();
    await client.call({ payload, kind: 'read', stale: true });
    assert.equal(client.knownLeader, null);
    assert.equal(group.calls[0]?.request.stale, true);
  });

  it('retries through timeouts and elections, backing off, until the deadline, then says what it last saw', async () => {
    const group = new ScriptedGroup((node) => () => (node === 2 ? 'silent' : notLeader(null)));
    const client = group.client({ deadlineMs: 3_000 });
    await assert.rejects(client.call({ payload, kind: 'write' }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, 'deadlineExceeded');
      assert.match(error.message, /within 3000 ms \(last: .*\); the write may or may not have been applied$/);
      return true;
    });
    assert.ok(group.calls.length > MEMBERS.length, 'it went round the members more than once');
    await assert.rejects(client.call({ payload, kind: 'read' }), /retry the read$/);
  });

  it('a member that does not serve the service ends the call at once with wrongService and its message', async () => {
    const group = new ScriptedGroup(() => () => ({
      ok: false,
      error: {
        code: 'unsupported',
        message: 'this node serves kv, not meta: point the admin client at a meta node',
        leader: null,
      },
    }));
    const client = group.client();
    await assert.rejects(client.call({ payload, kind: 'read' }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, 'wrongService');
      assert.equal(error.message, 'node 1: this node serves kv, not meta: point the admin client at a meta node');
      return true;
    });
    assert.equal(group.calls.length, 1, 'no retry');
  });

  it('a closed client refuses calls', async () => {
    const group = new ScriptedGroup(() => () => reply('x'));
    const client = group.client();
    client.close();
    await assert.rejects(client.call({ payload, kind: 'read' }), (error: unknown) => {
      return error instanceof ClientError && error.code === 'closed';
    });
    assert.equal(group.calls.length, 0);
  });

  it('backs off and tries the same member again when its connection is busy', async () => {
    let busyLeft = 2;
    const group = new ScriptedGroup(() => () => (busyLeft-- > 0 ? 'busy' : reply('done')));
    const answer = await group.client().call({ payload, kind: 'write' });
    assert.equal(new TextDecoder().decode(answer), 'done');
    assert.deepEqual(
      group.calls.map((call) => call.node),
      [1, 1, 1],
    );
    assert.ok(group.nowMs > 0, 'it did not back off');
  });

  it('gives up at once when a node refuses it (another cluster), instead of retrying until the deadline', async () => {
    const group = new ScriptedGroup(() => () => 'rejected');
    await assert.rejects(group.client().call({ payload, kind: 'write' }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, 'rejected');
      return true;
    });
    assert.equal(group.calls.length, 1);
  });
});
