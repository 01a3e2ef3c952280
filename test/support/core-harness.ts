/**
 * Drives RaftCore instances by hand, message by message, for scenarios that
 * must happen in an exact order (the paper's figures), where a randomized
 * simulation would only rarely stumble on them.
 */
import type { Entry, Message, RaftOptions } from '../../src/raft/index.js';
import { RaftCore } from '../../src/raft/index.js';
import { encodeCommand } from '../../src/sim/state-machine.js';

export function command(index: number, term: number, value: string): Entry {
  return { kind: 'command', index, term, data: encodeCommand(value) };
}

export function founding(voters: number[]): Entry {
  return { kind: 'config', index: 1, term: 1, change: { type: 'bootstrap', membership: { voters, learners: [] } } };
}

export function core(
  id: number,
  voters: number[],
  term: number,
  entries: Entry[],
  options: Partial<Omit<RaftOptions, 'id' | 'random'>> = {},
): RaftCore {
  return new RaftCore(
    { id, random: () => 0, ...options },
    {
      hardState: { term, votedFor: null, commit: 0 },
      snapshot: null,
      entries,
      bootstrap: { voters, learners: [] },
    },
  );
}

const readsServed = new WeakMap<RaftCore, string[]>();

/** The read states `member` has handed out so far, as "context@index". */
export function readsOf(member: RaftCore): string[] {
  return readsServed.get(member) ?? [];
}

/** Takes every Ready from `member`, acknowledges it as persisted, and returns its messages. */
export function drain(member: RaftCore): Message[] {
  const out: Message[] = [];
  while (member.hasReady()) {
    const ready = member.ready();
    out.push(...ready.messages);
    if (ready.readStates.length > 0) {
      readsServed.set(member, [...readsOf(member), ...ready.readStates.map((r) => `${r.context}@${r.index}`)]);
    }
    member.advance(ready);
  }
  return out;
}

/** Delivers messages to their recipients among `members`, until no message is left. */
export function deliverAll(
  members: Map<number, RaftCore>,
  first: Message[],
  drop: (m: Message) => boolean = () => false,
): void {
  const queue = [...first];
  while (queue.length > 0) {
    const message = queue.shift()!;
    const target = members.get(message.to);
    if (target === undefined || drop(message)) continue;
    target.step(message);
    queue.push(...drain(target));
  }
}
