/**
 * The chaos suite's fault proxy on loopback: a link forwards bytes both ways
 * until it is cut; a cut drops its open connections and refuses new ones
 * until the links are healed; a partition cuts exactly the links between its
 * two sides.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import type { LinkEnds } from '../../e2e/chaos/fault-proxy.js';
import { FaultProxy } from '../../e2e/chaos/fault-proxy.js';

const HOST = '127.0.0.1';

/** An echo server: what a connection sends comes back. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects, sends `text`, and answers what came back before the connection closed or `text` was echoed. */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: HOST, port });
    let received = '';
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (received === text) socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
  });
}

describe('FaultProxy', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('forwards a link until it is cut, drops its open connections, refuses new ones, and forwards again once healed', async () => {
    const echo = await echoServer();
    const proxy = new FaultProxy(HOST);
    cleanups.push(() => proxy.close(), echo.close);
    const port = await proxy.addLink(1, 2, 0, echo.port);
    assert.equal(await roundTrip(port, 'before'), 'before');

    const open = net.createConnection({ host: HOST, port });
    open.on('error', () => undefined);
    await new Promise((resolve) => open.once('connect', resolve));
    open.write('held');
    await new Promise((resolve) => open.once('data', resolve));
    const closed = new Promise((resolve) => open.once('close', resolve));
    proxy.cutBetween([1], [2]);
    await closed;
    assert.equal(await roundTrip(port, 'during'), '', 'a cut link forwards nothing');

    proxy.healAll();
    assert.equal(await roundTrip(port, 'after'), 'after');
  });

  it('cuts both directions between the two sides of a partition and no other link', async () => {
    const proxy = new FaultProxy(HOST);
    cleanups.push(() => proxy.close());
    for (const from of [1, 2, 3]) {
      for (const to of [1, 2, 3]) if (from !== to) await proxy.addLink(from, to, 0, 1);
    }
    // A bridge: 1 and 3 cannot talk; 2 talks to both.
    proxy.cutBetween([1], [3]);
    assert.deepEqual(proxy.cutLinks, [
      { from: 1, to: 3 },
      { from: 3, to: 1 },
    ]);
    proxy.healAll();
    assert.deepEqual(proxy.cutLinks, []);
    // An isolated node: every link to and from it.
    proxy.cutBetween([2], [1, 3]);
    // Read through a function: the assertion above narrowed proxy.cutLinks itself to an empty list's type.
    const cutNow = (): LinkEnds[] => proxy.cutLinks;
    const isolated = cutNow();
    assert.equal(isolated.length, 4);
    assert.ok(isolated.every((link) => link.from === 2 || link.to === 2));
  });
});
