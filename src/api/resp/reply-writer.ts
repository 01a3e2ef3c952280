/**
 * Writes one connection's replies: batched, so that a pipeline of small
 * replies costs one write instead of one per reply, and with the socket's
 * backpressure made visible, so that the connection stops executing
 * requests while the client is not reading.
 */
import type { Socket } from 'node:net';
import type { RespReply } from './encoder.js';
import { encodeReply } from './encoder.js';

export class ReplyWriter {
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly batchBytesMax: number,
  ) {}

  /** Queues a reply; it is written once this turn of the event loop ends, or at once when the batch is full. */
  write(reply: RespReply): void {
    const piecesBefore = this.batch.length;
    encodeReply(reply, this.batch);
    for (let index = piecesBefore; index < this.batch.length; index++) this.batchBytes += this.batch[index]!.byteLength;
    if (this.batchBytes >= this.batchBytesMax) this.flush();
    else this.flushScheduled ??= setImmediate(() => this.flush());
  }

  flush(): void {
    this.cancelScheduledFlush();
    if (this.batch.length === 0) return;
    // One copy of at most one batch is cheaper than a writev of many tiny headers.
    if (this.socket.writable) this.socket.write(this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch));
    this.batch = [];
    this.batchBytes = 0;
  }

  /** The socket holds as much as it should: produce no more replies until `drained()` resolves. */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Resolves once the socket has drained, or closed (then nothing more will be written anyway). */
  drained(): Promise<void> {
    if (this.socket.destroyed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Writes what is batched, then ends the sending side: the client reads every reply, then the end. */
  end(): void {
    this.flush();
    this.socket.end();
  }

  /** Forgets unsent replies: the connection is gone. */
  discard(): void {
    this.cancelScheduledFlush();
    this.batch = [];
    this.batchBytes = 0;
  }

  private cancelScheduledFlush(): void {
    if (this.flushScheduled === null) return;
    clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
  }
}
