/**
 * The connection limits of a TcpServer on real loopback sockets: clients and
 * peers have their own slots, strangers that never say hello cannot hold the
 * door, and an idle client connection is closed (on a test clock, so five
 * minutes take no time).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import type { Message } from '../../../src/raft/index.js';
import { encodeFrame } from '../../../src/transport/frame.js';
import { encodeHello } from '../../../src/transport/handshake.js';
import { encodeRaftMessage } from '../../../src/transport/raft-message-codec.js';
import type { ServerTimers } from '../../../src/transport/server-timers.js';
import type { GroupService, ServiceResult } from '../../../src/transport/service-protocol.js';
import { decodeServiceResponse, encodeServiceRequest } from '../../../src/transport/service-protocol.js';
import type { TcpServerOptions } from '../../../src/transport/tcp-server.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import { HOST, RawConnection, waitFor } from './loopback.js';

const CLUSTER = 'test-cluster';
const IDLE_MS = 5 * 60_000;

/** Timers the test moves by hand: advance() fires, in order, every timer due by then. */
class TestTimers implements ServerTimers {
  private now = 0;
  private readonly pending = new Set<{ readonly atMs: number; readonly callback: () => void }>();

  nowMs(): number {
    return this.now;
  }

  after(delayMs: number, callback: () => void): () => void {
    const timer = { atMs: this.now + delayMs, callback };
    this.pending.add(timer);
    return () => this.pending.delete(timer);
  }

  advance(durationMs: number): void {
    const untilMs = this.now + durationMs;
    for (;;) {
      const due = [...this.pending].filter((timer) => timer.atMs <= untilMs).sort((a, b) => a.atMs - b.atMs)[0];
      if (due === undefined) break;
      this.pending.delete(due);
      this.now = due.atMs;
      due.callback();
    }
    this.now = untilMs;
  }
}

/** A service whose answers the test gives: requests wait in `waiting` until then. */
class HeldService implements GroupService {
  readonly waiting: ((result: ServiceResult) => void)[] = [];

  handle(): Promise<ServiceResult> {
    return new Promise((answer) => this.waiting.push(answer));
  }

  answerAll(): void {
    for (const answer of this.waiting.splice(0)) answer({ ok: true, reply: new Uint8Array() });
  }
}

interface Harness {
  readonly server: TcpServer;
  readonly peerMessages: Message[];
  readonly service: HeldService;
}

async function startServer(options: Partial<TcpServerOptions>): Promise<Harness> {
  const peerMessages: Message[] = [];
  const service = new HeldService();
  const server = await TcpServer.start({
    host: HOST,
    port: 0,
    clusterId: CLUSTER,
    selfId: 1,
    logger: silentLogger,
    onPeerMessage: (message) => peerMessages.push(message),
    service,
    ...options,
  });
  return { server, peerMessages, service };
}

async function openClient(port: number): Promise<RawConnection> {
  const raw = await RawConnection.open(port);
  raw.send(...encodeFrame('hello', encodeHello({ role: 'client', clusterId: CLUSTER })));
  return raw;
}

function sendRequest(raw: RawConnection, requestId: number): void {
  const request = encodeServiceRequest({
    requestId,
    request: { service: 'kv', stale: false, payload: new Uint8Array() },
  });
  raw.send(...encodeFrame('clientRequest', request));
}

function responseCount(raw: RawConnection): number {
  return raw.frames.filter((frame) => frame.kind === 'clientResponse').length;
}

/** Connects as peer 2 and sends one Raft message; resolves once the server took it. */
async function peerGetsThrough(harness: Harness): Promise<RawConnection> {
  const peer = await RawConnection.open(harness.server.port);
  const message: Message = { type: 'timeoutNow', term: 7, from: 2, to: 1 };
  peer.send(
    ...encodeFrame('hello', encodeHello({ role: 'peer', clusterId: CLUSTER, fromNodeId: 2 })),
    ...encodeFrame('raftMessage', encodeRaftMessage(message)),
  );
  await waitFor(() => harness.peerMessages.length > 0, "the peer's message arrived");
  assert.deepEqual(harness.peerMessages, [message]);
  return peer;
}

describe('TCP server connection limits', () => {
  it('a flood of clients fills the client slots and is refused past them; a peer still connects', async () => {
    const harness = await startServer({ clientConnectionsMax: 4 });
    const clients: RawConnection[] = [];
    try {
      for (let count = 0; count < 10; count++) clients.push(await openClient(harness.server.port));
      await waitFor(() => clients.filter((raw) => raw.closed).length === 6, 'six clients were refused');
      for (const refused of clients.filter((raw) => raw.closed)) {
        assert.match(refused.rejectReason() ?? '', /4 client connections, its limit: retry later/);
      }
      assert.equal(harness.server.connectionCounts.clients, 4);
      clients.push(await peerGetsThrough(harness));
      assert.equal(harness.server.connectionCounts.peers, 1);
    } finally {
      for (const raw of clients) raw.destroy();
      await harness.server.close();
    }
  });

  it('a client slot freed by a closed client is taken by the next one', async () => {
    const harness = await startServer({ clientConnectionsMax: 1 });
    const first = await openClient(harness.server.port);
    let second: RawConnection | null = null;
    try {
      await waitFor(() => harness.server.connectionCounts.clients === 1, 'the first client is in');
      first.destroy();
      await waitFor(() => harness.server.connectionCounts.clients === 0, 'its slot is free');
      second = await openClient(harness.server.port);
      sendRequest(second, 1);
      await waitFor(() => harness.service.waiting.length === 1, 'the second client is served');
    } finally {
      second?.destroy();
      await harness.server.close();
    }
  });

  it('strangers that never say hello cannot hold the door: the oldest is let go, and a peer still connects', async () => {
    const harness = await startServer({ helloPendingMax: 3 });
    const strangers: RawConnection[] = [];
    try {
      for (let count = 0; count < 8; count++) strangers.push(await RawConnection.open(harness.server.port));
      await waitFor(() => strangers.filter((raw) => raw.closed).length === 5, 'the five oldest were let go');
      assert.deepEqual(
        strangers.map((raw) => raw.closed),
        [true, true, true, true, true, false, false, false],
      );
      assert.match(strangers[0]?.rejectReason() ?? '', /waiting to say hello/);
      strangers.push(await peerGetsThrough(harness));
    } finally {
      for (const raw of strangers) raw.destroy();
      await harness.server.close();
    }
  });

  it('closes a client connection idle for the limit, saying why; not a moment before', async () => {
    const timers = new TestTimers();
    const harness = await startServer({ timers, clientIdleMs: IDLE_MS });
    const raw = await openClient(harness.server.port);
    try {
      sendRequest(raw, 1);
      await waitFor(() => harness.service.waiting.length === 1, 'the request reached the service');
      harness.service.answerAll();
      await waitFor(() => responseCount(raw) === 1, 'the answer came back');
      timers.advance(IDLE_MS - 1);
      sendRequest(raw, 2); // Activity: the idle time counts again from here.
      await waitFor(() => harness.service.waiting.length === 1, 'the second request reached the service');
      harness.service.answerAll();
      await waitFor(() => responseCount(raw) === 2, 'the second answer came back');
      timers.advance(IDLE_MS - 1);
      // Counted the moment the server decides, so this sees a close however fast or slow the socket is.
      assert.equal(harness.server.counters.clientsClosedIdle, 0);
      timers.advance(1);
      await waitFor(() => raw.closed, 'the idle connection closed');
      assert.match(raw.rejectReason() ?? '', /idle for 300 s .*open a new one/);
      assert.equal(harness.server.counters.clientsClosedIdle, 1);
    } finally {
      raw.destroy();
      await harness.server.close();
    }
  });

  it('a client waiting for an answer is not idle, however long the answer takes', async () => {
    const timers = new TestTimers();
    const harness = await startServer({ timers, clientIdleMs: IDLE_MS });
    const raw = await openClient(harness.server.port);
    try {
      sendRequest(raw, 1);
      await waitFor(() => harness.service.waiting.length === 1, 'the request reached the service');
      timers.advance(3 * IDLE_MS);
      assert.equal(harness.server.counters.clientsClosedIdle, 0);
      harness.service.answerAll();
      await waitFor(() => responseCount(raw) === 1, 'the slow answer came back on the same connection');
      assert.equal(decodeServiceResponse(raw.frames.at(-1)?.payload ?? new Uint8Array()).requestId, 1);
      timers.advance(IDLE_MS);
      await waitFor(() => raw.closed, 'idle once answered, the connection closed');
    } finally {
      raw.destroy();
      await harness.server.close();
    }
  });
});
