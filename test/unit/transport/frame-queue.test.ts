import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { encodeFrame } from '../../../src/transport/frame.js';
import { FrameQueue } from '../../../src/transport/frame-queue.js';

/** A socket that records what is done to it, and can claim to be full. */
class RecordingSocket extends EventEmitter {
  readonly calls: string[] = [];
  writableNeedDrain = false;
  cork(): void {
    this.calls.push('cork');
  }
  uncork(): void {
    this.calls.push('uncork');
  }
  write(chunk: Buffer): boolean {
    this.calls.push(chunk.toString('latin1'));
    return true;
  }
  asSocket(): Socket {
    return this as unknown as Socket;
  }
}

const frame = (text: string): ReturnType<typeof encodeFrame> => encodeFrame('raftMessage', Buffer.from(text));
const payloadsWritten = (socket: RecordingSocket): string[] =>
  socket.calls.filter((call) => /^[a-z]+$/.test(call) && call !== 'cork' && call !== 'uncork');

describe('frame queue', () => {
  it('frames queued in one turn go out in one corked batch, in order', async () => {
    const socket = new RecordingSocket();
    const written: number[] = [];
    const queue = new FrameQueue({ framesMax: 10, bytesMax: 1000 }, (count) => written.push(count));
    queue.attach(socket.asSocket());
    for (const text of ['a', 'b', 'c']) assert.ok(queue.enqueue(frame(text)));
    assert.deepEqual(socket.calls, [], 'nothing is written before the turn ends');
    await nextTurn();
    assert.equal(socket.calls[0], 'cork');
    assert.equal(socket.calls.at(-1), 'uncork');
    assert.equal(socket.calls.filter((call) => call === 'cork').length, 1);
    assert.deepEqual(payloadsWritten(socket), ['a', 'b', 'c']);
    assert.deepEqual(written, [3]);
    assert.equal(queue.framesQueued, 0);
  });

  it('a full queue refuses frames instead of growing, by count and by bytes', () => {
    const byCount = new FrameQueue({ framesMax: 2, bytesMax: 1000 });
    assert.deepEqual(
      [byCount.enqueue(frame('a')), byCount.enqueue(frame('b')), byCount.enqueue(frame('c'))],
      [true, true, false],
    );
    const byBytes = new FrameQueue({ framesMax: 100, bytesMax: 15 });
    assert.ok(byBytes.enqueue(frame('aaaa')), 'a 10-byte frame fits in 15 bytes');
    assert.ok(!byBytes.enqueue(frame('bbbb')), 'a second one does not');
    assert.equal(byBytes.bytesQueued, 10);
  });

  it('a socket over its high-water mark gets nothing until it drains', async () => {
    const socket = new RecordingSocket();
    socket.writableNeedDrain = true;
    const queue = new FrameQueue({ framesMax: 10, bytesMax: 1000 });
    queue.attach(socket.asSocket());
    queue.enqueue(frame('a'));
    await nextTurn();
    queue.enqueue(frame('b'));
    await nextTurn();
    assert.deepEqual(socket.calls, []);
    socket.writableNeedDrain = false;
    socket.emit('drain');
    await nextTurn();
    assert.deepEqual(payloadsWritten(socket), ['a', 'b']);
  });

  it('frames wait while no socket is attached, and go to the next one', async () => {
    const queue = new FrameQueue({ framesMax: 10, bytesMax: 1000 });
    queue.enqueue(frame('a'));
    const first = new RecordingSocket();
    queue.attach(first.asSocket());
    queue.detach();
    await nextTurn();
    assert.deepEqual(first.calls, []);
    const second = new RecordingSocket();
    queue.attach(second.asSocket());
    await nextTurn();
    assert.deepEqual(payloadsWritten(second), ['a']);
  });
});
