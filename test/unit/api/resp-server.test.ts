import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { RespServer } from '../../../src/api/resp/resp-server.js';
import type { RespServerLimits } from '../../../src/api/resp/server-limits.js';
import type { Logger } from '../../../src/log/logger.js';
import { notLeader } from '../../../src/node/errors.js';
import { SeededRandom } from '../../../src/sim/random.js';
import { MemoryBackend } from './memory-backend.js';
import { command, RespTestClient } from './resp-test-client.js';

/** Keeps warnings so a test can check what an operator would see; drops the rest. */
class RecordingLogger implements Logger {
  readonly warnings: { fields: object; message: string }[] = [];
  readonly errors: { fields: object; message: string }[] = [];
  debug(): void {}
  info(): void {}
  warn(fields: object, message: string): void {
    this.warnings.push({ fields, message });
  }
  error(fields: object, message: string): void {
    this.errors.push({ fields, message });
  }
  child(): Logger {
    return this;
  }
}

interface Fixture {
  readonly server: RespServer;
  readonly backend: MemoryBackend;
  readonly logger: RecordingLogger;
  readonly connect: () => Promise<RespTestClient>;
}

/** A server on 127.0.0.1, a free port, and a fresh in-memory backend; closed (and checked) after the scenario. */
async function withServer(
  scenario: (fixture: Fixture) => Promise<void>,
  limits: Partial<RespServerLimits> = {},
  authToken?: string,
): Promise<void> {
  const backend = new MemoryBackend();
  const logger = new RecordingLogger();
  const server = new RespServer({ backend, logger, limits, ...(authToken === undefined ? {} : { authToken }) });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    await scenario({ server, backend, logger, connect: () => RespTestClient.connect(port) });
  } finally {
    await server.close();
  }
  assert.deepEqual(backend.contractViolations, []);
  assert.equal(backend.sessionsClosed, backend.sessionsOpened, 'every session is closed with its connection');
  assert.deepEqual(logger.errors, []);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

describe('RESP server', () => {
  it('answers PING and ECHO, and round-trips SET/GET with binary keys and values', () =>
    withServer(async ({ connect }) => {
      const client = await connect();
      assert.equal(await client.call('PING'), '+PONG');
      assert.deepEqual(await client.call('PING', 'hi'), Buffer.from('hi'));
      assert.deepEqual(await client.call('ECHO', 'a b'), Buffer.from('a b'));

      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte));
      const key = Buffer.from([0, 13, 10, 0xff, 0x2a]);
      assert.equal(await client.call('SET', key, everyByte), '+OK');
      assert.deepEqual(await client.call('GET', key), everyByte);
      assert.equal(await client.call('GET', 'absent'), null);
      assert.equal(await client.call('SET', key, ''), '+OK');
      assert.deepEqual(await client.call('GET', key), Buffer.alloc(0));
    }));

  it('DEL counts the keys that existed, APPEND answers the new length, EXISTS counts keys', () =>
    withServer(async ({ connect }) => {
      const client = await connect();
      assert.equal(await client.call('SET', 'a', '1'), '+OK');
      assert.equal(await client.call('SET', 'b', '2'), '+OK');
      assert.equal(await client.call('EXISTS', 'a', 'b', 'a', 'missing'), 3);
      assert.equal(await client.call('DEL', 'a', 'b', 'missing'), 2);
      assert.equal(await client.call('DEL', 'a'), 0);
      assert.equal(await client.call('EXISTS', 'a'), 0);

      assert.equal(await client.call('APPEND', 'log', 'ab'), 2);
      assert.equal(await client.call('APPEND', 'log', 'cde'), 5);
      assert.deepEqual(await client.call('GET', 'log'), Buffer.from('abcde'));
    }));

  it('ignores the case of command names, and answers unknown commands and wrong arity as Redis does', () =>
    withServer(async ({ connect }) => {
      const client = await connect();
      assert.equal(await client.call('set', 'k', 'v'), '+OK');
      assert.deepEqual(await client.call('GeT', 'k'), Buffer.from('v'));
      assert.equal(
        await client.call('FLUSHALL', 'ASYNC', 'now'),
        "-ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC' 'now' ",
      );
      assert.equal(await client.call('GET'), "-ERR wrong number of arguments for 'get' command");
      assert.equal(await client.call('GET', 'a', 'b'), "-ERR wrong number of arguments for 'get' command");
      assert.equal(await client.call('SET', 'k', 'w', 'NX', 'XX'), '-ERR syntax error');
      assert.equal(await client.call('SET', 'k', 'w', 'EX', 'soon'), '-ERR value is not an integer or out of range');
      assert.deepEqual(await client.call('GET', 'k'), Buffer.from('v'), 'a refused SET changes nothing');
      // Typed into telnet: inline commands work too.
      client.send('ping\r\n');
      assert.equal(await client.nextReply(), '+PONG');
    }));

  it('with a password, each connection authenticates on its own, and a wrong password is logged once per connection', () =>
    withServer(
      async ({ server, logger, connect }) => {
        const [first, second] = [await connect(), await connect()];
        assert.equal(await first.call('SET', 'k', 'v'), '-NOAUTH Authentication required.');
        assert.equal(
          await first.call('AUTH', 'guess-1'),
          '-WRONGPASS invalid username-password pair or user is disabled.',
        );
        assert.equal(
          await first.call('AUTH', 'guess-2'),
          '-WRONGPASS invalid username-password pair or user is disabled.',
        );
        assert.equal(await first.call('AUTH', 'cluster-token-0123456789'), '+OK');
        assert.equal(await first.call('SET', 'k', 'v'), '+OK');
        assert.equal(await second.call('GET', 'k'), '-NOAUTH Authentication required.', 'the other connection is not');
        assert.equal(server.stats.authFailures, 2);
        assert.deepEqual(
          logger.warnings.map((warning) => warning.message),
          ['a RESP client gave a wrong password (AUTH); later ones on this connection are not logged'],
        );
        const third = await connect();
        assert.equal(await third.call('AUTH', 'default', 'cluster-token-0123456789'), '+OK');
        assert.deepEqual(await third.call('GET', 'k'), Buffer.from('v'));
      },
      {},
      'cluster-token-0123456789',
    ));

  it('answers 100 commands pipelined in one write, in order', () =>
    withServer(async ({ connect }) => {
      const client = await connect();
      const requests: Buffer[] = [];
      const expected: unknown[] = [];
      for (let index = 0; index < 25; index++) {
        requests.push(command('SET', `k${index}`, `v${index}`), command('APPEND', `k${index}`, '!'));
        requests.push(command('GET', `k${index}`), command('PING'));
        expected.push('+OK', `v${index}`.length + 1, Buffer.from(`v${index}!`), '+PONG');
      }
      client.send(Buffer.concat(requests));
      assert.deepEqual(await client.nextReplies(100), expected);
    }));

  it('answers in request order when the backend is slow and uneven, one call at a time per session', () =>
    withServer(async ({ backend, connect }) => {
      const random = new SeededRandom(7);
      backend.delayMs = () => random.int(4);
      const [first, second] = await Promise.all([connect(), connect()]);
      const rounds = 60;
      for (const [client, key] of [
        [first, 'x'],
        [second, 'y'],
      ] as const) {
        const requests = Array.from({ length: rounds }, (_, index) =>
          index % 3 === 2 ? command('PING') : command('APPEND', key, 'ab'),
        );
        client.send(Buffer.concat(requests));
      }
      for (const client of [first, second]) {
        const replies = await client.nextReplies(rounds);
        let lengthBytes = 0;
        replies.forEach((reply, index) => {
          if (index % 3 === 2) return assert.equal(reply, '+PONG');
          lengthBytes += 2;
          assert.equal(reply, lengthBytes, `reply ${index}`);
        });
      }
      // contractViolations (checked by withServer) would hold 'overlapping calls on one session' otherwise.
    }));

  it('a protocol error answers the requests before it, then closes only that connection', () =>
    withServer(async ({ server, connect, logger }) => {
      const [bad, good] = await Promise.all([connect(), connect()]);
      assert.equal(await good.call('SET', 'k', 'v'), '+OK');

      bad.send(Buffer.concat([command('PING'), Buffer.from('*1\r\n$x\r\n'), command('PING')]));
      assert.deepEqual(await bad.nextReplies(2), ['+PONG', "-ERR Protocol error: invalid bulk length 'x'"]);
      await bad.closed;
      await assert.rejects(bad.nextReply(), /closed/);

      assert.deepEqual(await good.call('GET', 'k'), Buffer.from('v'));
      assert.equal(server.stats.protocolErrors, 1);
      assert.equal(logger.warnings.length, 1);
      assert.match(logger.warnings[0]!.message, /broke the protocol/);
      assert.deepEqual(logger.warnings[0]!.fields, { problem: "Protocol error: invalid bulk length 'x'" });
    }));

  it('a bulk string over the limit is a protocol error, like Redis proto-max-bulk-len', () =>
    withServer(
      async ({ connect }) => {
        const client = await connect();
        client.send(command('SET', 'k', 'x'.repeat(1025)));
        assert.equal(await client.nextReply(), '-ERR Protocol error: invalid bulk length 1025');
        await client.closed;
      },
      { bulkBytesMax: 1024 },
    ));

  it('turns backend failures into Redis errors: TRYAGAIN when nothing was applied, ERR with the message otherwise', () =>
    withServer(async ({ backend, connect }) => {
      const client = await connect();
      const leaderUnknown = notLeader(null);
      backend.failures.push({ ok: false, code: 'notLeader', message: 'no leader is known yet; retry shortly' });
      assert.equal(await client.call('GET', 'k'), '-TRYAGAIN no leader is known yet; retry shortly');
      backend.failures.push({ ok: false, code: 'timeout', message: leaderUnknown.message });
      assert.equal(await client.call('SET', 'k', 'v'), `-TRYAGAIN ${leaderUnknown.message}`);
      backend.failures.push({ ok: false, code: 'outcomeUnknown', message: 'the write may have been applied' });
      assert.equal(await client.call('APPEND', 'k', 'v'), '-ERR the write may have been applied');
      backend.failures.push({ ok: false, code: 'overloaded', message: 'too many requests; back off' });
      assert.equal(await client.call('DEL', 'a', 'b'), '-TRYAGAIN too many requests; back off');

      // The real limit, through the real socket: a 2 MB value.
      const reply = await client.call('SET', 'big', Buffer.alloc(2_000_000, 'v'));
      assert.match(String(reply), /^-ERR the value would be 2000000 bytes, over the limit of 1048576 bytes/);
      assert.match(String(await client.call('GET', 'k'.repeat(5000))), /^-ERR a key of 5000 bytes is over the limit/);
    }));

  it('QUIT answers OK, then closes the connection and its session, ignoring what was pipelined after it', () =>
    withServer(async ({ backend, connect }) => {
      const client = await connect();
      client.send(Buffer.concat([command('PING'), command('QUIT'), command('SET', 'after', 'quit')]));
      assert.deepEqual(await client.nextReplies(2), ['+PONG', '+OK']);
      await client.closed;
      await waitUntil(() => backend.sessionsClosed === 1, 'the session is closed');
      assert.equal(backend.values.has('after'), false);
    }));

  it('a client that half-closes after its requests still gets every reply', () =>
    withServer(async ({ connect }) => {
      const client = await connect();
      client.send(Buffer.concat([command('SET', 'k', 'v'), command('GET', 'k')]));
      client.endRequests();
      assert.deepEqual(await client.nextReplies(2), ['+OK', Buffer.from('v')]);
      await client.closed;
    }));

  it('stops reading a connection whose unanswered requests reach requestsQueuedMax', () =>
    withServer(
      async ({ server, backend, connect }) => {
        const release = backend.hold();
        const client = await connect();
        const count = 2_000;
        const value = Buffer.alloc(1024, 'v');
        client.send(Buffer.concat(Array.from({ length: count }, (_, index) => command('SET', `k${index}`, value))));
        await sleep(100);
        // Reading stops at 8 queued; the chunk that reached 8 can add its own (about 64 of these 1 KiB SETs).
        const peak = server.stats.requestsQueuedPeak;
        assert.ok(peak < 200, `queued at most ${peak} requests, not the ${count} sent`);
        release();
        const replies = await client.nextReplies(count);
        assert.ok(replies.every((reply) => reply === '+OK'));
        assert.equal(backend.values.size, count);
      },
      { requestsQueuedMax: 8 },
    ));

  it('stops reading a connection whose unanswered requests reach requestBytesQueuedMax', () =>
    withServer(
      async ({ server, backend, connect }) => {
        const release = backend.hold();
        const client = await connect();
        const count = 200;
        const value = Buffer.alloc(64 * 1024, 'v');
        client.send(Buffer.concat(Array.from({ length: count }, (_, index) => command('SET', `k${index}`, value))));
        await sleep(100);
        // 12.8 MB sent; reading stops at 256 KiB queued, plus what the chunk that reached it carried.
        const peak = server.stats.requestBytesQueuedPeak;
        assert.ok(peak < 1 << 20, `queued at most ${peak} bytes of requests, not the ${count * value.byteLength} sent`);
        assert.ok(server.stats.requestsQueuedPeak < 100, 'the count limit (1024) is not what stopped it');
        release();
        const replies = await client.nextReplies(count);
        assert.ok(replies.every((reply) => reply === '+OK'));
        assert.equal(backend.values.size, count);
      },
      { requestBytesQueuedMax: 256 * 1024 },
    ));

  it('stops executing requests while the client does not read its replies', () =>
    withServer(async ({ backend, connect }) => {
      const client = await connect();
      assert.equal(await client.call('SET', 'big', Buffer.alloc(1_000_000, 'v')), '+OK');
      const callsBefore = backend.callsStarted;
      client.pauseReading();
      const count = 60;
      client.send(Buffer.concat(Array.from({ length: count }, () => command('GET', 'big'))));
      await sleep(300);
      // The kernel's socket buffers take some megabytes of replies; then the server must wait.
      const executed = backend.callsStarted - callsBefore;
      assert.ok(executed <= count / 2, `executed ${executed} of ${count} GETs for a client that reads nothing`);
      client.resumeReading();
      const replies = await client.nextReplies(count);
      assert.ok(replies.every((reply) => Buffer.isBuffer(reply) && reply.byteLength === 1_000_000));
    }));

  it('turns away connections past connectionsMax with the Redis error, and serves again once one closes', () =>
    withServer(
      async ({ server, connect }) => {
        const first = await connect();
        assert.equal(await first.call('PING'), '+PONG');
        const refused = await connect();
        assert.equal(await refused.nextReply(), '-ERR max number of clients reached');
        await refused.closed;
        assert.equal(server.stats.connectionsRefused, 1);

        first.destroy();
        await waitUntil(() => server.stats.connectionsOpen === 0, 'the first connection is gone');
        const next = await connect();
        assert.equal(await next.call('PING'), '+PONG');
      },
      { connectionsMax: 1 },
    ));

  it('refuses a limit that is not a positive integer', () => {
    for (const limits of [{ requestsQueuedMax: 0 }, { closeLingerMs: 1.5 }, { connectionsMax: Number.NaN }]) {
      assert.throws(
        () => new RespServer({ backend: new MemoryBackend(), logger: new RecordingLogger(), limits }),
        /RESP server limit \w+ must be a positive integer/,
      );
    }
  });

  it('close() answers the request in flight, drops the ones queued behind it, closes every session, and frees the port', async () => {
    const backend = new MemoryBackend();
    const server = new RespServer({ backend, logger: new RecordingLogger() });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const [idle, busy] = await Promise.all([RespTestClient.connect(port), RespTestClient.connect(port)]);
    assert.equal(await idle.call('PING'), '+PONG');
    const release = backend.hold();
    busy.send(Buffer.concat([command('SET', 'k', 'v'), command('SET', 'never', 'run')]));
    await waitUntil(() => backend.callsStarted === 1, 'the first SET reaches the backend');

    const closing = server.close();
    await idle.closed;
    await sleep(20);
    assert.equal(backend.sessionsClosed, 1, 'the busy session stays open until its call settles');
    release();
    // A Redis client resends a command whose reply never came: the one that ran must be answered.
    assert.deepEqual(await busy.nextReplies(1), ['+OK']);
    await busy.closed;
    await closing;
    assert.equal(backend.sessionsClosed, 2);
    assert.equal(backend.callsStarted, 1, 'a request queued behind the running one ran during shutdown');
    assert.deepEqual(backend.contractViolations, []);
    await assert.rejects(
      new Promise((resolve, reject) =>
        net.connect({ host: '127.0.0.1', port }).on('connect', resolve).on('error', reject),
      ),
      /ECONNREFUSED/,
    );
  });

  it('a client that disappears mid-call gets its session closed after the call settles', () =>
    withServer(async ({ backend, connect }) => {
      const client = await connect();
      const release = backend.hold();
      client.send(command('SET', 'k', 'v'));
      await waitUntil(() => backend.callsStarted === 1, 'the SET reaches the backend');
      client.destroy();
      await sleep(20);
      assert.equal(backend.sessionsClosed, 0);
      release();
      await waitUntil(() => backend.sessionsClosed === 1, 'the session is closed');
    }));
});
