import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import type { KvRequest, KvService, ServiceResult } from '../../../src/kv/service.js';
import { decodeServiceResponse } from '../../../src/kv/service-codec.js';
import { silentLogger } from '../../../src/log/logger.js';
import { TcpClientConnection } from '../../../src/transport/client-connection.js';
import { ConnectionError } from '../../../src/transport/errors.js';
import { encodeFrame } from '../../../src/transport/frame.js';
import { encodeHello } from '../../../src/transport/handshake.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import { closedPort, HOST, RawConnection, waitFor } from './loopback.js';

const CLUSTER = 'test-cluster';
const TIMEOUT_MS = 2_000;

/**
 * A service the test answers by hand: each request waits until the test
 * resolves it, so the order of answers is the test's choice, not the clock's.
 */
class ManualService implements KvService {
  readonly waiting: { request: KvRequest; answer: (result: ServiceResult) => void }[] = [];

  handle(request: KvRequest): Promise<ServiceResult> {
    return new Promise((answer) => this.waiting.push({ request, answer }));
  }

  /** Answers the waiting request for `key` with the key itself as the value. */
  answerKey(key: string): void {
    const position = this.waiting.findIndex((entry) => Buffer.from(entry.request.command.key).toString() === key);
    const [entry] = this.waiting.splice(position, 1);
    entry?.answer({ ok: true, reply: { ok: true, value: entry.request.command.key } });
  }
}

/** Answers every get at once with its key as the value, and says whether the read was stale. */
const echoService: KvService = {
  handle: (request) =>
    Promise.resolve({
      ok: true,
      reply: { ok: true, value: request.command.key, existed: request.stale === true },
    }),
};

function get(key: string, stale = false): KvRequest {
  return { command: { type: 'get', key: utf8(key) }, stale };
}

async function startServer(service: KvService): Promise<TcpServer> {
  return TcpServer.start({ host: HOST, port: 0, clusterId: CLUSTER, selfId: 1, logger: silentLogger, service });
}

function client(port: number, clusterId = CLUSTER): TcpClientConnection {
  return new TcpClientConnection({ host: HOST, port, clusterId });
}

function connectionError(reason: ConnectionError['reason']): (error: unknown) => boolean {
  return (error) => error instanceof ConnectionError && error.reason === reason;
}

describe('TCP client connection', () => {
  it('a call gets its answer, and the stale flag reaches the service', async () => {
    const server = await startServer(echoService);
    const connection = await TcpClientConnection.connect({ host: HOST, port: server.port, clusterId: CLUSTER });
    try {
      assert.deepEqual(await connection.call(get('a'), TIMEOUT_MS), {
        ok: true,
        reply: { ok: true, value: utf8('a'), existed: false },
      });
      assert.deepEqual(await connection.call(get('b', true), TIMEOUT_MS), {
        ok: true,
        reply: { ok: true, value: utf8('b'), existed: true },
      });
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
      assert.deepEqual(
        results.map((result) => (result.ok && result.reply.ok ? Buffer.from(result.reply.value!).toString() : null)),
        ['first', 'second', 'third'],
      );
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
      assert.deepEqual(await call, { ok: true, reply: { ok: true, value: utf8('later') } });
      // The late answer to the call that timed out is ignored, and the connection goes on.
      service.answerKey('never');
      const after = connection.call(get('after'), TIMEOUT_MS);
      await waitFor(() => service.waiting.length === 1, 'the next request at the service');
      service.answerKey('after');
      assert.deepEqual(await after, { ok: true, reply: { ok: true, value: utf8('after') } });
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

  it('a request with a malformed command gets a malformedCommand reply on a connection that stays open', async () => {
    const server = await startServer(echoService);
    const raw = await RawConnection.open(server.port);
    try {
      raw.send(
        ...encodeFrame('hello', encodeHello({ role: 'client', clusterId: CLUSTER })),
        ...encodeFrame('clientRequest', Buffer.from('01' + '00000005' + '00' + '01ff', 'hex')),
      );
      await waitFor(() => raw.frames.length === 1, 'the answer');
      const response = decodeServiceResponse(raw.frames[0]!.payload);
      assert.equal(response.requestId, 5);
      assert.ok(response.result.ok && !response.result.reply.ok);
      assert.equal(response.result.reply.error.code, 'malformedCommand');
      assert.ok(!raw.closed);
    } finally {
      raw.destroy();
      await server.close();
    }
  });
});
