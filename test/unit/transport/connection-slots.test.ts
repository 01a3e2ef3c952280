import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionSlots } from '../../../src/transport/connection-slots.js';

describe('connection slots', () => {
  it('clients past their limit are refused while peers still get theirs', () => {
    const slots = new ConnectionSlots<string>({ clientsMax: 2, peersMax: 1, pendingMax: 10 });
    for (const name of ['c1', 'c2', 'c3', 'p1']) assert.equal(slots.arrive(name), null);
    assert.equal(slots.admit('c1', 'client'), null);
    assert.equal(slots.admit('c2', 'client'), null);
    assert.match(slots.admit('c3', 'client') ?? '', /2 client connections, its limit/);
    assert.equal(slots.admit('p1', 'peer'), null);
    assert.deepEqual(slots.counts, { pending: 0, peers: 1, clients: 2 });
    slots.leave('c1');
    slots.arrive('c4');
    assert.equal(slots.admit('c4', 'client'), null, 'a slot freed by a client that left is taken again');
  });

  it('when the pending slots are full, the oldest stranger makes room for the newest', () => {
    const slots = new ConnectionSlots<string>({ clientsMax: 1, peersMax: 1, pendingMax: 2 });
    assert.equal(slots.arrive('s1'), null);
    assert.equal(slots.arrive('s2'), null);
    assert.equal(slots.arrive('s3'), 's1');
    assert.equal(slots.arrive('p1'), 's2');
    assert.equal(slots.admit('p1', 'peer'), null);
    assert.deepEqual(slots.counts, { pending: 1, peers: 1, clients: 0 });
  });

  it('refuses limits that are not positive integers', () => {
    assert.throws(() => new ConnectionSlots({ clientsMax: 0, peersMax: 1, pendingMax: 1 }), /clientsMax must be/);
  });
});
