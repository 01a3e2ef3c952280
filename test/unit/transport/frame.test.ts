import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom, seedFromEnv } from '../../../src/sim/random.js';
import { FrameError } from '../../../src/transport/errors.js';
import type { Frame, FrameKind } from '../../../src/transport/frame.js';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder } from '../../../src/transport/frame.js';

const KINDS: readonly FrameKind[] = ['hello', 'raftMessage', 'clientRequest', 'clientResponse', 'reject'];

function wire(frames: readonly Frame[]): Buffer {
  return Buffer.concat(frames.flatMap((frame) => encodeFrame(frame.kind, frame.payload)));
}

function sampleFrames(random: SeededRandom, count: number): Frame[] {
  return Array.from({ length: count }, () => ({
    kind: random.pick(KINDS),
    payload: Buffer.from(Array.from({ length: random.pick([0, 1, 5, random.int(300)]) }, () => random.int(256))),
  }));
}

/** Decoded frames as plain values, so that a slice of a chunk and a copied buffer compare equal. */
function plain(frames: readonly Frame[]): { kind: FrameKind; hex: string }[] {
  return frames.map((frame) => ({ kind: frame.kind, hex: frame.payload.toString('hex') }));
}

function header(lengthBytes: number, version: number, kindCode: number): Buffer {
  const bytes = Buffer.alloc(FRAME_HEADER_BYTES);
  bytes.writeUInt32BE(lengthBytes, 0);
  bytes.writeUInt8(version, 4);
  bytes.writeUInt8(kindCode, 5);
  return bytes;
}

function frameError(reason: FrameError['reason']): (error: unknown) => boolean {
  return (error) => error instanceof FrameError && error.reason === reason;
}

describe('frames', () => {
  it('a stream split at every byte boundary decodes to the same frames', () => {
    const frames = sampleFrames(new SeededRandom(1), 6);
    const bytes = wire(frames);
    for (let cut = 0; cut <= bytes.byteLength; cut++) {
      const decoder = new FrameDecoder();
      const decoded = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      assert.deepEqual(plain(decoded), plain(frames), `cut at byte ${cut}`);
    }
  });

  it('a stream fed one byte at a time decodes to the same frames', () => {
    const frames = sampleFrames(new SeededRandom(2), 6);
    const decoder = new FrameDecoder();
    const decoded: Frame[] = [];
    for (const byte of wire(frames)) decoded.push(...decoder.push(Buffer.of(byte)));
    assert.deepEqual(plain(decoded), plain(frames));
  });

  for (const seed of seedFromEnv([1, 2, 3])) {
    it(`a stream in random chunks decodes to the same frames (seed ${seed})`, () => {
      const random = new SeededRandom(seed);
      const frames = sampleFrames(random, 50);
      const bytes = wire(frames);
      const decoder = new FrameDecoder();
      const decoded: Frame[] = [];
      for (let offset = 0; offset < bytes.byteLength;) {
        const end = Math.min(bytes.byteLength, offset + random.intBetween(0, 400));
        decoded.push(...decoder.push(bytes.subarray(offset, end)));
        offset = end;
      }
      assert.deepEqual(plain(decoded), plain(frames), `seed ${seed}`);
    });
  }

  it('a frame over the limit is refused from its header, before its payload arrives', () => {
    const decoder = new FrameDecoder({ frameBytesMax: 100 });
    assert.equal(decoder.push(wire([{ kind: 'hello', payload: Buffer.alloc(94) }])).length, 1);
    assert.throws(() => decoder.push(header(2 + 95, 1, 2)), frameError('tooLarge'));
    // The stream cannot be trusted any more: every later push fails the same way.
    assert.throws(() => decoder.push(Buffer.alloc(10)), frameError('tooLarge'));
  });

  it('a smaller limit for the first frame (the hello) holds even when later, larger frames come in the same chunk', () => {
    const hello = Buffer.concat(encodeFrame('hello', Buffer.alloc(10)));
    const request = Buffer.concat(encodeFrame('clientRequest', Buffer.alloc(500)));
    const decoder = new FrameDecoder({ frameBytesMax: 1024, firstFrameBytesMax: 32 });
    const frames = decoder.push(Buffer.concat([hello, request]));
    assert.deepEqual(
      frames.map((frame) => [frame.kind, frame.payload.byteLength]),
      [
        ['hello', 10],
        ['clientRequest', 500],
      ],
    );
    const strict = new FrameDecoder({ frameBytesMax: 1024, firstFrameBytesMax: 32 });
    assert.throws(() => strict.push(request), /over the limit of 32 bytes/);
  });

  it('a header that promises a frame just under the limit holds only the bytes that came, until the rest comes', () => {
    const decoder = new FrameDecoder();
    const payloadBytes = 64 * 1024 * 1024 - FRAME_HEADER_BYTES;
    assert.deepEqual(decoder.push(Buffer.concat([header(payloadBytes + 2, 1, 2), Buffer.from('abc')])), []);
    assert.equal(decoder.bufferedBytes, 3);
    const [frame] = decoder.push(Buffer.alloc(payloadBytes - 3, 7));
    assert.equal(frame?.payload.byteLength, payloadBytes);
    assert.equal(frame?.payload.subarray(0, 4).toString('latin1'), 'abc\u0007');
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('the default limit refuses a forged 4 GiB length without allocating it', () => {
    assert.throws(() => new FrameDecoder().push(header(0xffff_ffff, 1, 2)), frameError('tooLarge'));
  });

  it('an unknown protocol version, an unknown kind and a length too short are refused with their reason', () => {
    assert.throws(() => new FrameDecoder().push(header(2, 2, 1)), /protocol version 2 is unknown/);
    assert.throws(() => new FrameDecoder().push(header(2, 2, 1)), frameError('unknownVersion'));
    assert.throws(() => new FrameDecoder().push(header(2, 1, 77)), frameError('unknownKind'));
    assert.throws(() => new FrameDecoder().push(header(1, 1, 1)), frameError('tooShort'));
  });

  it('a decoder that refused a header refuses every later push, an empty one too', () => {
    const decoder = new FrameDecoder();
    assert.throws(() => decoder.push(header(2, 9, 2)), frameError('unknownVersion'));
    assert.throws(() => decoder.push(Buffer.alloc(0)), frameError('unknownVersion'));
    assert.throws(
      () => decoder.push(Buffer.concat(encodeFrame('hello', Buffer.from('x')))),
      frameError('unknownVersion'),
    );
  });

  it('frames before garbage in earlier chunks are still delivered', () => {
    const decoder = new FrameDecoder();
    const good = decoder.push(wire([{ kind: 'raftMessage', payload: Buffer.from('ok') }]));
    assert.deepEqual(plain(good), [{ kind: 'raftMessage', hex: Buffer.from('ok').toString('hex') }]);
    assert.throws(() => decoder.push(Buffer.from('GET / HTTP/1.1\r\n\r\n')), FrameError);
  });
});
