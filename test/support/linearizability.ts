/**
 * A linearizability checker for key-value histories, in the manner of
 * Wing & Gong and Porcupine: the history is split per key (operations on
 * different keys commute in a KV model), and for each key a depth-first
 * search looks for an order of the operations that respects real time
 * (an operation that returned before another was called comes first) and
 * the model (every get returns what the puts and appends before it left).
 * States already explored with the same set of operations linearized are
 * cached, which keeps the search fast on real histories.
 *
 * Operations that never returned (a client gave up, a node crashed) may have
 * taken effect at any point after their call, or not at all: they are given
 * a return time of +infinity, and a pending operation may be left out.
 */

export type KvInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'append'; readonly key: string; readonly value: string };

export interface KvOperation {
  readonly clientId: number;
  readonly input: KvInput;
  /** For a get: the value read ('' for a missing key). Ignored for writes. */
  readonly output: string | null;
  readonly callMs: number;
  /** Infinity when the operation never returned. */
  readonly returnMs: number;
}

export interface CheckResult {
  readonly ok: boolean;
  /** For a failure: the key whose history cannot be linearized. */
  readonly key?: string;
  /** True when the search gave up on its budget without an answer. */
  readonly timedOut?: boolean;
}

/** Upper bound on search steps per key before the check reports "unknown" rather than hang. */
const STEPS_PER_KEY_MAX = 5_000_000;

export function checkKvHistory(history: readonly KvOperation[]): CheckResult {
  const byKey = new Map<string, KvOperation[]>();
  for (const operation of history) {
    const list = byKey.get(operation.input.key) ?? [];
    list.push(operation);
    byKey.set(operation.input.key, list);
  }
  let timedOut = false;
  for (const [key, operations] of byKey) {
    const verdict = checkOneKey(operations);
    if (verdict === 'illegal') return { ok: false, key };
    if (verdict === 'unknown') timedOut = true;
  }
  return timedOut ? { ok: true, timedOut: true } : { ok: true };
}

function step(state: string, operation: KvOperation): string | null {
  switch (operation.input.kind) {
    case 'get':
      return operation.output === state ? state : null;
    case 'put':
      return operation.input.value;
    case 'append':
      return state + operation.input.value;
  }
}

/** Searches one key's history; 'unknown' when the step budget ran out. */
function checkOneKey(operations: readonly KvOperation[]): 'ok' | 'illegal' | 'unknown' {
  const count = operations.length;
  // An operation may be linearized once every operation that returned before its call is.
  const mustPrecede: number[][] = operations.map((op) =>
    operations.flatMap((other, j) => (other.returnMs < op.callMs ? [j] : [])),
  );
  const pendingIndexes = operations.flatMap((op, j) => (op.returnMs === Infinity ? [j] : []));
  const done = new Uint8Array(count);
  const cache = new Set<string>();
  let steps = 0;
  let completedLeft = count - pendingIndexes.length;

  const take = (j: number): void => {
    done[j] = 1;
    if (operations[j]!.returnMs !== Infinity) completedLeft--;
  };
  const undo = (j: number): void => {
    done[j] = 0;
    if (operations[j]!.returnMs !== Infinity) completedLeft++;
  };
  /** What a state reached with the operations in `done` linearized holds before any operation is tried from it. */
  const enter = (state: string): 'found' | 'seen' | 'unknown' | 'open' => {
    if (completedLeft === 0) return 'found'; // pending operations may simply never have happened
    const memo = `${state}\u0000${done.join('')}`;
    if (cache.has(memo)) return 'seen';
    cache.add(memo);
    return ++steps > STEPS_PER_KEY_MAX ? 'unknown' : 'open';
  };

  // A depth-first search on a stack of its own, not by recursion: one level per operation
  // linearized, and a key's history can hold more operations than the call stack has frames.
  const root = enter('');
  if (root !== 'open') return root === 'found' ? 'ok' : 'unknown';
  const path: { state: string; nextCandidate: number; taken: number | null }[] = [
    { state: '', nextCandidate: 0, taken: null },
  ];
  while (path.length > 0) {
    const frame = path.at(-1)!;
    let deeper: { state: string; taken: number } | null = null;
    for (; frame.nextCandidate < count && deeper === null; frame.nextCandidate++) {
      const j = frame.nextCandidate;
      if (done[j] === 1 || !mustPrecede[j]!.every((k) => done[k] === 1)) continue;
      const next = step(frame.state, operations[j]!);
      if (next === null) continue;
      take(j);
      const entered = enter(next);
      if (entered === 'found') return 'ok';
      if (entered === 'unknown') return 'unknown';
      if (entered === 'seen') undo(j);
      else deeper = { state: next, taken: j };
    }
    if (deeper !== null) {
      path.push({ state: deeper.state, nextCandidate: 0, taken: deeper.taken });
      continue;
    }
    // No operation leads on from this state: go back one, trying the next candidate there.
    const exhausted = path.pop()!;
    if (exhausted.taken !== null) undo(exhausted.taken);
  }
  return 'illegal';
}
