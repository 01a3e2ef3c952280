import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionClient } from '../../../src/api/client-backend.js';
import { ClientBackend } from '../../../src/api/client-backend.js';
import { ClientError } from '../../../src/client/errors.js';
import type { RequestObserver } from '../../../src/metrics/metrics-source.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A client whose store holds one key, refuses big values, and whose deletes never get an answer in time. */
const client: SessionClient = {
  get: (key) => Promise.resolve(Buffer.from(key).toString() === 'k' ? bytes('v') : null),
  put: (_key, value) =>
    value.byteLength > 4
      ? Promise.reject(new ClientError('valueTooLarge', 'the value is over 4 bytes'))
      : Promise.resolve(),
  append: () => Promise.resolve(3),
  delete: () => Promise.reject(new ClientError('deadlineExceeded', 'no member answered in time')),
  close: () => undefined,
  // Not called here: the test is about what ClientBackend reports, not about each command.
  getWithExpiry: () => Promise.reject(new Error('not used by this test')),
  set: () => Promise.reject(new Error('not used by this test')),
  incrBy: () => Promise.reject(new Error('not used by this test')),
  getDelete: () => Promise.reject(new Error('not used by this test')),
  countKeys: () => Promise.reject(new Error('not used by this test')),
};

describe('ClientBackend metrics', () => {
  it('tells its observer of each request: the operation, how long it took, and whether it succeeded', async () => {
    const seen: [string, boolean][] = [];
    const observer: RequestObserver = {
      observeRequest(operation, durationMs, ok) {
        assert.ok(durationMs >= 0 && Number.isFinite(durationMs), `duration ${durationMs}`);
        seen.push([operation, ok]);
      },
    };
    const session = new ClientBackend(() => client, { observer }).openSession();
    assert.deepEqual(await session.get(bytes('k')), { ok: true, value: bytes('v') });
    assert.deepEqual(await session.put(bytes('k'), bytes('ok')), { ok: true, value: undefined });
    assert.equal((await session.put(bytes('k'), bytes('too long'))).ok, false);
    assert.deepEqual(await session.append(bytes('k'), bytes('!')), { ok: true, value: 3 });
    assert.equal((await session.delete(bytes('k'))).ok, false);
    assert.deepEqual(seen, [
      ['get', true],
      ['put', true],
      ['put', false],
      ['append', true],
      ['delete', false],
    ]);
  });

  it('serves requests as before when its observer throws', async () => {
    const observer: RequestObserver = {
      observeRequest() {
        throw new Error('a broken metrics observer');
      },
    };
    const session = new ClientBackend(() => client, { observer }).openSession();
    assert.deepEqual(await session.get(bytes('k')), { ok: true, value: bytes('v') });
    assert.deepEqual(await session.delete(bytes('k')), {
      ok: false,
      code: 'outcomeUnknown',
      message: 'no member answered in time',
    });
  });
});
