/**
 * A tiny raw RESP client for tests: it sends exactly the bytes a test gives
 * and parses the replies, so a test sees what goes over the wire and can
 * misbehave (pipeline, half-close, send garbage, stop reading) on purpose.
 */
import net from 'node:net';

/** '+OK' for a simple string, '-ERR ...' for an error, a number, a Buffer or null for a bulk, an array or null. */
export type TestReply = string | number | Buffer | null | TestReply[];

type Parsed = { readonly value: TestReply; readonly end: number } | { readonly needBytes: number };

/** The request an ordinary client library sends: an array of bulk strings. */
export function command(...args: (string | Uint8Array)[]): Buffer {
  const pieces: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : Buffer.from(arg);
    pieces.push(Buffer.from(`$${bytes.byteLength}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(pieces);
}

export class RespTestClient {
  /** Resolves when the server has closed the connection (or it was destroyed here). */
  readonly closed: Promise<void>;
  private readonly replies: TestReply[] = [];
  private readonly waiters: { resolve: (reply: TestReply) => void; reject: (problem: Error) => void }[] = [];
  private readonly pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** Bytes the reply in progress needs at least; parsing waits for them instead of retrying on every chunk. */
  private needBytes = 1;
  private ended = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    // As client libraries do: once the server has said all it will, hang up too.
    socket.on('end', () => socket.end());
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the server closed the connection'));
        resolve();
      });
    });
  }

  static connect(port: number): Promise<RespTestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RespTestClient(socket));
      });
    });
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends one command and waits for the next reply (call it only when no other reply is pending). */
  call(...args: (string | Uint8Array)[]): Promise<TestReply> {
    this.send(command(...args));
    return this.nextReply();
  }

  nextReply(): Promise<TestReply> {
    const reply = this.replies.shift();
    if (reply !== undefined) return Promise.resolve(reply);
    if (this.ended) return Promise.reject(new Error('the server closed the connection'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async nextReplies(count: number): Promise<TestReply[]> {
    const replies: TestReply[] = [];
    for (let index = 0; index < count; index++) replies.push(await this.nextReply());
    return replies;
  }

  /** Stops reading replies, as a client busy elsewhere does: the server sees its writes back up. */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Half-closes: the server sees the end of the requests but can still answer. */
  endRequests(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.pieces.push(chunk);
    this.pieceBytes += chunk.byteLength;
    if (this.pieceBytes < this.needBytes) return;
    let buffer = Buffer.concat(this.pieces);
    this.pieces.length = 0;
    for (;;) {
      const parsed = parseReply(buffer, 0);
      if ('needBytes' in parsed) {
        this.needBytes = parsed.needBytes;
        break;
      }
      this.deliver(parsed.value);
      buffer = buffer.subarray(parsed.end);
    }
    this.pieces.push(buffer);
    this.pieceBytes = buffer.byteLength;
  }

  private deliver(reply: TestReply): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) this.replies.push(reply);
    else waiter.resolve(reply);
  }
}

function parseReply(buffer: Buffer, offset: number): Parsed {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return { needBytes: buffer.byteLength + 1 };
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const end = lineEnd + 2;
  switch (String.fromCharCode(buffer[offset]!)) {
    case '+':
    case '-':
      return { value: `${String.fromCharCode(buffer[offset]!)}${line}`, end };
    case ':':
      return { value: Number(line), end };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end };
      if (buffer.byteLength < end + length + 2) return { needBytes: end + length + 2 };
      return { value: Buffer.from(buffer.subarray(end, end + length)), end: end + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end };
      const items: TestReply[] = [];
      let cursor = end;
      for (let index = 0; index < count; index++) {
        const item = parseReply(buffer, cursor);
        if ('needBytes' in item) return item;
        items.push(item.value);
        cursor = item.end;
      }
      return { value: items, end: cursor };
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buffer.toString('latin1', offset, offset + 20))}`);
  }
}
