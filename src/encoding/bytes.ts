/**
 * Fixed-width big-endian fields for raftkv's hand-written binary formats (the
 * kv layer's commands, replies and snapshots; the transport's frames and
 * messages): a writer that fills a buffer sized up front (so a value is copied
 * once), and a reader that turns every overrun into a decode error naming the
 * field, because the bytes it reads may come from a damaged disk, a buggy
 * client or a stranger on the network.
 *
 * Layer-neutral on purpose: it imports nothing of raftkv, and each layer
 * passes the error class its callers expect (KvDecodeError, MessageDecodeError).
 */

/** The typed error a layer throws for bytes that do not decode. */
export type DecodeErrorClass = new (what: string, problem: string) => Error;

const TWO_TO_32 = 2 ** 32;

export class ByteWriter {
  private offsetBytes = 0;
  readonly buffer: Buffer;

  constructor(sizeBytes: number) {
    this.buffer = Buffer.allocUnsafe(sizeBytes);
  }

  u8(value: number): this {
    this.offsetBytes = this.buffer.writeUInt8(value, this.offsetBytes);
    return this;
  }

  u16(value: number): this {
    this.offsetBytes = this.buffer.writeUInt16BE(value, this.offsetBytes);
    return this;
  }

  u32(value: number): this {
    this.offsetBytes = this.buffer.writeUInt32BE(value, this.offsetBytes);
    return this;
  }

  /** A non-negative safe integer as 8 bytes; anything else is a bug of the caller, so it throws. */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`ByteWriter: ${value} is not a u64 field value`);
    this.buffer.writeUInt32BE(Math.floor(value / TWO_TO_32), this.offsetBytes);
    this.buffer.writeUInt32BE(value % TWO_TO_32, this.offsetBytes + 4);
    this.offsetBytes += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.buffer.set(value, this.offsetBytes);
    this.offsetBytes += value.byteLength;
    return this;
  }

  /** The filled buffer; the size given up front must have been exactly right. */
  finish(): Buffer {
    if (this.offsetBytes !== this.buffer.byteLength) {
      throw new Error(`ByteWriter: wrote ${this.offsetBytes} bytes into a buffer sized ${this.buffer.byteLength}`);
    }
    return this.buffer;
  }
}

export class ByteReader {
  private offsetBytes = 0;
  private readonly source: Buffer;

  constructor(
    bytes: Uint8Array,
    /** What the bytes are, for error messages. */
    private readonly what: string,
    /** What a failure throws: the decoding layer's own typed error. */
    private readonly ErrorClass: DecodeErrorClass,
  ) {
    this.source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remainingBytes(): number {
    return this.source.byteLength - this.offsetBytes;
  }

  fail(problem: string): never {
    throw new this.ErrorClass(this.what, problem);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.source.readUInt8(this.offsetBytes++);
  }

  u16(field: string): number {
    this.need(2, field);
    const value = this.source.readUInt16BE(this.offsetBytes);
    this.offsetBytes += 2;
    return value;
  }

  u32(field: string): number {
    this.need(4, field);
    const value = this.source.readUInt32BE(this.offsetBytes);
    this.offsetBytes += 4;
    return value;
  }

  u64(field: string): number {
    this.need(8, field);
    const value =
      this.source.readUInt32BE(this.offsetBytes) * TWO_TO_32 + this.source.readUInt32BE(this.offsetBytes + 4);
    if (!Number.isSafeInteger(value)) this.fail(`the ${field} is larger than a JavaScript number holds exactly`);
    this.offsetBytes += 8;
    return value;
  }

  /** A copy of the next `lengthBytes` bytes, so that the result does not keep the source buffer alive. */
  bytes(lengthBytes: number, field: string): Uint8Array {
    this.need(lengthBytes, field);
    const value = new Uint8Array(this.source.subarray(this.offsetBytes, this.offsetBytes + lengthBytes));
    this.offsetBytes += lengthBytes;
    return value;
  }

  /**
   * The next `lengthBytes` bytes as a view into the source, not a copy: for a
   * caller whose result lives no longer than the source would anyway (a log
   * entry decoded from the message that carried it, a command applied from its
   * entry), where the copy would be pure cost.
   */
  view(lengthBytes: number, field: string): Uint8Array {
    this.need(lengthBytes, field);
    // A plain Uint8Array, like bytes() answers, not a Buffer: callers and their tests cannot tell the two apart.
    const value = new Uint8Array(this.source.buffer, this.source.byteOffset + this.offsetBytes, lengthBytes);
    this.offsetBytes += lengthBytes;
    return value;
  }

  /** Strict UTF-8: an invalid sequence is an error, never a replacement character. */
  utf8(lengthBytes: number, field: string): string {
    // The decoder keeps nothing of its input, so a view does instead of a copy.
    const bytes = this.view(lengthBytes, field);
    try {
      return strictDecoder.decode(bytes);
    } catch {
      return this.fail(`the ${field} is not valid UTF-8`);
    }
  }

  rest(field: string): Uint8Array {
    return this.bytes(this.remainingBytes, field);
  }

  expectEnd(): void {
    if (this.remainingBytes !== 0) this.fail(`${this.remainingBytes} unexpected bytes follow the end`);
  }

  private need(lengthBytes: number, field: string): void {
    if (this.remainingBytes < lengthBytes) {
      this.fail(`the ${field} needs ${lengthBytes} bytes but only ${this.remainingBytes} remain`);
    }
  }
}

/**
 * ignoreBOM: a leading U+FEFF is part of the text, not a byte order mark to
 * drop; dropped, the client id "\uFEFF" would come back empty and
 * "\uFEFFalice" as "alice", another client's id.
 */
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
