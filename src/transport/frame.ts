/**
 * The framing of every raftkv TCP connection, peer and client alike:
 *
 *   [u32 BE length of what follows][u8 protocol version = 1][u8 frame kind][payload]
 *
 * The length comes first so that a reader knows how much to wait for; the
 * version lets a later protocol be told apart from this one (and refused with
 * a clear reason rather than misread); the kind says which codec reads the
 * payload. Nothing here looks inside a payload.
 *
 * FrameDecoder is a byte-level state machine (header, then payload) in the
 * style of nats.js's parser: it hands out a slice of the incoming chunk
 * without copying when a whole payload arrived in one piece, and otherwise
 * keeps the pieces and joins them (one copy) when the last one comes. The
 * size limit is checked on the header, and nothing is allocated from the
 * header's length: what a connection costs is the bytes it really sent, so
 * a header that promises 64 MiB and a trickle of bytes after it costs the
 * trickle, however many connections do it.
 */
import { FrameError } from './errors.js';

export const FRAME_PROTOCOL_VERSION = 1;
/** The length field. */
export const FRAME_LENGTH_BYTES = 4;
/** Length, version and kind. */
export const FRAME_HEADER_BYTES = FRAME_LENGTH_BYTES + 2;
/** Large enough for a snapshot chunk or a big AppendEntries batch, small enough that a forged length cannot exhaust memory. */
export const FRAME_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

const FRAME_KIND_CODES = {
  /** The first frame of every connection: who is calling, for which cluster. */
  hello: 1,
  /** Peer connections: one Raft message. */
  raftMessage: 2,
  /** Client connections, client to server: one service request. */
  clientRequest: 3,
  /** Client connections, server to client: the answer to one request. */
  clientResponse: 4,
  /** Server to caller, just before closing: why the connection was refused (UTF-8 text). */
  reject: 5,
} as const;

export type FrameKind = keyof typeof FRAME_KIND_CODES;

const FRAME_KINDS_BY_CODE = new Map<number, FrameKind>(
  Object.entries(FRAME_KIND_CODES).map(([kind, code]) => [code, kind as FrameKind]),
);

const EMPTY_PAYLOAD = Buffer.alloc(0);

export interface Frame {
  readonly kind: FrameKind;
  readonly payload: Buffer;
}

/**
 * An encoded frame as header and payload, so that a large payload (a snapshot
 * chunk) is never copied into a bigger buffer: the socket writes both pieces.
 */
export type FrameParts = readonly [header: Buffer, payload: Buffer];

export function encodeFrame(kind: FrameKind, payload: Buffer): FrameParts {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payload.byteLength + 2, 0);
  header.writeUInt8(FRAME_PROTOCOL_VERSION, 4);
  header.writeUInt8(FRAME_KIND_CODES[kind], 5);
  return [header, payload];
}

/** Bytes the frame occupies on the wire, header included: what frameBytesMax limits. */
export function frameSizeBytes(frame: FrameParts): number {
  return frame[0].byteLength + frame[1].byteLength;
}

export interface FrameDecoderOptions {
  /** The largest frame accepted, header included. */
  readonly frameBytesMax?: number;
  /**
   * The largest FIRST frame accepted, when it must be smaller (a connection's
   * hello: a stranger gets a few hundred bytes, not frameBytesMax, before it
   * has said who it is). Applied inside the decoder because one chunk may hold
   * the hello and the frames after it.
   */
  readonly firstFrameBytesMax?: number;
}

type DecoderState =
  | { readonly step: 'header' }
  | {
      readonly step: 'payload';
      readonly kind: FrameKind;
      readonly payloadBytes: number;
      /** Parts of the payload that came in earlier chunks; empty while it may still arrive whole, uncopied. */
      readonly pieces: Buffer[];
      filledBytes: number;
    }
  | { readonly step: 'failed'; readonly error: FrameError };

export class FrameDecoder {
  readonly frameBytesMax: number;
  private readonly firstFrameBytesMax: number;
  /** Frame headers accepted so far: the first one gets firstFrameBytesMax. */
  private headersAccepted = 0;
  private state: DecoderState = { step: 'header' };
  /** The header being collected; it may arrive in several chunks, even one byte at a time. */
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilledBytes = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    this.firstFrameBytesMax = Math.min(options.firstFrameBytesMax ?? this.frameBytesMax, this.frameBytesMax);
    if (!Number.isSafeInteger(this.frameBytesMax) || this.frameBytesMax < FRAME_HEADER_BYTES) {
      throw new Error(`frameBytesMax must be an integer of at least ${FRAME_HEADER_BYTES}, got ${this.frameBytesMax}`);
    }
  }

  /**
   * The frames that `chunk` completes, in order. Throws FrameError at the first
   * bad header, and again on every later push: a stream that carried one bad
   * frame cannot be resynchronised, so its connection must be closed (frames
   * before the bad one in the same chunk are dropped with it).
   */
  push(chunk: Buffer): Frame[] {
    // Checked first, so that even an empty chunk cannot pass for a healthy stream.
    if (this.state.step === 'failed') throw this.state.error;
    const frames: Frame[] = [];
    let offsetBytes = 0;
    while (offsetBytes < chunk.byteLength || this.payloadComplete()) {
      const state = this.state;
      // Not 'failed' here: a header that fails throws out of this loop.
      switch (state.step) {
        case 'header':
          offsetBytes = this.collectHeader(chunk, offsetBytes);
          break;
        case 'payload': {
          const missingBytes = state.payloadBytes - state.filledBytes;
          if (missingBytes === 0) {
            frames.push({ kind: state.kind, payload: joinPieces(state.pieces, state.payloadBytes) });
            this.state = { step: 'header' };
          } else if (state.pieces.length === 0 && chunk.byteLength - offsetBytes >= missingBytes) {
            // The whole payload is in this chunk: a view of it, no copy.
            frames.push({ kind: state.kind, payload: chunk.subarray(offsetBytes, offsetBytes + missingBytes) });
            offsetBytes += missingBytes;
            this.state = { step: 'header' };
          } else {
            const takenBytes = Math.min(missingBytes, chunk.byteLength - offsetBytes);
            state.pieces.push(chunk.subarray(offsetBytes, offsetBytes + takenBytes));
            state.filledBytes += takenBytes;
            offsetBytes += takenBytes;
          }
          break;
        }
      }
    }
    return frames;
  }

  /** Bytes held for the frame not complete yet: never more than the connection sent. */
  get bufferedBytes(): number {
    const state = this.state;
    if (state.step === 'payload') return this.headerFilledBytes + state.filledBytes;
    return this.headerFilledBytes;
  }

  /** A payload of zero bytes, or one whose last byte came in: ready to hand out without more input. */
  private payloadComplete(): boolean {
    return this.state.step === 'payload' && this.state.filledBytes === this.state.payloadBytes;
  }

  private collectHeader(chunk: Buffer, offsetBytes: number): number {
    const copiedBytes = chunk.copy(this.header, this.headerFilledBytes, offsetBytes);
    this.headerFilledBytes += copiedBytes;
    if (this.headerFilledBytes === FRAME_HEADER_BYTES) {
      this.headerFilledBytes = 0;
      this.startPayload();
    }
    return offsetBytes + copiedBytes;
  }

  private startPayload(): void {
    const lengthBytes = this.header.readUInt32BE(0);
    const version = this.header.readUInt8(4);
    const kindCode = this.header.readUInt8(5);
    // The version first: under another version, the length and kind may mean something else.
    if (version !== FRAME_PROTOCOL_VERSION) {
      this.fail(
        'unknownVersion',
        `protocol version ${version} is unknown (this raftkv speaks ${FRAME_PROTOCOL_VERSION})`,
      );
    }
    const kind = FRAME_KINDS_BY_CODE.get(kindCode);
    if (kind === undefined) this.fail('unknownKind', `frame kind ${kindCode} is unknown`);
    if (lengthBytes < 2) this.fail('tooShort', `length ${lengthBytes} does not cover the version and kind bytes`);
    const frameBytes = FRAME_LENGTH_BYTES + lengthBytes;
    const limitBytes = this.headersAccepted === 0 ? this.firstFrameBytesMax : this.frameBytesMax;
    if (frameBytes > limitBytes) {
      this.fail('tooLarge', `a frame of ${frameBytes} bytes is over the limit of ${limitBytes} bytes`);
    }
    this.headersAccepted += 1;
    this.state = { step: 'payload', kind, payloadBytes: lengthBytes - 2, pieces: [], filledBytes: 0 };
  }

  private fail(reason: FrameError['reason'], detail: string): never {
    const error = new FrameError(reason, detail);
    this.state = { step: 'failed', error };
    throw error;
  }
}

function joinPieces(pieces: readonly Buffer[], payloadBytes: number): Buffer {
  if (pieces.length === 0) return EMPTY_PAYLOAD;
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, payloadBytes);
}
