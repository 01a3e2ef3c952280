import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MemberServer } from '../../../src/api/member-server.js';
import { withStatusService } from '../../../src/api/status-service.js';
import { realClientClock } from '../../../src/client/channel.js';
import { KvClient } from '../../../src/client/kv-client.js';
import { askNodeStatus } from '../../../src/client/status-client.js';
import { TcpGroupChannel } from '../../../src/client/tcp-channel.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { NodeStatus } from '../../../src/node/node-status.js';
import { decodeNodeStatus, encodeNodeStatus } from '../../../src/node/status-codec.js';
import type { GroupService } from '../../../src/transport/service-protocol.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import { closedPort, HOST } from '../transport/loopback.js';

const CLUSTER = 'status-test';
const TIMEOUT_MS = 2_000;

const STATUS: NodeStatus = {
  id: 7,
  gid: 2,
  role: 'follower',
  term: 3,
  leaderId: 8,
  commitIndex: 40,
  appliedIndex: 39,
  lastIndex: 41,
  snapshotIndex: 20,
  snapshotTerm: 2,
  logBytes: 1234,
  configVersion: 5,
  bucketsInTransit: [{ bucket: 4, state: 'pulling from group 1' }],
  uptimeSeconds: 12,
};

const kvOnly: GroupService = {
  handle: (request) => Promise.resolve({ ok: true, reply: new TextEncoder().encode(`kv answered ${request.service}`) }),
};

async function serve(service: GroupService, clusterId = CLUSTER): Promise<TcpServer> {
  return TcpServer.start({ host: HOST, port: 0, clusterId, selfId: 1, logger: silentLogger, service });
}

describe('the status service', () => {
  it('answers the status of the node in front of whatever else it serves', async () => {
    const server = await serve(withStatusService(kvOnly, () => STATUS));
    try {
      const answer = await askNodeStatus(
        { host: HOST, port: server.port },
        { clusterId: CLUSTER, timeoutMs: TIMEOUT_MS },
      );
      assert.deepEqual(answer, { ok: true, status: STATUS });
    } finally {
      await server.close();
    }
  });

  it('reports a node nobody listens for as unreachable, with the reason, instead of throwing', async () => {
    const port = await closedPort();
    const answer = await askNodeStatus({ host: HOST, port }, { clusterId: CLUSTER, timeoutMs: TIMEOUT_MS });
    assert.equal(answer.ok, false);
    assert.match(!answer.ok ? answer.error : '', /^unreachable: nobody listens at 127\.0\.0\.1:\d+/);
  });

  it('reports a node of another cluster as unreachable, saying it refused', async () => {
    const server = await serve(
      withStatusService(kvOnly, () => STATUS),
      'another-cluster',
    );
    try {
      const answer = await askNodeStatus(
        { host: HOST, port: server.port },
        { clusterId: CLUSTER, timeoutMs: TIMEOUT_MS },
      );
      assert.equal(answer.ok, false);
      assert.match(!answer.ok ? answer.error : '', /^unreachable: the server refused the connection: .*cluster/);
    } finally {
      await server.close();
    }
  });

  it('reports a reply that is not a status instead of passing it on', async () => {
    const server = await serve({
      handle: () => Promise.resolve({ ok: true, reply: new TextEncoder().encode('{"role":"boss"}') }),
    });
    try {
      const answer = await askNodeStatus(
        { host: HOST, port: server.port },
        { clusterId: CLUSTER, timeoutMs: TIMEOUT_MS },
      );
      assert.equal(answer.ok, false);
      assert.match(!answer.ok ? answer.error : '', /malformed: role "boss" is unknown/);
    } finally {
      await server.close();
    }
  });

  it('round-trips a status through its codec and refuses negative indexes', () => {
    assert.deepEqual(decodeNodeStatus(encodeNodeStatus(STATUS)), STATUS);
    const bad = new TextEncoder().encode(JSON.stringify({ ...STATUS, commitIndex: -1 }));
    assert.throws(() => decodeNodeStatus(bad), /commitIndex is -1, not a whole number/);
  });

  it('a real one-member group reports itself leader, with the writes in its log and log bytes on disk', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-status-'));
    const members = new Map([[1, { host: HOST, port: 0 }]]);
    const server = await MemberServer.start({
      id: 1,
      members,
      directory,
      clusterId: CLUSTER,
      logger: silentLogger,
      tickMs: 10,
    });
    const channel = new TcpGroupChannel({
      members: new Map([[1, { host: HOST, port: server.peerPort }]]),
      clusterId: CLUSTER,
    });
    try {
      const client = new KvClient({
        members: [1],
        channel,
        clock: realClientClock,
        clientId: 'status-test',
        random: Math.random,
      });
      for (let i = 0; i < 5; i++) await client.put(`key-${i}`, 'value');
      const answer = await askNodeStatus(
        { host: HOST, port: server.peerPort },
        { clusterId: CLUSTER, timeoutMs: TIMEOUT_MS },
      );
      assert.ok(answer.ok, !answer.ok ? answer.error : '');
      const status = answer.status;
      assert.equal(status.id, 1);
      assert.equal(status.gid, null);
      assert.equal(status.role, 'leader');
      assert.equal(status.leaderId, 1);
      assert.ok(status.term >= 1);
      // The leader's first entry of its term, then the five puts.
      assert.ok(status.commitIndex >= 6, `commit index ${status.commitIndex}`);
      assert.ok(status.appliedIndex >= 6 && status.lastIndex >= status.commitIndex);
      assert.ok(status.logBytes > 0, 'the log files hold the entries');
      assert.equal(status.configVersion, null);
      assert.deepEqual(status.bucketsInTransit, []);
    } finally {
      channel.close();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
