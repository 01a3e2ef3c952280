/**
 * A streaming parser for Redis protocol (RESP2) requests: arrays of bulk
 * strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) as every client library sends,
 * and inline commands (`PING\r\n`) as people type into telnet.
 *
 * Bytes arrive in arbitrary pieces. The parser keeps what it cannot parse
 * yet and, once it knows how many bytes the command in progress needs,
 * waits for that many before looking again, so a large value arriving in
 * many small pieces is copied once, not once per piece.
 *
 * Hand-written because no maintained npm package parses the request side of
 * RESP (client libraries parse replies) with limits a server must enforce.
 */

export interface RespLimits {
  /** Bytes of one bulk string (a key or a value). */
  readonly bulkBytesMax: number;
  /** Arguments of one command. */
  readonly argumentsMax: number;
  /** Bytes of one inline command line. */
  readonly inlineBytesMax: number;
}

export const DEFAULT_RESP_LIMITS: RespLimits = {
  bulkBytesMax: 64 << 20,
  argumentsMax: 1 << 20,
  inlineBytesMax: 64 << 10,
};

/** The client broke the protocol: the server answers with the message and closes the connection (as Redis does). */
export class RespProtocolError extends Error {
  constructor(message: string) {
    super(`Protocol error: ${message}`);
    this.name = 'RespProtocolError';
  }
}

/** What one `feed` found: the commands now complete and, when the bytes after them break the protocol, why. */
export interface RespFeedResult {
  readonly commands: Buffer[][];
  readonly error: RespProtocolError | null;
}

type Attempt = { readonly args: Buffer[]; readonly end: number } | { readonly needBytes: number };

const CR = 13;
const LF = 10;

export class RespParser {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: Buffer[] = [];
  private waitingBytes = 0;
  /** Bytes the command in progress needs at least, counted from the start of `buffer`. */
  private needBytes = 0;
  private failure: RespProtocolError | null = null;

  constructor(private readonly limits: RespLimits = DEFAULT_RESP_LIMITS) {}

  /** Feeds bytes; returns every command now complete, each as its arguments. Throws RespProtocolError. */
  push(chunk: Uint8Array): Buffer[][] {
    const { commands, error } = this.feed(chunk);
    if (error !== null) throw error;
    return commands;
  }

  /**
   * Feeds bytes; returns the commands now complete and the protocol error
   * that follows them, if any. A server answers those commands, then the
   * error, as Redis does. After an error the stream cannot be resynchronised,
   * so every later feed answers the same error and no commands.
   */
  feed(chunk: Uint8Array): RespFeedResult {
    if (this.failure !== null) return { commands: [], error: this.failure };
    const commands: Buffer[][] = [];
    try {
      this.parseInto(chunk, commands);
    } catch (thrown) {
      if (!(thrown instanceof RespProtocolError)) throw thrown;
      this.failure = thrown;
      this.buffer = Buffer.alloc(0);
    }
    return { commands, error: this.failure };
  }

  private parseInto(chunk: Uint8Array, commands: Buffer[][]): void {
    this.waiting.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.waitingBytes += chunk.byteLength;
    if (this.buffer.byteLength + this.waitingBytes < this.needBytes) return;
    // Nothing left over and one chunk (a client that sends whole commands): parse the chunk itself, uncopied.
    this.buffer =
      this.buffer.byteLength === 0 && this.waiting.length === 1
        ? this.waiting[0]!
        : Buffer.concat([this.buffer, ...this.waiting]);
    this.waiting.length = 0;
    this.waitingBytes = 0;

    let offset = 0;
    for (;;) {
      const attempt = this.parseAt(offset);
      if ('needBytes' in attempt) {
        this.needBytes = attempt.needBytes - offset;
        break;
      }
      if (attempt.args.length > 0) commands.push(attempt.args);
      offset = attempt.end;
    }
    this.buffer = this.buffer.subarray(offset);
  }

  private parseAt(offset: number): Attempt {
    if (offset >= this.buffer.byteLength) return { needBytes: offset + 1 };
    return this.buffer[offset] === 0x2a /* '*' */ ? this.parseArray(offset) : this.parseInline(offset);
  }

  private parseArray(offset: number): Attempt {
    const header = this.readLine(offset + 1, 32, 'multibulk length');
    if (header === null) return { needBytes: offset + 3 };
    const count = parseLength(this.buffer, offset + 1, header, 'multibulk length');
    if (count > this.limits.argumentsMax) throw new RespProtocolError(`invalid multibulk length ${count}`);
    const args: Buffer[] = [];
    let cursor = header + 2;
    for (let k = 0; k < count; k++) {
      if (cursor >= this.buffer.byteLength) return { needBytes: cursor + 1 };
      if (this.buffer[cursor] !== 0x24 /* '$' */) {
        throw new RespProtocolError(`expected '$', got '${String.fromCharCode(this.buffer[cursor]!)}'`);
      }
      const lengthEnd = this.readLine(cursor + 1, 32, 'bulk length');
      if (lengthEnd === null) return { needBytes: cursor + 3 };
      const length = parseLength(this.buffer, cursor + 1, lengthEnd, 'bulk length');
      if (length > this.limits.bulkBytesMax) throw new RespProtocolError(`invalid bulk length ${length}`);
      const start = lengthEnd + 2;
      const end = start + length;
      if (end + 2 > this.buffer.byteLength) return { needBytes: end + 2 };
      if (this.buffer[end] !== CR || this.buffer[end + 1] !== LF) {
        throw new RespProtocolError('bulk string not followed by CRLF');
      }
      args.push(this.buffer.subarray(start, end));
      cursor = end + 2;
    }
    return { args, end: cursor };
  }

  private parseInline(offset: number): Attempt {
    const newline = this.buffer.indexOf(LF, offset);
    if (newline < 0) {
      if (this.buffer.byteLength - offset > this.limits.inlineBytesMax)
        throw new RespProtocolError('too big inline request');
      return { needBytes: this.buffer.byteLength + 1 };
    }
    const lineEnd = newline > offset && this.buffer[newline - 1] === CR ? newline - 1 : newline;
    const line = this.buffer.subarray(offset, lineEnd).toString('latin1');
    const args = line
      .split(' ')
      .filter((word) => word.length > 0)
      .map((word) => Buffer.from(word, 'latin1'));
    return { args, end: newline + 1 };
  }

  /** Index of the CR that ends a header line starting at `start`, or null when not all here yet. */
  private readLine(start: number, bytesMax: number, what: string): number | null {
    const limit = Math.min(this.buffer.byteLength, start + bytesMax);
    for (let index = start; index < limit; index++) {
      if (this.buffer[index] === LF)
        throw new RespProtocolError(`invalid ${what}: a line feed without carriage return`);
      if (this.buffer[index] === CR) {
        if (index + 1 >= this.buffer.byteLength) return null;
        if (this.buffer[index + 1] !== LF) throw new RespProtocolError(`${what} not followed by CRLF`);
        return index;
      }
    }
    if (this.buffer.byteLength >= start + bytesMax) throw new RespProtocolError(`invalid ${what}`);
    return null;
  }
}

/** The decimal digits between `start` and `end`, at most 15 of them (a safe integer). */
function parseLength(buffer: Buffer, start: number, end: number, what: string): number {
  let value = 0;
  for (let index = start; index < end; index++) {
    const digit = buffer[index]! - 0x30;
    if (digit < 0 || digit > 9 || end - start > 15) {
      throw new RespProtocolError(`invalid ${what} '${buffer.subarray(start, end).toString('latin1')}'`);
    }
    value = value * 10 + digit;
  }
  if (end === start) throw new RespProtocolError(`invalid ${what} ''`);
  return value;
}
