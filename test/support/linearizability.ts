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
 * The search walks the key's calls and returns in time order, as Lowe's
 * variant of Wing & Gong does: the operations it may linearize next are those
 * called before the first return still waiting, so each step looks at a few
 * candidates instead of every operation, and nothing is kept per pair of
 * operations. A linearized operation's call and return leave the list (and
 * come back when the search backs up), in O(1) each. The set of operations
 * linearized is cached by a 64-bit hash of it (two 32-bit Zobrist sums, from
 * a fixed seed) with the state, not by the set itself: a key with n
 * operations would otherwise cost n bits per cached state, which is what made
 * the first version of this checker quadratic. Two sets that share a hash
 * (odds about steps² / 2^65, so below 10^-6 at this checker's budget) could
 * only make the search skip a branch it has not seen: a false "not
 * linearizable", never a false pass.
 *
 * Operations that never returned (a client gave up, a node crashed) may have
 * taken effect at any point after their call, or not at all: they are given
 * a return time of +infinity, and a pending operation may be left out.
 */

import { SeededRandom } from '../../src/sim/random.js';

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

/** One call or return of an operation, in a doubly linked list in time order. */
interface TimeEvent {
  readonly operation: number;
  readonly isCall: boolean;
  /** For a call: its operation's return. */
  match: TimeEvent | null;
  prev: TimeEvent | null;
  next: TimeEvent | null;
}

/** Seed of the Zobrist values: fixed, so that a history gets the same verdict on every run. */
const ZOBRIST_SEED = 0x5eed_11;

/** Searches one key's history; 'unknown' when the step budget ran out. */
function checkOneKey(operations: readonly KvOperation[]): 'ok' | 'illegal' | 'unknown' {
  let completedLeft = operations.filter((op) => op.returnMs !== Infinity).length;
  if (completedLeft === 0) return 'ok'; // pending operations may simply never have happened
  const head = timeOrderedEvents(operations);
  const random = new SeededRandom(ZOBRIST_SEED);
  const zobrist = operations.map(() => [random.int(2 ** 32), random.int(2 ** 32)] as const);
  // What was explored: by the low hash of the linearized set, the high hash and the state reached.
  const explored = new Map<number, { high: number; state: string }[]>();
  let low = 0;
  let high = 0;
  const flip = (operation: number): void => {
    const [lowBits, highBits] = zobrist[operation]!;
    low = (low ^ lowBits) >>> 0;
    high = (high ^ highBits) >>> 0;
  };
  /** Remembers (the linearized set, `state`); false when it was explored already. */
  const firstVisit = (state: string): boolean => {
    const seen = explored.get(low);
    if (seen === undefined) {
      explored.set(low, [{ high, state }]);
      return true;
    }
    if (seen.some((visit) => visit.high === high && visit.state === state)) return false;
    seen.push({ high, state });
    return true;
  };

  const linearized: { call: TimeEvent; stateBefore: string }[] = [];
  let state = '';
  let steps = 0;
  let event = head.next!;
  for (;;) {
    if (event.isCall) {
      const operation = operations[event.operation]!;
      const next = step(state, operation);
      if (next !== null) {
        flip(event.operation);
        if (firstVisit(next)) {
          if (++steps > STEPS_PER_KEY_MAX) return 'unknown';
          linearized.push({ call: event, stateBefore: state });
          state = next;
          lift(event);
          if (operation.returnMs !== Infinity && --completedLeft === 0) return 'ok';
          event = head.next!;
          continue;
        }
        flip(event.operation);
      }
      event = event.next!;
      continue;
    }
    // A return whose operation is not linearized: nothing after it may go first. Back up one.
    const last = linearized.pop();
    if (last === undefined) return 'illegal';
    unlift(last.call);
    flip(last.call.operation);
    state = last.stateBefore;
    if (operations[last.call.operation]!.returnMs !== Infinity) completedLeft++;
    event = last.call.next!;
  }
}

/**
 * The calls and returns of `operations` in time order, after a head that is
 * not an event. At the same instant calls come first: an operation that
 * returned when another was called is concurrent with it, not before it.
 * Returns of operations that never returned (+infinity) come last.
 */
function timeOrderedEvents(operations: readonly KvOperation[]): TimeEvent {
  const events: { time: number; event: TimeEvent }[] = [];
  operations.forEach((operation, index) => {
    const ret: TimeEvent = { operation: index, isCall: false, match: null, prev: null, next: null };
    const call: TimeEvent = { operation: index, isCall: true, match: ret, prev: null, next: null };
    events.push({ time: operation.callMs, event: call }, { time: operation.returnMs, event: ret });
  });
  events.sort((a, b) => a.time - b.time || Number(b.event.isCall) - Number(a.event.isCall));
  const head: TimeEvent = { operation: -1, isCall: false, match: null, prev: null, next: null };
  let previous = head;
  for (const { event } of events) {
    previous.next = event;
    event.prev = previous;
    previous = event;
  }
  return head;
}

/** Takes a call and its return out of the list; unlift puts them back (last lifted, first back). */
function lift(call: TimeEvent): void {
  unlink(call);
  unlink(call.match!);
}

function unlift(call: TimeEvent): void {
  relink(call.match!);
  relink(call);
}

function unlink(event: TimeEvent): void {
  event.prev!.next = event.next;
  if (event.next !== null) event.next.prev = event.prev;
}

function relink(event: TimeEvent): void {
  event.prev!.next = event;
  if (event.next !== null) event.next.prev = event;
}
