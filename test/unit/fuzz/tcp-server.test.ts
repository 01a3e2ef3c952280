/**
 * Fuzzing a real TcpServer over loopback: whatever a connection sends (after
 * no hello, a client's or a peer's), the server stays up and keeps serving
 * its other clients. A decoder that threw anything but its typed error would
 * escape the socket's data handler and take the test process down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { silentLogger } from '../../../src/log/logger.js';
import type { Message } from '../../../src/raft/index.js';
import { TcpClientConnection } from '../../../src/transport/client-connection.js';
import { encodeFrame } from '../../../src/transport/frame.js';
import type { FrameKind } from '../../../src/transport/frame.js';
import { encodeHello } from '../../../src/transport/handshake.js';
import { encodeRaftMessage } from '../../../src/transport/raft-message-codec.js';
import type { GroupService } from '../../../src/transport/service-protocol.js';
import { encodeServiceRequest } from '../../../src/transport/service-protocol.js';
import { TcpServer } from '../../../src/transport/tcp-server.js';
import { fuzzParameters } from '../../support/fuzz.js';
import { HOST, RawConnection, waitFor } from '../transport/loopback.js';

const CLUSTER = 'fuzz-cluster';

const echo: GroupService = { handle: (request) => Promise.resolve({ ok: true, reply: request.payload }) };

const hellos = {
  none: [],
  client: encodeFrame('hello', encodeHello({ role: 'client', clusterId: CLUSTER })),
  peer: encodeFrame('hello', encodeHello({ role: 'peer', clusterId: CLUSTER, fromNodeId: 2 })),
} as const;

/**
 * What a hostile connection sends after its hello: raw bytes, a frame of any
 * kind, or (most often) the frame its hello calls for, holding garbage or a
 * valid payload with one byte changed, so that the payload decoders run too.
 */
function attack(hello: keyof typeof hellos): fc.Arbitrary<Buffer[]> {
  const expectedKind: FrameKind = hello === 'peer' ? 'raftMessage' : hello === 'client' ? 'clientRequest' : 'hello';
  const validPayload =
    hello === 'peer'
      ? encodeRaftMessage({ type: 'heartbeat', term: 3, from: 2, to: 1, commit: 5, readContext: 'ctx', round: 9 })
      : encodeServiceRequest({ requestId: 7, request: { service: 'kv', stale: false, payload: Buffer.from('k') } });
  const damaged = fc
    .tuple(fc.nat({ max: validPayload.byteLength - 1 }), fc.integer({ min: 1, max: 255 }))
    .map(([position, xorMask]) => {
      const payload = Buffer.from(validPayload);
      payload[position] = (payload[position] ?? 0) ^ xorMask;
      return payload;
    });
  const garbage = fc.uint8Array({ maxLength: 300, size: 'medium' }).map((bytes) => Buffer.from(bytes));
  const frameOf = (kind: FrameKind, payload: Buffer): Buffer[] => [...encodeFrame(kind, payload)];
  return fc.oneof(
    garbage.map((bytes) => [bytes]),
    fc.tuple(fc.constantFrom<FrameKind>(...FRAME_KINDS), garbage).map(([kind, payload]) => frameOf(kind, payload)),
    { arbitrary: fc.oneof(garbage, damaged).map((payload) => frameOf(expectedKind, payload)), weight: 3 },
  );
}

const FRAME_KINDS: readonly FrameKind[] = ['hello', 'raftMessage', 'clientRequest', 'clientResponse', 'reject'];
const hostileInput = fc
  .constantFrom<keyof typeof hellos>('none', 'client', 'peer')
  .chain((hello) => attack(hello).map((parts) => ({ hello, parts })));

describe('fuzzing a TCP server over loopback', () => {
  it('keeps serving its clients whatever another connection sends', async () => {
    const peerMessages: Message[] = [];
    const server = await TcpServer.start({
      host: HOST,
      port: 0,
      clusterId: CLUSTER,
      selfId: 1,
      logger: silentLogger,
      service: echo,
      onPeerMessage: (message) => peerMessages.push(message),
    });
    const good = new TcpClientConnection({ host: HOST, port: server.port, clusterId: CLUSTER });
    try {
      let call = 0;
      await fc.assert(
        fc.asyncProperty(hostileInput, async ({ hello, parts }) => {
          const hostile = await RawConnection.open(server.port);
          try {
            hostile.send(...hellos[hello], ...parts);
            // Half-closed, the server reads every byte sent before it closes its side too: once the
            // connection is closed, the server has decoded all of it.
            hostile.socket.end();
            await waitFor(() => hostile.closed, 'the server read the hostile bytes and closed');
            const payload = new Uint8Array(Buffer.from(`call ${++call}`));
            const result = await good.call({ service: 'kv', stale: false, payload }, 2_000);
            assert.deepEqual(result, { ok: true, reply: payload });
          } finally {
            hostile.destroy();
          }
        }),
        fuzzParameters(60),
      );
    } finally {
      good.close();
      await server.close();
    }
  });
});
