/**
 * KvClient over real loopback sockets, where the wire and the router meet
 * the client: what a user sees when the members named are not a KV group.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realClientClock } from '../../../src/client/channel.js';
import { ClientError } from '../../../src/client/errors.js';
import { KvClient } from '../../../src/client/kv-client.js';
import { TcpGroupChannel } from '../../../src/client/tcp-channel.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { GroupService } from '../../../src/transport/service-protocol.js';
import { routeServices } from '../../../src/transport/service-router.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import { HOST } from '../transport/loopback.js';

const CLUSTER = 'test-cluster';

/** A meta group's member, as far as this test cares: it answers whatever reaches it. */
const metaService: GroupService = { handle: () => Promise.resolve({ ok: true, reply: new Uint8Array() }) };

describe('KvClient over TCP', () => {
  it('pointed at a meta node, it fails at once with wrongService, saying what the node serves', async () => {
    const server = await TcpServer.start({
      host: HOST,
      port: 0,
      clusterId: CLUSTER,
      selfId: 1,
      logger: silentLogger,
      service: routeServices({ meta: metaService }),
    });
    const channel = new TcpGroupChannel({
      members: new Map([[1, { host: HOST, port: server.port }]]),
      clusterId: CLUSTER,
    });
    const client = new KvClient({
      members: [1],
      channel,
      clock: realClientClock,
      clientId: 'test',
      random: Math.random,
      deadlineMs: 60_000,
    });
    try {
      for (const call of [() => client.put('k', 'v'), () => client.get('k')]) {
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof ClientError);
          assert.equal(error.code, 'wrongService');
          assert.match(error.message, /^node 1: this node serves meta, not kv: /);
          return true;
        });
      }
    } finally {
      channel.close();
      await server.close();
    }
  });
});
