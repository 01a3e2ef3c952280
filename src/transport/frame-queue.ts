/**
 * Frames waiting to be written to one socket, and the batching that writes
 * them: everything queued in one event-loop turn goes out in a single corked
 * write (one writev system call, one TCP segment when small), so a leader's
 * burst of AppendEntries and heartbeats to a follower costs one write, not one
 * per message.
 *
 * Backpressure: while the socket's buffer is over its high-water mark the
 * queue writes nothing and waits for 'drain', so what is waiting stays here,
 * where the limits can see it. At most one batch (bounded by the limits)
 * sits in the socket's buffer beyond its high-water mark.
 */
import type { Socket } from 'node:net';
import type { FrameParts } from './frame.js';
import { frameSizeBytes } from './frame.js';

export interface FrameQueueLimits {
  /** Frames waiting at most; enqueue refuses more. */
  readonly framesMax: number;
  /** Bytes waiting at most, frame headers included; enqueue refuses more. */
  readonly bytesMax: number;
}

export class FrameQueue {
  private frames: FrameParts[] = [];
  private queuedBytes = 0;
  private socket: Socket | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;
  private drainWaiting = false;

  constructor(
    private readonly limits: FrameQueueLimits,
    /** Called after each batch is handed to the socket, with its frames and bytes (for counters and flow control). */
    private readonly onWritten: (frameCount: number, sizeBytes: number) => void = () => {},
  ) {}

  get framesQueued(): number {
    return this.frames.length;
  }

  get bytesQueued(): number {
    return this.queuedBytes;
  }

  /** Queues `frame` for the next batch; false, and nothing queued, when that would pass a limit. */
  enqueue(frame: FrameParts): boolean {
    const sizeBytes = frameSizeBytes(frame);
    if (this.frames.length >= this.limits.framesMax || this.queuedBytes + sizeBytes > this.limits.bytesMax) {
      return false;
    }
    this.frames.push(frame);
    this.queuedBytes += sizeBytes;
    this.scheduleFlush();
    return true;
  }

  /** Starts writing to `socket`: what is queued goes out in the next turn. */
  attach(socket: Socket): void {
    this.detach();
    this.socket = socket;
    this.scheduleFlush();
  }

  /** Stops writing (the socket is gone); queued frames wait for the next attach. */
  detach(): void {
    this.socket = null;
    this.drainWaiting = false;
    if (this.flushImmediate !== null) clearImmediate(this.flushImmediate);
    this.flushImmediate = null;
  }

  clear(): void {
    this.frames = [];
    this.queuedBytes = 0;
  }

  /** Writes what is queued now instead of at the end of this turn (when a write is due: a socket, no drain awaited). */
  flushNow(): void {
    if (this.flushImmediate === null) return;
    clearImmediate(this.flushImmediate);
    this.flushImmediate = null;
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.socket === null || this.flushImmediate !== null || this.drainWaiting || this.frames.length === 0) return;
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = null;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (socket === null || this.frames.length === 0) return;
    if (socket.writableNeedDrain) {
      this.drainWaiting = true;
      socket.once('drain', () => {
        if (this.socket !== socket) return;
        this.drainWaiting = false;
        this.scheduleFlush();
      });
      return;
    }
    const batch = this.frames;
    const batchBytes = this.queuedBytes;
    this.frames = [];
    this.queuedBytes = 0;
    socket.cork();
    for (const [header, payload] of batch) {
      socket.write(header);
      socket.write(payload);
    }
    socket.uncork();
    this.onWritten(batch.length, batchBytes);
  }
}
