import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KvOperation } from '../../support/linearizability.js';
import { checkKvHistory } from '../../support/linearizability.js';
import { SeededRandom } from '../../../src/sim/random.js';

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
    const { history } = overlappingAppends('k', 300, 5);
    assert.deepEqual(checkKvHistory(history), { ok: true });
  });

  it('decides a key with 20,000 operations, and finds the one stale read in another such key', () => {
    // The first version kept a list of predecessors per operation and a string of n characters per
    // explored state: quadratic in a key's operations, where a SIGKILL run now makes tens of thousands.
    const { history, value } = overlappingAppends('long', 10_000, 1);
    assert.deepEqual(checkKvHistory(history), { ok: true });
    const stale = history.map((op, at) => (at === 15_001 ? { ...op, output: value.slice(0, 7_499) } : op));
    assert.deepEqual(checkKvHistory(stale), { ok: false, key: 'long' });
  });

  it('agrees with a search of every order on 3,000 small random histories', () => {
    const seed = 20261127;
    const random = new SeededRandom(seed);
    const verdicts = { legal: 0, illegal: 0 };
    for (let round = 0; round < 3000; round++) {
      const history = randomHistory(random);
      const expected = linearizableByBruteForce(history);
      const context = `seed ${seed}, round ${round}: ${JSON.stringify(history, (_, v: unknown) => (v === Infinity ? 'Infinity' : v))}`;
      assert.equal(checkKvHistory(history).ok, expected, context);
      verdicts[expected ? 'legal' : 'illegal']++;
    }
    // Both verdicts come up often, so that agreeing is not agreeing on one answer.
    assert.ok(verdicts.legal > 600 && verdicts.illegal > 600, JSON.stringify(verdicts));
  });
});

/**
 * `appends` appends of one digit each, every one overlapping its neighbours,
 * and after every `readEvery`-th a read of the value all the writes that
 * returned left; with that final value.
 */
function overlappingAppends(
  key: string,
  appends: number,
  readEvery: number,
): { history: KvOperation[]; value: string } {
  const history: KvOperation[] = [];
  let value = '';
  for (let k = 0; k < appends; k++) {
    history.push(append(key, `${k % 10}`, k * 10, k * 10 + 15));
    value += `${k % 10}`;
    if (k % readEvery === readEvery - 1) history.push(get(key, value, k * 10 + 16, k * 10 + 17));
  }
  return { history, value };
}

/**
 * Up to 8 operations on one key, overlapping often and sometimes pending. The
 * reads return what a sequential run in a random order allowed by real time
 * left, so that most histories are linearizable.
 */
function randomHistory(random: SeededRandom): KvOperation[] {
  const count = random.intBetween(1, 8);
  const operations: KvOperation[] = [];
  for (let at = 0; at < count; at++) {
    const callMs = random.int(20);
    const returnMs = random.chance(0.15) ? Infinity : callMs + random.int(10);
    const kind = random.pick(['put', 'append', 'get'] as const);
    if (kind === 'put') operations.push(put('k', random.pick(['a', 'b']), callMs, returnMs));
    else if (kind === 'append') operations.push(append('k', random.pick(['x', 'y']), callMs, returnMs));
    else operations.push(get('k', '', callMs, returnMs));
  }
  // Each operation takes effect at a random point between its call and its return (a pending one maybe never).
  const points = operations.map((op) =>
    op.returnMs === Infinity && random.chance(0.5)
      ? Infinity
      : op.callMs + random.next() * ((op.returnMs === Infinity ? 10 : op.returnMs - op.callMs) || 0),
  );
  const order = operations.map((_, at) => at).sort((a, b) => points[a]! - points[b]!);
  const outputs = new Map<number, string>();
  let state = '';
  for (const at of order) {
    if (points[at] === Infinity) break;
    const input = operations[at]!.input;
    if (input.kind === 'put') state = input.value;
    else if (input.kind === 'append') state += input.value;
    else outputs.set(at, state);
  }
  // In half the histories one read, among reads that are right, returns a value that may or may not be possible.
  const reads = operations.flatMap((op, at) => (op.input.kind === 'get' && op.returnMs !== Infinity ? [at] : []));
  const changedRead = reads.length > 0 && random.chance(0.5) ? random.pick(reads) : null;
  return operations.map((op, at) => {
    if (op.input.kind !== 'get') return op;
    // A pending read has no output: the client never saw one.
    if (op.returnMs === Infinity) return { ...op, output: null };
    if (at === changedRead) return { ...op, output: random.pick(['', 'a', 'b', 'ax', 'xy', 'bx', 'y', 'ayx']) };
    return { ...op, output: outputs.get(at) ?? '' };
  });
}

/** Tries every order of every set of operations holding all that returned: the definition, nothing cached. */
function linearizableByBruteForce(history: readonly KvOperation[]): boolean {
  const done = history.map(() => false);
  const search = (state: string): boolean => {
    if (history.every((op, at) => done[at] || op.returnMs === Infinity)) return true;
    return history.some((op, at) => {
      if (done[at] || history.some((other, j) => !done[j] && other.returnMs < op.callMs)) return false;
      let next: string;
      if (op.input.kind === 'put') next = op.input.value;
      else if (op.input.kind === 'append') next = state + op.input.value;
      else if (op.output === state) next = state;
      else return false;
      done[at] = true;
      const found = search(next);
      done[at] = false;
      return found;
    });
  };
  return search('');
}
