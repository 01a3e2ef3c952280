/** Fuzzing what a node reads from a TCP connection: the hello, client requests and responses, Raft messages. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import fc from 'fast-check';
import { AUTH_TOKEN_BYTES_MAX } from '../../../src/auth/auth-token.js';
import { MessageDecodeError } from '../../../src/transport/errors.js';
import type { Hello } from '../../../src/transport/handshake.js';
import { CLUSTER_ID_BYTES_MAX, decodeHello, encodeHello } from '../../../src/transport/handshake.js';
import { decodeRaftMessage, encodeRaftMessage } from '../../../src/transport/raft-message-codec.js';
import type {
  DecodedServiceRequest,
  ServiceErrorCode,
  ServiceResponseMessage,
} from '../../../src/transport/service-protocol.js';
import {
  decodeServiceRequest,
  decodeServiceResponse,
  encodeServiceRequest,
  encodeServiceResponse,
  SERVICE_NAMES,
} from '../../../src/transport/service-protocol.js';
import { checkReencodes, decoderProperties } from '../../support/fuzz.js';
import { anyText, bytes, textOfBytes, u32 } from '../../support/fuzz-values.js';
import { raftMessage } from './raft-values.js';

describe('fuzzing the hello', () => {
  const clusterId = fc.oneof(fc.constant(''), textOfBytes(CLUSTER_ID_BYTES_MAX));
  // Null: a version 1 hello; a token: version 2. Tokens are printable ASCII, as authTokenProblem demands.
  const token = fc.oneof(
    fc.constant(null),
    fc.stringMatching(/^[\x21-\x7e]+$/).filter((text) => text.length <= AUTH_TOKEN_BYTES_MAX),
  );
  decoderProperties<Hello>({
    arbitrary: fc.oneof(
      fc.record({ role: fc.constant('peer' as const), clusterId, fromNodeId: u32, token }),
      fc.record({ role: fc.constant('client' as const), clusterId, token }),
    ),
    encode: encodeHello,
    decode: decodeHello,
    DecodeError: MessageDecodeError,
  });
});

describe('fuzzing service requests', () => {
  const encode = (message: DecodedServiceRequest): Buffer => {
    assert.ok(message.ok, 'only requests for known services encode');
    return encodeServiceRequest(message);
  };
  decoderProperties<DecodedServiceRequest>({
    arbitrary: fc.record({
      ok: fc.constant(true as const),
      requestId: u32,
      request: fc.record({ service: fc.constantFrom(...SERVICE_NAMES), stale: fc.boolean(), payload: bytes() }),
    }),
    encode,
    decode: decodeServiceRequest,
    DecodeError: MessageDecodeError,
    checkValid: (decoded) => {
      // A sound header naming a service this raftkv does not know is answered, not dropped.
      if (decoded.ok) checkReencodes({ encode, decode: decodeServiceRequest }, decoded);
      else assert.equal(decoded.result.ok ? 'ok' : decoded.result.error.code, 'unsupported');
    },
  });
});

describe('fuzzing service responses', () => {
  const errorCodes: ServiceErrorCode[] = ['notLeader', 'outcomeUnknown', 'overloaded', 'timeout', 'stopped'];
  decoderProperties<ServiceResponseMessage>({
    arbitrary: fc.record({
      requestId: u32,
      result: fc.oneof(
        fc.record({ ok: fc.constant(true as const), reply: bytes() }),
        fc.record({
          ok: fc.constant(false as const),
          error: fc.record({
            code: fc.constantFrom(...errorCodes, 'unsupported'),
            message: anyText(),
            leader: fc.option(u32, { nil: null }),
          }),
        }),
      ),
    }),
    encode: encodeServiceResponse,
    decode: decodeServiceResponse,
    DecodeError: MessageDecodeError,
  });
});

describe('fuzzing Raft messages', () => {
  decoderProperties({
    arbitrary: raftMessage,
    encode: encodeRaftMessage,
    decode: decodeRaftMessage,
    DecodeError: MessageDecodeError,
  });
});
