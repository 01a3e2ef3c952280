import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import { TcpClientConnection } from '../../../src/transport/client-connection.js';
import { ConnectionError } from '../../../src/transport/errors.js';
import { encodeFrame } from '../../../src/transport/frame.js';
import { encodeHello } from '../../../src/transport/handshake.js';
import type { GroupService, ServiceRequest, ServiceResult } from '../../../src/transport/service-protocol.js';
import { decodeServiceResponse } from '../../../src/transport/service-protocol.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import { closedPort, HOST, RawConnection, waitFor } from './loopback.js';

const CLUSTER = 'test-cluster';
const TIMEOUT_MS = 2_000;

/** The protocol carries opaque bytes; these tests use text, so a reader sees what went where. */
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();
const bytes = (value: string): Uint8Array => new Uint8Array(Buffer.from(value));

/**
 * A service the test answers by hand: each request waits until the test
 * resolves it, so the order of answers is the test's choice, not the clock's.
 */
class ManualService implements GroupService {
  readonly waiting: { request: ServiceRequest; answer: (result: ServiceResult) => void }[] = [];

  handle(request: ServiceRequest): Promise<ServiceResult> {
    return new Promise((answer) => this.waiting.push({ request, answer }));
  }

  /** Answers the waiting request whose payload is `key` with the key itself. */
  answerKey(key: string): void {
    const position = this.waiting.findIndex((entry) => text(entry.request.payload) === key);
    const [entry] = this.waiting.splice(position, 1);
    entry?.answer({ ok: true, reply: entry.request.payload });
  }
}

/** Answers every request at once, saying which service it was for, whether it was stale, and its payload. */
const echoService: GroupService = {
  handle: (request) =>
    Promise.resolve({
      ok: true,
      reply: bytes(`${request.service}${request.stale ? ' stale' : ''}: ${text(request.payload)}`),
    }),
};

function get(key: string, stale = false): ServiceRequest {
  return { service: 'kv', stale, payload: bytes(key) };
}

/** The reply text of an ok result; an error result fails the test. */
function replyText(result: ServiceResult): string {
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return text(result.reply);
}

async function startServer(service: GroupService, authToken?: string): Promise<TcpServer> {
  return TcpServer.start({
    host: HOST,
    port: 0,
    clusterId: CLUSTER,
    selfId: 1,
    logger: silentLogger,
    service,
    ...(authToken === undefined ? {} : { authToken }),
  });
}

function client(port: number, clusterId = CLUSTER, token?: string): TcpClientConnection {
  return new TcpClientConnection({ host: HOST, port, clusterId, ...(token === undefined ? {} : { token }) });
}

function connectionError(reason: ConnectionError['reason']): (error: unknown) => boolean {
  return (error) => error instanceof ConnectionError && error.reason === reason;
}

describe('TCP client connection', () => {
  it('a call gets its answer, and the service and stale flag reach the service', async () => {
    const server = await startServer(echoService);
    const connection = await TcpClientConnection.connect({ host: HOST, port: server.port, clusterId: CLUSTER });
    try {
      assert.equal(replyText(await connection.call(get('a'), TIMEOUT_MS)), 'kv: a');
      assert.equal(replyText(await connection.call(get('b', true), TIMEOUT_MS)), 'kv stale: b');
      const meta: ServiceRequest = { service: 'meta', stale: false, payload: bytes('query') };
      assert.equal(replyText(await connection.call(meta, TIMEOUT_MS)), 'meta: query');
      const empty = await connection.call({ service: 'shard', stale: false, payload: new Uint8Array() }, TIMEOUT_MS);
      assert.equal(replyText(empty), 'shard: ', 'an empty payload goes through too');
    } finally {
      connection.close();
      await server.close();
    }
  });

  it('pipelined calls answered out of order each get their own answer', async () => {
    const service = new ManualService();
    const server = await startServer(service);
    const connection = client(server.port);
    try {
      const calls = ['first', 'second', 'third'].map((key) => connection.call(get(key), TIMEOUT_MS));
      await waitFor(() => service.waiting.length === 3, 'three requests at the service');
      for (const key of ['third', 'first', 'second']) service.answerKey(key);
      const results = await Promise.all(calls);
      assert.deepEqual(results.map(replyText), ['first', 'second', 'third']);
    } finally {
      connection.close();
      await server.close();
    }
  });

  it('a call to a dead server rejects with ConnectionError refused', async () => {
    const port = await closedPort();
    const connection = client(port);
    await assert.rejects(connection.call(get('a'), TIMEOUT_MS), connectionError('refused'));
    await assert.rejects(connection.call(get('b'), TIMEOUT_MS), connectionError('refused'), 'and so do later calls');
    await assert.rejects(
      TcpClientConnection.connect({ host: HOST, port, clusterId: CLUSTER }),
      connectionError('refused'),
    );
  });

  it('calls in flight when the server goes away reject with ConnectionError closed', async () => {
    const service = new ManualService();
    const server = await startServer(service);
    const connection = client(server.port);
    try {
      const call = connection.call(get('a'), TIMEOUT_MS);
      await waitFor(() => service.waiting.length === 1, 'the request at the service');
      await server.close();
      await assert.rejects(call, connectionError('closed'));
    } finally {
      connection.close();
    }
  });

  it('a call without an answer times out, and the connection keeps serving others', async () => {
    const service = new ManualService();
    const server = await startServer(service);
    const connection = client(server.port);
    try {
      await assert.rejects(connection.call(get('never'), 20), connectionError('timeout'));
      const call = connection.call(get('later'), TIMEOUT_MS);
      await waitFor(() => service.waiting.length === 2, 'both requests at the service');
      service.answerKey('later');
      assert.equal(replyText(await call), 'later');
      // The late answer to the call that timed out is ignored, and the connection goes on.
      service.answerKey('never');
      const after = connection.call(get('after'), TIMEOUT_MS);
      await waitFor(() => service.waiting.length === 1, 'the next request at the service');
      service.answerKey('after');
      assert.equal(replyText(await after), 'after');
    } finally {
      connection.close();
      await server.close();
    }
  });

  it('a client of another cluster is refused with the reason; other clients go on', async () => {
    const server = await startServer(echoService);
    const stranger = client(server.port, 'another-cluster');
    const good = client(server.port);
    try {
      await assert.rejects(stranger.call(get('a'), TIMEOUT_MS), (error: unknown) => {
        return error instanceof ConnectionError && error.reason === 'rejected' && /another-cluster/.test(error.message);
      });
      assert.equal((await good.call(get('b'), TIMEOUT_MS)).ok, true);
    } finally {
      stranger.close();
      good.close();
      await server.close();
    }
  });

  it('a node with an auth token refuses clients without it or with another, saying what to do, and serves the rest', async () => {
    const server = await startServer(echoService, 'the-cluster-token');
    const anonymous = client(server.port);
    const guesser = client(server.port, CLUSTER, 'a-guessed-token');
    const member = client(server.port, CLUSTER, 'the-cluster-token');
    try {
      await assert.rejects(anonymous.call(get('a'), TIMEOUT_MS), (error: unknown) => {
        assert.ok(error instanceof ConnectionError && error.reason === 'rejected');
        assert.match(error.message, /requires an auth token and the client sent none: .*--token-file or RAFTKV_TOKEN/);
        return true;
      });
      await assert.rejects(guesser.call(get('b'), TIMEOUT_MS), (error: unknown) => {
        assert.ok(error instanceof ConnectionError && error.reason === 'rejected');
        assert.match(error.message, /auth token is not this cluster's/);
        assert.doesNotMatch(error.message, /the-cluster-token/, 'the refusal does not give the token away');
        return true;
      });
      assert.equal(replyText(await member.call(get('c'), TIMEOUT_MS)), 'kv: c');
      assert.equal(server.counters.connectionsRejected, 2);
    } finally {
      for (const connection of [anonymous, guesser, member]) connection.close();
      await server.close();
    }
  });

  it('a client with a token still reaches a node that asks for none', async () => {
    const server = await startServer(echoService);
    const connection = client(server.port, CLUSTER, 'a-token-given-early');
    try {
      assert.equal(replyText(await connection.call(get('d'), TIMEOUT_MS)), 'kv: d');
    } finally {
      connection.close();
      await server.close();
    }
  });

  it('a request for an unknown service id is answered unsupported on a connection that stays open', async () => {
    const server = await startServer(echoService);
    const raw = await RawConnection.open(server.port);
    try {
      raw.send(
        ...encodeFrame('hello', encodeHello({ role: 'client', clusterId: CLUSTER })),
        ...encodeFrame('clientRequest', Buffer.from('01' + '00000005' + '09' + '00' + '01ff', 'hex')),
      );
      await waitFor(() => raw.frames.length === 1, 'the answer');
      const response = decodeServiceResponse(raw.frames[0]!.payload);
      assert.equal(response.requestId, 5);
      assert.ok(!response.result.ok);
      assert.equal(response.result.error.code, 'unsupported');
      assert.match(response.result.error.message, /service id 9 is unknown/);
      assert.ok(!raw.closed);
      assert.equal(server.counters.framesRejected, 0);
    } finally {
      raw.destroy();
      await server.close();
    }
  });

  it('a request with a broken header closes its connection with the reason; other clients go on', async () => {
    const server = await startServer(echoService);
    const raw = await RawConnection.open(server.port);
    const good = client(server.port);
    try {
      raw.send(
        ...encodeFrame('hello', encodeHello({ role: 'client', clusterId: CLUSTER })),
        ...encodeFrame('clientRequest', Buffer.from('01' + '00000005' + '01' + '80' + '01ff', 'hex')),
      );
      await waitFor(() => raw.closed, 'the connection closed');
      assert.match(raw.rejectReason() ?? '', /unknown bits/);
      assert.equal(server.counters.framesRejected, 1);
      assert.equal(replyText(await good.call(get('b'), TIMEOUT_MS)), 'kv: b');
    } finally {
      raw.destroy();
      good.close();
      await server.close();
    }
  });
});
