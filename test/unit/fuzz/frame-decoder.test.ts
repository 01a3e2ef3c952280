/**
 * Fuzzing the frame decoder, the first thing that reads every byte of every
 * connection. A stream is pushed in arbitrary chunks, as TCP delivers it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameError } from '../../../src/transport/errors.js';
import type { Frame, FrameKind } from '../../../src/transport/frame.js';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder } from '../../../src/transport/frame.js';
import { fuzzParameters } from '../../support/fuzz.js';

const FRAME_KINDS: readonly FrameKind[] = ['hello', 'raftMessage', 'clientRequest', 'clientResponse', 'reject'];
/** Small, so that arbitrary lengths often land on both sides of it. */
const FRAME_BYTES_MAX = 300;

const frame = fc.record({ kind: fc.constantFrom(...FRAME_KINDS), payload: fc.uint8Array({ maxLength: 200 }) });
const frames = fc.array(frame, { maxLength: 6 });

function encodeStream(list: readonly { kind: FrameKind; payload: Uint8Array }[]): Buffer {
  return Buffer.concat(list.flatMap(({ kind, payload }) => encodeFrame(kind, Buffer.from(payload))));
}

/** `stream` cut at the given points (taken modulo its length), as a socket may deliver it. */
function chunksOf(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (stream.byteLength + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, stream.byteLength]) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  return chunks;
}

interface Outcome {
  readonly frames: Frame[];
  readonly error: FrameError | null;
}

/**
 * Pushes every chunk, checking what must hold whatever the bytes: only
 * FrameError is thrown, and again on every push after it; the decoder never
 * holds more than it was given; frames fit the limit and are of known kinds.
 */
function decodeChunks(chunks: readonly Buffer[]): Outcome {
  const decoder = new FrameDecoder({ frameBytesMax: FRAME_BYTES_MAX });
  const decoded: Frame[] = [];
  let pushedBytes = 0;
  let error: FrameError | null = null;
  for (const chunk of chunks) {
    pushedBytes += chunk.byteLength;
    try {
      decoded.push(...decoder.push(chunk));
    } catch (thrown) {
      if (!(thrown instanceof FrameError)) throw thrown;
      if (error === null) error = thrown;
      else assert.equal(thrown, error, 'a failed decoder throws its first error again');
      continue;
    }
    assert.equal(error, null, 'a decoder that failed must not decode anything after');
    assert.ok(decoder.bufferedBytes <= pushedBytes, `holds ${decoder.bufferedBytes} bytes of ${pushedBytes} given`);
  }
  for (const { kind, payload } of decoded) {
    assert.ok(FRAME_KINDS.includes(kind));
    assert.ok(payload.byteLength + FRAME_HEADER_BYTES <= FRAME_BYTES_MAX);
  }
  return { frames: decoded, error };
}

function sameFrames(actual: readonly Frame[], expected: readonly { kind: FrameKind; payload: Uint8Array }[]): void {
  assert.deepEqual(
    actual.map(({ kind, payload }) => ({ kind, payload: Buffer.from(payload).toString('hex') })),
    expected.map(({ kind, payload }) => ({ kind, payload: Buffer.from(payload).toString('hex') })),
  );
}

describe('fuzzing the frame decoder', () => {
  const cuts = fc.array(fc.nat(), { maxLength: 8 });

  it('decodes arbitrary bytes in arbitrary chunks, or refuses them with FrameError, holding no more than it got', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), cuts, (bytes, at) => {
        const { frames: decoded } = decodeChunks(chunksOf(Buffer.from(bytes), at));
        const payloadBytes = decoded.reduce((total, { payload }) => total + payload.byteLength, 0);
        assert.ok(payloadBytes + decoded.length * FRAME_HEADER_BYTES <= bytes.byteLength);
      }),
      fuzzParameters(),
    );
  });

  it('gives back every stream of frames it was given, however the stream is cut', () => {
    fc.assert(
      fc.property(frames, cuts, (list, at) => {
        const outcome = decodeChunks(chunksOf(encodeStream(list), at));
        assert.equal(outcome.error, null);
        sameFrames(outcome.frames, list);
      }),
      fuzzParameters(),
    );
  });

  it('a truncated stream gives a prefix of its frames; a changed byte is refused or gives valid frames', () => {
    fc.assert(
      fc.property(frames, fc.integer({ min: 1, max: 255 }), (list, xorMask) => {
        const stream = encodeStream(list);
        for (let lengthBytes = 0; lengthBytes < stream.byteLength; lengthBytes++) {
          const outcome = decodeChunks([stream.subarray(0, lengthBytes)]);
          assert.equal(outcome.error, null, 'a stream cut short is waiting for more, not broken');
          sameFrames(outcome.frames, list.slice(0, outcome.frames.length));
        }
        for (let position = 0; position < stream.byteLength; position++) {
          const damaged = Buffer.from(stream);
          damaged[position] = (damaged[position] ?? 0) ^ xorMask;
          decodeChunks([damaged]);
        }
      }),
      fuzzParameters(50),
    );
  });

  it('a header that promises a large frame costs only the bytes that came', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 0xffff_ffff }), fc.integer({ min: 0, max: 64 }), (length, sent) => {
        const decoder = new FrameDecoder();
        const header = Buffer.from([0, 0, 0, 0, 1, 2]);
        header.writeUInt32BE(length, 0);
        try {
          decoder.push(Buffer.concat([header, Buffer.alloc(sent)]));
        } catch (error) {
          assert.ok(error instanceof FrameError);
          return;
        }
        assert.ok(decoder.bufferedBytes <= sent);
      }),
      fuzzParameters(),
    );
  });
});
