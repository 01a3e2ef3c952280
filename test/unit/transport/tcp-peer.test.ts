import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import type { Message, NodeId } from '../../../src/raft/index.js';
import { SeededRandom } from '../../../src/sim/random.js';
import { encodeFrame } from '../../../src/transport/frame.js';
import { encodeHello } from '../../../src/transport/handshake.js';
import { encodeRaftMessage } from '../../../src/transport/raft-message-codec.js';
import type { TcpPeerTransportOptions } from '../../../src/transport/tcp-transport.js';
import { TcpPeerTransport } from '../../../src/transport/tcp-transport.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import { closedPort, HOST, RawConnection, waitFor } from './loopback.js';
import { MESSAGE_TYPES, randomMessage } from './random-messages.js';

const CLUSTER = 'test-cluster';

/** A node's receiving side: its server, and what arrived there. */
interface Receiver {
  readonly server: TcpServer;
  readonly received: Message[];
}

async function startReceiver(selfId: NodeId, port = 0, frameBytesMax?: number, authToken?: string): Promise<Receiver> {
  const received: Message[] = [];
  const server = await TcpServer.start({
    host: HOST,
    port,
    clusterId: CLUSTER,
    selfId,
    logger: silentLogger,
    onPeerMessage: (message) => received.push(message),
    ...(frameBytesMax === undefined ? {} : { frameBytesMax }),
    ...(authToken === undefined ? {} : { authToken }),
  });
  return { server, received };
}

function transport(
  selfId: NodeId,
  peers: [NodeId, number][],
  options: Partial<TcpPeerTransportOptions> = {},
): TcpPeerTransport {
  return new TcpPeerTransport({
    selfId,
    clusterId: CLUSTER,
    peers: new Map(peers.map(([id, port]) => [id, { host: HOST, port }])),
    logger: silentLogger,
    reconnectDelayMsMin: 5,
    reconnectDelayMsMax: 20,
    ...options,
  });
}

const heartbeat = (from: NodeId, to: NodeId, round: number): Message => ({
  type: 'heartbeat',
  term: 1,
  from,
  to,
  commit: 0,
  readContext: null,
  round,
});

describe('TCP peer transport and server', () => {
  it('messages of every type arrive, in order, between two nodes and back', async () => {
    const [one, two] = [await startReceiver(1), await startReceiver(2)];
    const oneToTwo = transport(1, [[2, two.server.port]]);
    const twoToOne = transport(2, [[1, one.server.port]]);
    try {
      const random = new SeededRandom(7);
      const sent = MESSAGE_TYPES.map((type) => ({ ...randomMessage(random, type), from: 1, to: 2 }));
      for (const message of sent) oneToTwo.send(message);
      await waitFor(() => two.received.length === sent.length, 'every message at node 2');
      assert.deepEqual(two.received, sent);
      twoToOne.send(heartbeat(2, 1, 1));
      await waitFor(() => one.received.length === 1, 'the answer at node 1');
      assert.deepEqual(one.received, [heartbeat(2, 1, 1)]);
      assert.deepEqual(oneToTwo.counters, { messagesSent: sent.length, messagesDropped: 0, reconnects: 0 });
      assert.equal(two.server.counters.peerMessagesReceived, sent.length);
    } finally {
      oneToTwo.close();
      twoToOne.close();
      await Promise.all([one.server.close(), two.server.close()]);
    }
  });

  it('a peer that is down at first is reached once it starts', async () => {
    const port = await closedPort();
    const sender = transport(1, [[2, port]]);
    let receiver: Receiver | null = null;
    try {
      sender.send(heartbeat(1, 2, 1));
      await waitFor(() => sender.counters.reconnects >= 2, 'a failed connection and retries');
      receiver = await startReceiver(2, port);
      const { received } = receiver;
      await waitFor(() => received.length === 1, 'the queued message once the peer is up');
      assert.deepEqual(received, [heartbeat(1, 2, 1)]);
    } finally {
      sender.close();
      await receiver?.server.close();
    }
  });

  it('a full queue drops messages (and counts them) rather than growing', async () => {
    const port = await closedPort();
    const sender = transport(1, [[2, port]], { queueMessagesMax: 10, queueBytesMax: 4096 });
    let receiver: Receiver | null = null;
    try {
      for (let round = 1; round <= 25; round++) sender.send(heartbeat(1, 2, round));
      assert.equal(sender.counters.messagesDropped, 15);
      const tooBig: Message = { type: 'readIndexRequest', term: 1, from: 1, to: 2, context: 'x'.repeat(5000) };
      sender.send(tooBig);
      assert.equal(sender.counters.messagesDropped, 16, 'a message over the byte bound is dropped too');
      receiver = await startReceiver(2, port);
      const { received } = receiver;
      await waitFor(() => sender.counters.messagesSent === 10, 'the ten queued messages sent');
      await waitFor(() => received.length === 10, 'the ten queued messages received');
      assert.deepEqual(
        received.map((message) => (message.type === 'heartbeat' ? message.round : -1)),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
    } finally {
      sender.close();
      await receiver?.server.close();
    }
  });

  it('a connection with a wrong cluster id is closed while a good one keeps working', async () => {
    const two = await startReceiver(2);
    const good = transport(1, [[2, two.server.port]]);
    const stranger = new TcpPeerTransport({
      selfId: 3,
      clusterId: 'another-cluster',
      peers: new Map([[2, { host: HOST, port: two.server.port }]]),
      logger: silentLogger,
    });
    const raw = await RawConnection.open(two.server.port);
    try {
      raw.send(...encodeFrame('hello', encodeHello({ role: 'peer', clusterId: 'another-cluster', fromNodeId: 3 })));
      stranger.send(heartbeat(3, 2, 1));
      good.send(heartbeat(1, 2, 1));
      await waitFor(() => raw.closed, 'the stranger connection closed');
      assert.match(raw.rejectReason() ?? '', /cluster id "another-cluster" is not this node's/);
      await waitFor(() => two.server.counters.connectionsRejected === 2, 'both strangers refused');
      await waitFor(() => two.received.length === 1, 'the good message');
      good.send(heartbeat(1, 2, 2));
      await waitFor(() => two.received.length === 2, 'a second good message');
      assert.deepEqual(two.received, [heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    } finally {
      raw.destroy();
      good.close();
      stranger.close();
      await two.server.close();
    }
  });

  it('a node with an auth token takes messages only from peers that carry it, and goes on with them', async () => {
    const two = await startReceiver(2, 0, undefined, 'the-cluster-token');
    const good = transport(1, [[2, two.server.port]], { authToken: 'the-cluster-token' });
    const tokenless = transport(3, [[2, two.server.port]]);
    const guesser = transport(4, [[2, two.server.port]], { authToken: 'a-guessed-token' });
    const raw = await RawConnection.open(two.server.port);
    try {
      raw.send(...encodeFrame('hello', encodeHello({ role: 'peer', clusterId: CLUSTER, fromNodeId: 3 })));
      await waitFor(() => raw.closed, 'the tokenless raw connection closed');
      assert.match(raw.rejectReason() ?? '', /requires an auth token and the peer sent none: .*--auth-token-file/);
      tokenless.send(heartbeat(3, 2, 1));
      guesser.send(heartbeat(4, 2, 1));
      good.send(heartbeat(1, 2, 1));
      await waitFor(() => two.server.counters.connectionsRejected >= 3, 'all three strangers refused');
      await waitFor(() => two.received.length === 1, 'the good message');
      good.send(heartbeat(1, 2, 2));
      await waitFor(() => two.received.length === 2, 'a second good message');
      assert.deepEqual(two.received, [heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    } finally {
      raw.destroy();
      for (const sender of [good, tokenless, guesser]) sender.close();
      await two.server.close();
    }
  });

  it('garbage, oversized and malformed frames close only their own connection', async () => {
    const two = await startReceiver(2, 0, 1024);
    const good = transport(1, [[2, two.server.port]]);
    const connections: RawConnection[] = [];
    try {
      good.send(heartbeat(1, 2, 1));
      await waitFor(() => two.received.length === 1, 'the first good message');

      const garbage = await RawConnection.open(two.server.port);
      const oversized = await RawConnection.open(two.server.port);
      const malformed = await RawConnection.open(two.server.port);
      const bigBeforeHello = await RawConnection.open(two.server.port);
      connections.push(garbage, oversized, malformed, bigBeforeHello);
      garbage.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      const peerHello = encodeFrame('hello', encodeHello({ role: 'peer', clusterId: CLUSTER, fromNodeId: 1 }));
      const header = Buffer.alloc(6);
      header.writeUInt32BE(1_000_000, 0);
      header.writeUInt8(1, 4);
      header.writeUInt8(2, 5);
      oversized.send(...peerHello, header);
      malformed.send(...peerHello, ...encodeFrame('raftMessage', Buffer.from('not a raft message')));
      // Before a hello is accepted, even a frame far below the limit for peers is refused: a stranger gets a few hundred bytes.
      const helloSized = Buffer.alloc(6);
      helloSized.writeUInt32BE(2_000, 0);
      helloSized.writeUInt8(1, 4);
      helloSized.writeUInt8(1, 5);
      bigBeforeHello.send(helloSized);
      await waitFor(() => connections.every((connection) => connection.closed), 'the four bad connections closed');
      assert.match(garbage.rejectReason() ?? '', /unknownVersion/);
      assert.match(oversized.rejectReason() ?? '', /tooLarge/);
      assert.match(malformed.rejectReason() ?? '', /raft message bytes do not decode/);
      assert.match(bigBeforeHello.rejectReason() ?? '', /tooLarge/);

      good.send(heartbeat(1, 2, 2));
      await waitFor(() => two.received.length === 2, 'a good message after the garbage');
      assert.equal(good.counters.reconnects, 0, 'the good connection was never cut');
    } finally {
      for (const connection of connections) connection.destroy();
      good.close();
      await two.server.close();
    }
  });

  it('a message to another node, or from another sender than the hello said, is dropped', async () => {
    const two = await startReceiver(2);
    // Node 1 believes node 3 lives at node 2's address.
    const confused = transport(1, [[3, two.server.port]]);
    const raw = await RawConnection.open(two.server.port);
    try {
      confused.send(heartbeat(1, 3, 1));
      raw.send(
        ...encodeFrame('hello', encodeHello({ role: 'peer', clusterId: CLUSTER, fromNodeId: 4 })),
        ...encodeFrame('raftMessage', encodeRaftMessage(heartbeat(5, 2, 1))),
        ...encodeFrame('raftMessage', encodeRaftMessage(heartbeat(4, 2, 2))),
      );
      await waitFor(() => two.server.counters.peerMessagesDropped === 2, 'both misaddressed messages dropped');
      await waitFor(() => two.received.length === 1, 'the well-addressed message');
      assert.deepEqual(two.received, [heartbeat(4, 2, 2)]);
      assert.ok(!raw.closed, 'a misaddressed message does not cost the connection');
    } finally {
      raw.destroy();
      confused.close();
      await two.server.close();
    }
  });

  it('a connection that says no hello in time is closed', async () => {
    const server = await TcpServer.start({
      host: HOST,
      port: 0,
      clusterId: CLUSTER,
      selfId: 2,
      logger: silentLogger,
      onPeerMessage: () => {},
      helloTimeoutMs: 20,
    });
    const silent = await RawConnection.open(server.port);
    try {
      await waitFor(() => silent.closed, 'the silent connection closed');
      assert.match(silent.rejectReason() ?? '', /no hello within 20 ms/);
      assert.equal(server.counters.connectionsRejected, 1);
    } finally {
      silent.destroy();
      await server.close();
    }
  });

  it('a message to a peer without an address is dropped and counted', () => {
    const lonely = transport(1, []);
    try {
      lonely.send(heartbeat(1, 9, 1));
      assert.deepEqual(lonely.counters, { messagesSent: 0, messagesDropped: 1, reconnects: 0 });
    } finally {
      lonely.close();
    }
  });
});
