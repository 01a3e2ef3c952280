import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvOperation } from '../../support/linearizability.js';
import { checkKvHistory } from '../../support/linearizability.js';

let nextClient = 0;
const put = (key: string, value: string, callMs: number, returnMs: number): KvOperation => ({
  clientId: nextClient++,
  input: { kind: 'put', key, value },
  output: null,
  callMs,
  returnMs,
});
const append = (key: string, value: string, callMs: number, returnMs: number): KvOperation => ({
  clientId: nextClient++,
  input: { kind: 'append', key, value },
  output: null,
  callMs,
  returnMs,
});
const get = (key: string, output: string, callMs: number, returnMs: number): KvOperation => ({
  clientId: nextClient++,
  input: { kind: 'get', key },
  output,
  callMs,
  returnMs,
});

describe('linearizability checker', () => {
  it('accepts a sequential history that follows the model', () => {
    assert.deepEqual(
      checkKvHistory([put('x', '1', 0, 1), get('x', '1', 2, 3), append('x', '2', 4, 5), get('x', '12', 6, 7)]),
      {
        ok: true,
      },
    );
  });

  it('rejects a read of an old value after a write returned', () => {
    assert.equal(checkKvHistory([put('x', '1', 0, 1), get('x', '', 2, 3)]).ok, false);
  });

  it('accepts either value for a read concurrent with a write', () => {
    assert.ok(checkKvHistory([put('x', '1', 0, 10), get('x', '', 2, 3)]).ok);
    assert.ok(checkKvHistory([put('x', '1', 0, 10), get('x', '1', 2, 3)]).ok);
  });

  it('rejects a value that goes back in time across two reads', () => {
    const history = [put('x', '1', 0, 10), get('x', '1', 1, 2), get('x', '', 3, 4)];
    assert.equal(checkKvHistory(history).ok, false);
  });

  it('orders concurrent appends either way, but loses none', () => {
    const appends = [append('k', 'a', 0, 10), append('k', 'b', 0, 10)];
    assert.ok(checkKvHistory([...appends, get('k', 'ab', 11, 12)]).ok);
    assert.ok(checkKvHistory([...appends, get('k', 'ba', 11, 12)]).ok);
    assert.equal(checkKvHistory([...appends, get('k', 'a', 11, 12)]).ok, false);
    assert.equal(checkKvHistory([...appends, get('k', 'aab', 11, 12)]).ok, false);
  });

  it('lets an operation that never returned take effect or not', () => {
    assert.ok(checkKvHistory([put('x', '1', 0, Infinity), get('x', '1', 5, 6)]).ok);
    assert.ok(checkKvHistory([put('x', '1', 0, Infinity), get('x', '', 5, 6)]).ok);
    // But not take effect, then be undone.
    assert.equal(checkKvHistory([put('x', '1', 0, Infinity), get('x', '1', 5, 6), get('x', '', 7, 8)]).ok, false);
  });

  it('checks keys independently and names the key that fails', () => {
    const result = checkKvHistory([put('a', '1', 0, 1), get('a', '1', 2, 3), put('b', '1', 0, 1), get('b', '2', 2, 3)]);
    assert.deepEqual(result, { ok: false, key: 'b' });
  });

  it('decides a long history of overlapping appends within its step budget', () => {
    const history: KvOperation[] = [];
    let value = '';
    for (let k = 0; k < 300; k++) {
      // Writes overlap their neighbours; reads see the value after every write that returned.
      history.push(append('k', `${k % 10}`, k * 10, k * 10 + 15));
      value += `${k % 10}`;
      if (k % 5 === 4) history.push(get('k', value, k * 10 + 16, k * 10 + 17));
    }
    assert.deepEqual(checkKvHistory(history), { ok: true });
  });
});
