/**
 * What a user of the client library sees when the group forgot the client
 * between a write and its retry: an error that says so, not a silent second
 * apply, and not a success. One member, a real KvStateMachine behind a
 * scripted channel that loses the first reply; time moves only when the
 * client waits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientClock, GroupChannel } from '../../../src/client/channel.js';
import { ChannelError } from '../../../src/client/channel.js';
import { ClientError } from '../../../src/client/errors.js';
import { KvClient } from '../../../src/client/kv-client.js';
import { encodeCommand, encodeReply } from '../../../src/kv/command-codec.js';
import { utf8 } from '../../../src/kv/commands.js';
import { MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { KvStateMachine } from '../../../src/kv/state-machine.js';
import type { NodeId } from '../../../src/raft/index.js';
import type { ServiceRequest, ServiceResult } from '../../../src/transport/service-protocol.js';

/** Applies every request to `machine`; `beforeReply` runs after an apply and may lose its reply. */
class OneMemberGroup implements GroupChannel {
  nowMs = 0;
  private attempts = 0;
  readonly clock: ClientClock = {
    nowMs: () => this.nowMs,
    sleep: (delayMs) => {
      this.nowMs += delayMs;
      return Promise.resolve();
    },
  };

  constructor(
    private readonly machine: KvStateMachine,
    private readonly beforeReply: (attempt: number) => Promise<'lose' | 'send'>,
  ) {}

  async call(node: NodeId, request: ServiceRequest, timeoutMs: number): Promise<ServiceResult> {
    const reply = await this.machine.apply(this.machine.appliedIndex + 1, request.payload, 1);
    this.attempts += 1;
    if ((await this.beforeReply(this.attempts)) === 'lose') {
      this.nowMs += timeoutMs;
      throw new ChannelError(node, 'timeout', `node ${node} did not answer within ${timeoutMs} ms`);
    }
    return { ok: true, reply: encodeReply(reply) };
  }

  close(): void {}
}

describe('KvClient when the group evicted it between a write and the retry', () => {
  it('rejects with sessionExpired, and the write is applied once', async () => {
    const machine = await KvStateMachine.open(new MemoryKvEngine(), { dedupClientsMax: 2 });
    const churn = async (): Promise<void> => {
      // Two clients that start after alice's write push her out of the table before her retry lands.
      for (const clientId of ['bob', 'carol']) {
        const command = { type: 'put' as const, clientId, sequence: 1, nowMs: Date.now() + 60_000, key: utf8('o') };
        await machine.apply(machine.appliedIndex + 1, encodeCommand({ ...command, value: utf8('v') }), 1);
      }
    };
    const group = new OneMemberGroup(machine, async (attempt) => {
      if (attempt > 1) return 'send';
      await churn();
      return 'lose';
    });
    const alice = new KvClient({
      members: [1],
      channel: group,
      clock: group.clock,
      clientId: 'alice',
      random: () => 0,
    });
    await assert.rejects(alice.append('k', 'x'), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, 'sessionExpired');
      assert.match(error.message, /no longer remembers this client/);
      return true;
    });
    const value = machine.get(utf8('k'));
    assert.ok(value.ok);
    assert.equal(Buffer.from(value.value!).toString(), 'x');
  });
});
