import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCommand, encodeReply } from '../../../src/kv/command-codec.js';
import { utf8 } from '../../../src/kv/commands.js';
import { SeededRandom, seedFromEnv } from '../../../src/sim/random.js';
import { MessageDecodeError } from '../../../src/transport/errors.js';
import type { ServiceErrorCode, ServiceResult } from '../../../src/transport/service-protocol.js';
import {
  decodeServiceRequest,
  decodeServiceResponse,
  encodeServiceRequest,
  encodeServiceResponse,
  REQUEST_ID_MAX,
  SERVICE_NAMES,
} from '../../../src/transport/service-protocol.js';

function randomBytes(random: SeededRandom, lengthBytesMax: number): Uint8Array {
  return Uint8Array.from({ length: random.int(lengthBytesMax + 1) }, () => random.int(256));
}

const ERROR_CODES: readonly ServiceErrorCode[] = [
  'notLeader',
  'outcomeUnknown',
  'overloaded',
  'timeout',
  'stopped',
  'unsupported',
];

function randomResult(random: SeededRandom): ServiceResult {
  if (random.chance(0.5)) return { ok: true, reply: randomBytes(random, 50) };
  const leader = random.chance(0.5) ? null : random.int(2 ** 32);
  return { ok: false, error: { code: random.pick(ERROR_CODES), message: `why é ${random.int(100)}`, leader } };
}

function hex(text: string): Buffer {
  return Buffer.from(text, 'hex');
}

describe('service protocol (the client protocol)', () => {
  it('a request, an answer and an error encode to their pinned bytes', () => {
    // The payload is a KV get of "k", the reply a KV value "v": the protocol carries them as they are.
    const payload = encodeCommand({ type: 'get', key: utf8('k') });
    const request = { requestId: 7, request: { service: 'kv', stale: true, payload } } as const;
    assert.equal(encodeServiceRequest(request).toString('hex'), '01' + '00000007' + '01' + '01' + '0101000000016b');
    assert.deepEqual(decodeServiceRequest(encodeServiceRequest(request)), {
      ok: true,
      requestId: 7,
      request: { service: 'kv', stale: true, payload: new Uint8Array(payload) },
    });
    const meta = { requestId: 1, request: { service: 'meta', stale: false, payload: hex('abcd') } } as const;
    assert.equal(encodeServiceRequest(meta).toString('hex'), '01' + '00000001' + '02' + '00' + 'abcd');
    const shard = { requestId: 2, request: { service: 'shard', stale: false, payload: new Uint8Array() } } as const;
    assert.equal(encodeServiceRequest(shard).toString('hex'), '01' + '00000002' + '03' + '00');

    const reply = encodeReply({ ok: true, value: utf8('v') });
    const answer = { requestId: 7, result: { ok: true, reply } } as const;
    assert.equal(encodeServiceResponse(answer).toString('hex'), '01' + '00000007' + '01' + '010103' + '0000000176');
    const notLeader = {
      requestId: 8,
      result: { ok: false, error: { code: 'notLeader', message: 'no', leader: 3 } },
    } as const;
    assert.equal(
      encodeServiceResponse(notLeader).toString('hex'),
      '01' + '00000008' + '02' + '01' + '01' + '00000003' + '0002' + '6e6f',
    );
    const unsupported = {
      requestId: 9,
      result: { ok: false, error: { code: 'unsupported', message: 'no', leader: null } },
    } as const;
    assert.equal(
      encodeServiceResponse(unsupported).toString('hex'),
      '01' + '00000009' + '02' + '06' + '00' + '0002' + '6e6f',
    );
  });

  for (const seed of seedFromEnv([1, 2, 3])) {
    it(`random requests and responses round trip (seed ${seed})`, () => {
      const random = new SeededRandom(seed);
      for (let round = 0; round < 300; round++) {
        const requestId = random.pick([0, random.int(1000), REQUEST_ID_MAX]);
        const request = {
          service: random.pick(SERVICE_NAMES),
          stale: random.chance(0.5),
          payload: randomBytes(random, 60),
        };
        assert.deepEqual(
          decodeServiceRequest(encodeServiceRequest({ requestId, request })),
          { ok: true, requestId, request },
          `seed ${seed}`,
        );
        const response = { requestId, result: randomResult(random) };
        assert.deepEqual(decodeServiceResponse(encodeServiceResponse(response)), response, `seed ${seed}`);
      }
    });
  }

  it('a request for an unknown service still tells its request id, and is answered unsupported', () => {
    const decoded = decodeServiceRequest(hex('01' + '0000002a' + '09' + '00' + 'ffff'));
    assert.equal(decoded.ok, false);
    assert.equal(decoded.requestId, 42);
    assert.ok(!decoded.ok && !decoded.result.ok);
    assert.equal(decoded.result.error.code, 'unsupported');
    assert.match(decoded.result.error.message, /service id 9 is unknown .*1 kv, 2 meta, 3 shard/);
  });

  it('a request without a sound header, or a damaged response, throws MessageDecodeError', () => {
    const bad = (bytes: string): Buffer => hex(bytes);
    assert.throws(() => decodeServiceRequest(bad('02' + '00000001' + '01' + '00')), /format version 2/);
    assert.throws(() => decodeServiceRequest(bad('01' + '00000001' + '01')), MessageDecodeError, 'no flags');
    assert.throws(() => decodeServiceRequest(bad('01' + '00000001' + '01' + '80' + '01')), /unknown bits/);
    // Unknown flag bits are a broken header even when the service is unknown too.
    assert.throws(() => decodeServiceRequest(bad('01' + '00000001' + '09' + '02')), /unknown bits/);
    assert.throws(() => decodeServiceResponse(bad('01' + '00000001' + '03')), /status 3/);
    assert.throws(() => decodeServiceResponse(bad('01' + '00000001' + '02' + '09' + '00')), /error code 9/);
    assert.throws(() => decodeServiceResponse(bad('01' + '00000001' + '02' + '01' + '02')), /leader-present flag/);
    const error = encodeServiceResponse({
      requestId: 1,
      result: { ok: false, error: { code: 'timeout', message: 'slow', leader: 5 } },
    });
    for (let cut = 0; cut < error.byteLength; cut++) {
      assert.throws(() => decodeServiceResponse(error.subarray(0, cut)), MessageDecodeError, `cut at ${cut}`);
    }
    assert.throws(() => decodeServiceResponse(Buffer.concat([error, hex('00')])), /unexpected bytes/);
    const request = encodeServiceRequest({ requestId: 1, request: { service: 'kv', stale: false, payload: hex('') } });
    for (let cut = 0; cut < request.byteLength; cut++) {
      assert.throws(() => decodeServiceRequest(request.subarray(0, cut)), MessageDecodeError, `cut at ${cut}`);
    }
  });

  it('a request id out of range, or a message too long for its length field, is handled at encoding', () => {
    const request = { service: 'kv', stale: false, payload: hex('') } as const;
    assert.throws(() => encodeServiceRequest({ requestId: REQUEST_ID_MAX + 1, request }), /request id/);
    assert.throws(() => encodeServiceRequest({ requestId: -1, request }), /request id/);
    const long = encodeServiceResponse({
      requestId: 1,
      result: { ok: false, error: { code: 'stopped', message: 'é'.repeat(70_000), leader: null } },
    });
    const decoded = decodeServiceResponse(long);
    assert.ok(!decoded.result.ok);
    assert.ok(decoded.result.error.message.length > 10_000 && decoded.result.error.message.length < 70_000);
  });
});
