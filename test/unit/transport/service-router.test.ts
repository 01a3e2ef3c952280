import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupService, ServiceName, ServiceRequest } from '../../../src/transport/service-protocol.js';
import { routeServices } from '../../../src/transport/service-router.js';

/** A service that answers every request with its own name, so a test sees who answered. */
function named(name: string): GroupService & { readonly seen: ServiceRequest[] } {
  const seen: ServiceRequest[] = [];
  return {
    seen,
    handle: (request) => {
      seen.push(request);
      return Promise.resolve({ ok: true, reply: new TextEncoder().encode(name) });
    },
  };
}

function request(service: ServiceName): ServiceRequest {
  return { service, stale: false, payload: new Uint8Array([1, 2, 3]) };
}

describe('service router', () => {
  it('hands each request, untouched, to the service it names', async () => {
    const kv = named('kv');
    const meta = named('meta');
    const router = routeServices({ kv, meta });
    const answers = await Promise.all([router.handle(request('meta')), router.handle(request('kv'))]);
    assert.deepEqual(
      answers.map((answer) => (answer.ok ? new TextDecoder().decode(answer.reply) : answer.error.code)),
      ['meta', 'kv'],
    );
    assert.deepEqual(kv.seen, [request('kv')]);
    assert.deepEqual(meta.seen, [request('meta')]);
  });

  it('a KV node asked for meta answers unsupported, naming what it serves and where to go', async () => {
    const router = routeServices({ kv: named('kv') });
    const answer = await router.handle(request('meta'));
    assert.deepEqual(answer, {
      ok: false,
      error: {
        code: 'unsupported',
        message: 'this node serves kv, not meta: point the admin client at a meta node',
        leader: null,
      },
    });
  });

  it('a node of several services lists them all when asked for another', async () => {
    const router = routeServices({ shard: named('shard'), kv: named('kv') });
    const answer = await router.handle(request('meta'));
    assert.ok(!answer.ok);
    assert.match(answer.error.message, /^this node serves kv and shard, not meta: /);
    const metaOnly = await routeServices({ meta: named('meta') }).handle(request('shard'));
    assert.ok(!metaOnly.ok);
    assert.match(metaOnly.error.message, /^this node serves meta, not shard: .*shard group/);
  });

  it('a router over no service at all is a wiring bug', () => {
    assert.throws(() => routeServices({}), /at least one service/);
  });
});
