import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PeerAddressBook } from '../../../src/api/peer-address-book.js';
import type { PeerRoutes } from '../../../src/api/peer-address-book.js';
import { silentLogger } from '../../../src/log/logger.js';

/** The transport as the book drives it: the last address given to each peer. */
function recordingRoutes(): PeerRoutes & { readonly routes: Map<number, string> } {
  const routes = new Map<number, string>();
  return {
    routes,
    setPeer: (id, address) => routes.set(id, `${address.host}:${address.port}`),
    removePeer: (id) => routes.delete(id),
  };
}

const FLAG = new Map([
  [1, { host: '127.0.0.1', port: 7001 }],
  [2, { host: '127.0.0.1', port: 7002 }],
]);

describe('PeerAddressBook', () => {
  const directories: string[] = [];
  after(() => Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true }))));
  const directory = async (): Promise<string> => {
    const made = await mkdtemp(path.join(os.tmpdir(), 'raftkv-peers-'));
    directories.push(made);
    return made;
  };

  it("learns a new member's address from its addLearner entry and still knows it after a restart", async () => {
    const dir = await directory();
    const first = recordingRoutes();
    const book = await PeerAddressBook.open(dir, 1, FLAG, first, silentLogger);
    book.appended({ type: 'addLearner', node: 4, address: '127.0.0.1:7004' }, 10);
    book.appended({ type: 'addLearner', node: 1, address: '127.0.0.1:9999' }, 11); // itself: nothing to route
    assert.equal(first.routes.get(4), '127.0.0.1:7004');
    assert.equal(first.routes.has(1), false);
    await book.flushed();

    const restarted = recordingRoutes();
    const again = await PeerAddressBook.open(dir, 1, FLAG, restarted, silentLogger);
    assert.equal(restarted.routes.get(4), '127.0.0.1:7004', 'a restart with the old --members forgot member 4');
    assert.equal(again.addresses.get(2), '127.0.0.1:7002');

    // Removal counts once applied: the peer is dropped and forgotten on disk.
    again.applied({ type: 'removeNode', node: 4 }, 20);
    assert.equal(restarted.routes.has(4), false);
    await again.flushed();
    const saved = JSON.parse(await readFile(path.join(dir, 'peers.json'), 'utf8')) as { peers: object };
    assert.deepEqual(saved.peers, {});
  });

  it('a removal applied after the member was added again does not forget it; a config fills in unknown members only', async () => {
    const routes = recordingRoutes();
    const book = await PeerAddressBook.open(await directory(), 1, FLAG, routes, silentLogger);
    book.appended({ type: 'addLearner', node: 5, address: '127.0.0.1:7005' }, 30);
    book.applied({ type: 'removeNode', node: 5 }, 25); // applied late, by a follower whose applies lag its log
    assert.equal(routes.routes.get(5), '127.0.0.1:7005');
    book.learn(5, '127.0.0.1:9005'); // an older config does not move a member the log placed
    book.learn(6, '127.0.0.1:7006'); // a voter this member never saw added (it came in a snapshot)
    assert.equal(routes.routes.get(5), '127.0.0.1:7005');
    assert.equal(routes.routes.get(6), '127.0.0.1:7006');
    book.applied({ type: 'removeNode', node: 5 }, 31);
    assert.equal(routes.routes.has(5), false);
    await book.flushed();
  });

  it('the --members flag wins over a learnt address, and a damaged file is ignored', async () => {
    const dir = await directory();
    const saved =
      '{"version":1,"peers":{"2":{"address":"127.0.0.1:8002","index":3},"5":{"address":"127.0.0.1:7005","index":4}}}';
    await writeFile(path.join(dir, 'peers.json'), saved);
    const routes = recordingRoutes();
    const book = await PeerAddressBook.open(dir, 1, FLAG, routes, silentLogger);
    assert.equal(book.addresses.get(2), '127.0.0.1:7002');
    assert.equal(routes.routes.get(5), '127.0.0.1:7005');

    await writeFile(path.join(dir, 'peers.json'), '{"version":1,"peers":');
    const fresh = recordingRoutes();
    const damaged = await PeerAddressBook.open(dir, 1, FLAG, fresh, silentLogger);
    assert.deepEqual([...damaged.addresses.keys()].sort(), [1, 2]);
    assert.equal(fresh.routes.size, 0);
  });
});
