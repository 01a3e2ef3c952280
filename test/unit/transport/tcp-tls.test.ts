/**
 * TLS on a node's port, on real loopback sockets: clients that trust the
 * cluster's CA are served; a plaintext client, a client that trusts another
 * CA, and a peer whose certificate the cluster's CA did not sign are each
 * refused with a reason a person can act on, and the server goes on
 * serving everyone else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../../src/log/logger.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Message, NodeId } from '../../../src/raft/index.js';
import { TcpClientConnection } from '../../../src/transport/client-connection.js';
import { ConnectionError } from '../../../src/transport/errors.js';
import type { GroupService } from '../../../src/transport/service-protocol.js';
import type { NodeTls } from '../../../src/transport/tls.js';
import { TcpPeerTransport } from '../../../src/transport/tcp-transport.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import type { TestPki } from '../support/test-certs.js';
import { makeTestPki } from '../support/test-certs.js';
import { HOST, waitFor } from './loopback.js';

const CLUSTER = 'test-cluster';
const TIMEOUT_MS = 2_000;

/** Keeps warnings, the lines an operator would read; drops the rest. */
class RecordingLogger implements Logger {
  readonly warnings: string[] = [];
  debug(): void {}
  info(): void {}
  warn(fields: object, message: string): void {
    this.warnings.push(`${message} ${JSON.stringify(fields)}`);
  }
  error(fields: object, message: string): void {
    this.warnings.push(`${message} ${JSON.stringify(fields)}`);
  }
  child(): Logger {
    return this;
  }
}

const echoService: GroupService = {
  handle: (request) => Promise.resolve({ ok: true, reply: request.payload }),
};

const heartbeat = (from: NodeId, to: NodeId, round: number): Message => ({
  type: 'heartbeat',
  term: 1,
  from,
  to,
  commit: 0,
  readContext: null,
  round,
});

async function echo(connection: TcpClientConnection, text: string): Promise<string> {
  const result = await connection.call({ service: 'kv', stale: false, payload: Buffer.from(text) }, TIMEOUT_MS);
  assert.ok(result.ok);
  return Buffer.from(result.reply).toString();
}

/** The ConnectionError a first call on a new connection fails with. */
async function refusal(options: ConstructorParameters<typeof TcpClientConnection>[0]): Promise<ConnectionError> {
  const connection = new TcpClientConnection(options);
  try {
    await connection.call({ service: 'kv', stale: false, payload: Buffer.from('x') }, TIMEOUT_MS);
  } catch (error) {
    assert.ok(error instanceof ConnectionError, String(error));
    return error;
  } finally {
    connection.close();
  }
  assert.fail('the call was answered');
}

function startNode(selfId: NodeId, tls: NodeTls | undefined, logger: Logger, received: Message[] = []) {
  return TcpServer.start({
    host: HOST,
    port: 0,
    clusterId: CLUSTER,
    selfId,
    logger,
    service: echoService,
    onPeerMessage: (message) => received.push(message),
    ...(tls === undefined ? {} : { tls }),
  });
}

describe('TLS on the node port', () => {
  let pki: TestPki;
  before(async () => {
    pki = await makeTestPki();
  });
  after(async () => {
    await pki.remove();
  });

  it('serves a client that trusts the cluster CA, and tells a plaintext client to use TLS', async () => {
    const logger = new RecordingLogger();
    const server = await startNode(1, pki.node, logger);
    const secure = await TcpClientConnection.connect({
      host: HOST,
      port: server.port,
      clusterId: CLUSTER,
      tls: { ca: pki.node.ca },
    });
    try {
      assert.equal(await echo(secure, 'over tls'), 'over tls');
      const plaintext = await refusal({ host: HOST, port: server.port, clusterId: CLUSTER });
      assert.equal(plaintext.reason, 'rejected');
      assert.match(plaintext.message, /this port speaks TLS only: connect with TLS \(raftkv commands: --tls-ca FILE/);
      assert.ok(logger.warnings.some((line) => line.startsWith('refused a plaintext connection')));
      assert.equal(await echo(secure, 'still served'), 'still served');
    } finally {
      secure.close();
      await server.close();
    }
  });

  it('a client that trusts another CA refuses the node, saying the certificate is not trusted', async () => {
    const server = await startNode(1, pki.node, silentLogger);
    try {
      const error = await refusal({ host: HOST, port: server.port, clusterId: CLUSTER, tls: { ca: pki.rogue.ca } });
      assert.equal(error.reason, 'refused');
      assert.match(error.message, /its certificate is not trusted .*--tls-ca/);
    } finally {
      await server.close();
    }
  });

  it('a TLS client to a plaintext port is told that the node does not speak TLS', async () => {
    const server = await startNode(1, undefined, silentLogger);
    try {
      const error = await refusal({ host: HOST, port: server.port, clusterId: CLUSTER, tls: { ca: pki.node.ca } });
      assert.match(error.message, /it does not speak TLS: was it started without --tls-cert\?/);
    } finally {
      await server.close();
    }
  });

  it('peers with certificates of the cluster CA exchange messages over mutual TLS', async () => {
    const received: Message[] = [];
    const server = await startNode(2, pki.node, silentLogger, received);
    const peers = new TcpPeerTransport({
      selfId: 1,
      clusterId: CLUSTER,
      peers: new Map([[2, { host: HOST, port: server.port }]]),
      logger: silentLogger,
      tls: pki.node,
    });
    try {
      peers.send(heartbeat(1, 2, 1));
      peers.send(heartbeat(1, 2, 2));
      await waitFor(() => received.length === 2, 'both heartbeats at node 2');
      assert.deepEqual(received, [heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    } finally {
      peers.close();
      await server.close();
    }
  });

  it('a peer whose certificate another CA signed is refused with a log line that says so; members go on', async () => {
    const logger = new RecordingLogger();
    const received: Message[] = [];
    const server = await startNode(2, pki.node, logger, received);
    const address = new Map([[2, { host: HOST, port: server.port }]]);
    const options = { clusterId: CLUSTER, peers: address, reconnectDelayMsMin: 5, reconnectDelayMsMax: 20 };
    // The intruder trusts the cluster CA (it checks the node fine) but cannot show a certificate that CA signed.
    const intruder = new TcpPeerTransport({
      ...options,
      selfId: 3,
      logger: silentLogger,
      tls: { ...pki.rogue, ca: pki.node.ca },
    });
    const member = new TcpPeerTransport({ ...options, selfId: 1, logger: silentLogger, tls: pki.node });
    try {
      intruder.send(heartbeat(3, 2, 1));
      await waitFor(() => server.counters.connectionsRejected >= 1, 'the intruder refused');
      assert.ok(
        logger.warnings.some((line) =>
          /refused peer node 3: its certificate is not signed by this cluster's CA .*--tls-ca/.test(line),
        ),
        logger.warnings.join('\n'),
      );
      member.send(heartbeat(1, 2, 1));
      await waitFor(() => received.length === 1, "the member's heartbeat");
      assert.deepEqual(received, [heartbeat(1, 2, 1)]);
      assert.equal(server.counters.peerMessagesReceived, 1);
    } finally {
      intruder.close();
      member.close();
      await server.close();
    }
  });

  it('a node does not send to a peer whose certificate another CA signed', async () => {
    const received: Message[] = [];
    const rogueServer = await startNode(2, pki.rogue, silentLogger, received);
    const logger = new RecordingLogger();
    const member = new TcpPeerTransport({
      selfId: 1,
      clusterId: CLUSTER,
      peers: new Map([[2, { host: HOST, port: rogueServer.port }]]),
      logger,
      tls: pki.node,
      reconnectDelayMsMin: 5,
      reconnectDelayMsMax: 20,
    });
    try {
      member.send(heartbeat(1, 2, 1));
      await waitFor(() => logger.warnings.length > 0, 'a warning about the peer');
      assert.match(logger.warnings[0]!, /refused to connect to the peer: its certificate is not trusted/);
      member.send(heartbeat(1, 2, 2));
      await waitFor(() => member.counters.reconnects >= 2, 'two more attempts');
      assert.deepEqual(received, []);
      assert.equal(rogueServer.counters.peerMessagesReceived, 0);
    } finally {
      member.close();
      await rogueServer.close();
    }
  });
});
