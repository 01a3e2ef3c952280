import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvCommand, KvReply } from '../../../src/kv/commands.js';
import { casMismatch, failed, staleSequence, utf8 } from '../../../src/kv/commands.js';
import { KvDecodeError } from '../../../src/kv/errors.js';
import type { ServiceResult } from '../../../src/kv/service.js';
import {
  decodeServiceRequest,
  decodeServiceResponse,
  encodeServiceRequest,
  encodeServiceResponse,
  REQUEST_ID_MAX,
} from '../../../src/kv/service-codec.js';
import type { NodeErrorCode } from '../../../src/node/errors.js';
import { SeededRandom, seedFromEnv } from '../../../src/sim/random.js';

function randomBytes(random: SeededRandom, lengthBytesMax: number): Uint8Array {
  return Uint8Array.from({ length: random.int(lengthBytesMax + 1) }, () => random.int(256));
}

function randomCommand(random: SeededRandom): KvCommand {
  const key = randomBytes(random, 20);
  const stamp = { clientId: `c-${random.int(100)}`, sequence: random.intBetween(1, 2 ** 40) };
  switch (random.pick(['get', 'put', 'append', 'delete', 'cas'] as const)) {
    case 'get':
      return { type: 'get', key };
    case 'put':
      return { type: 'put', ...stamp, key, value: randomBytes(random, 50) };
    case 'append':
      return { type: 'append', ...stamp, key, value: randomBytes(random, 50) };
    case 'delete':
      return { type: 'delete', ...stamp, key };
    case 'cas':
      return { type: 'cas', ...stamp, key, expected: random.chance(0.5) ? null : randomBytes(random, 9), value: key };
  }
}

function randomReply(random: SeededRandom): KvReply {
  return random.pick<KvReply>([
    { ok: true },
    { ok: true, value: randomBytes(random, 50) },
    { ok: true, value: null },
    { ok: true, valueBytes: random.int(1000) },
    { ok: true, existed: random.chance(0.5) },
    failed(casMismatch()),
    failed(staleSequence(3, 9)),
  ]);
}

const ERROR_CODES: readonly NodeErrorCode[] = ['notLeader', 'outcomeUnknown', 'overloaded', 'timeout', 'stopped'];

function randomResult(random: SeededRandom): ServiceResult {
  if (random.chance(0.5)) return { ok: true, reply: randomReply(random) };
  const leader = random.chance(0.5) ? null : random.int(2 ** 32);
  return { ok: false, error: { code: random.pick(ERROR_CODES), message: `why é ${random.int(100)}`, leader } };
}

describe('service codec (the client protocol)', () => {
  it('a request, an answer and an error encode to their pinned bytes', () => {
    const request = { requestId: 7, request: { command: { type: 'get', key: utf8('k') } as const, stale: true } };
    assert.equal(encodeServiceRequest(request).toString('hex'), '01' + '00000007' + '01' + '0101000000016b');
    assert.deepEqual(decodeServiceRequest(encodeServiceRequest(request)), { ok: true, ...request });
    const answer = { requestId: 7, result: { ok: true, reply: { ok: true, value: utf8('v') } } } as const;
    assert.equal(encodeServiceResponse(answer).toString('hex'), '01' + '00000007' + '01' + '010103' + '0000000176');
    const error = {
      requestId: 8,
      result: { ok: false, error: { code: 'notLeader', message: 'no', leader: 3 } },
    } as const;
    assert.equal(
      encodeServiceResponse(error).toString('hex'),
      '01' + '00000008' + '02' + '01' + '01' + '00000003' + '0002' + '6e6f',
    );
  });

  for (const seed of seedFromEnv([1, 2, 3])) {
    it(`random requests and responses round trip (seed ${seed})`, () => {
      const random = new SeededRandom(seed);
      for (let round = 0; round < 300; round++) {
        const requestId = random.pick([0, random.int(1000), REQUEST_ID_MAX]);
        const request = { command: randomCommand(random), stale: random.chance(0.5) };
        assert.deepEqual(decodeServiceRequest(encodeServiceRequest({ requestId, request })), {
          ok: true,
          requestId,
          request,
        });
        const response = { requestId, result: randomResult(random) };
        assert.deepEqual(decodeServiceResponse(encodeServiceResponse(response)), response, `seed ${seed}`);
      }
    });
  }

  it('a request whose command is malformed still tells its request id, so it can be answered', () => {
    const bytes = Buffer.from('01' + '0000002a' + '00' + '01ff', 'hex');
    const decoded = decodeServiceRequest(bytes);
    assert.equal(decoded.ok, false);
    assert.equal(decoded.requestId, 42);
    assert.match(decoded.ok ? '' : decoded.problem, /command kind 255 is unknown/);
  });

  it('a request without a sound header, or a damaged response, throws KvDecodeError', () => {
    assert.throws(() => decodeServiceRequest(Buffer.from('02000000010001', 'hex')), KvDecodeError);
    assert.throws(() => decodeServiceRequest(Buffer.from('0100000001', 'hex')), KvDecodeError);
    assert.throws(() => decodeServiceRequest(Buffer.from('01000000018001', 'hex')), /unknown bits/);
    assert.throws(() => decodeServiceResponse(Buffer.from('010000000103', 'hex')), /status 3/);
    assert.throws(() => decodeServiceResponse(Buffer.from('0100000001020900', 'hex')), /error code 9/);
    const error = encodeServiceResponse({
      requestId: 1,
      result: { ok: false, error: { code: 'timeout', message: 'slow', leader: null } },
    });
    for (let cut = 0; cut < error.byteLength; cut++) {
      assert.throws(() => decodeServiceResponse(error.subarray(0, cut)), KvDecodeError, `cut at ${cut}`);
    }
  });
});
