/**
 * Drives RaftCore instances by hand, message by message, for scenarios that
 * must happen in an exact order (the paper's figures), where a randomized
 * simulation would only rarely stumble on them.
 */
import type { Entry, HardState, Message, RaftOptions } from '../../src/raft/index.js';
import { RaftCore } from '../../src/raft/index.js';
import { encodeCommand } from '../../src/sim/state-machine.js';

export function command(index: number, term: number, value: string): Entry {
  return { kind: 'command', index, term, data: encodeCommand(value) };
}

export function founding(voters: number[]): Entry {
  return { kind: 'config', index: 1, term: 1, change: { type: 'bootstrap', membership: { voters, learners: [] } } };
}

/** Election timeouts of cores made here: long enough that none campaigns unless a test says so. */
const ELECTION_TICKS = 10;

/**
 * A member restored from (term, entries), already past the first election
 * timeout after its start, during which it would refuse to vote (it honours
 * the lease of a leader it may have heard from just before it went down).
 */
export function core(
  id: number,
  voters: number[],
  term: number,
  entries: Entry[],
  options: Partial<Omit<RaftOptions, 'id' | 'random'>> = {},
): RaftCore {
  const member = new RaftCore(
    { id, random: () => 0.99, electionTicks: ELECTION_TICKS, ...options },
    {
      hardState: { term, votedFor: null, commit: 0 },
      snapshot: null,
      entries,
      bootstrap: { voters, learners: [] },
    },
  );
  for (let tick = 0; tick < (options.electionTicks ?? ELECTION_TICKS); tick++) member.tick();
  drain(member);
  return member;
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

/**
 * A group of cores wired by hand: messages flow at once unless a link is cut
 * or a filter holds them back; members keep a "disk" so they can restart.
 */
export class ManualGroup {
  readonly members = new Map<number, RaftCore>();
  private readonly disks = new Map<number, { hardState: HardState; entries: Entry[] }>();
  private groups: number[][] | null = null;
  /** Messages for which this returns true are set aside in `held` instead of delivered. */
  hold: (m: Message) => boolean = () => false;
  held: Message[] = [];

  constructor(
    readonly voters: number[],
    private readonly options: Partial<Omit<RaftOptions, 'id' | 'random'>> = {},
  ) {
    for (const id of voters) this.start(id);
  }

  member(id: number): RaftCore {
    return this.members.get(id)!;
  }

  /** Starts (or restarts) `id` from its disk, as a process would; its startup lease is not skipped. */
  start(id: number): RaftCore {
    const disk = this.disks.get(id) ?? { hardState: { term: 0, votedFor: null, commit: 0 }, entries: [] };
    this.disks.set(id, disk);
    const member = new RaftCore(
      { id, random: () => 0.99, electionTicks: ELECTION_TICKS, ...this.options },
      {
        hardState: disk.hardState,
        snapshot: null,
        entries: disk.entries,
        bootstrap: { voters: this.voters, learners: [] },
      },
    );
    this.members.set(id, member);
    return member;
  }

  /** Only members in the same group can talk; null heals. */
  partition(groups: number[][] | null): void {
    this.groups = groups;
  }

  /** Handles every Ready of `id` (persisting to its disk) and delivers what it sends. */
  flush(id: number): void {
    this.deliver(this.persistAndCollect(id));
  }

  deliver(messages: Message[]): void {
    const queue = [...messages];
    while (queue.length > 0) {
      const m = queue.shift()!;
      if (this.hold(m)) {
        this.held.push(m);
        continue;
      }
      if (!this.linked(m.from, m.to)) continue;
      const target = this.members.get(m.to);
      if (target === undefined) continue;
      target.step(m);
      queue.push(...this.persistAndCollect(m.to));
    }
  }

  tick(ids: number[] = [...this.members.keys()], times = 1): void {
    for (let t = 0; t < times; t++) {
      for (const id of ids) {
        this.member(id).tick();
        this.flush(id);
      }
    }
  }

  private linked(a: number, b: number): boolean {
    return this.groups === null || this.groups.some((group) => group.includes(a) && group.includes(b));
  }

  private persistAndCollect(id: number): Message[] {
    const member = this.member(id);
    const disk = this.disks.get(id)!;
    const out: Message[] = [];
    while (member.hasReady()) {
      const ready = member.ready();
      const first = ready.entries[0];
      if (first !== undefined) disk.entries = [...disk.entries.filter((e) => e.index < first.index), ...ready.entries];
      if (ready.hardState !== null) disk.hardState = ready.hardState;
      out.push(...ready.messages);
      if (ready.readStates.length > 0) {
        readsServed.set(member, [...readsOf(member), ...ready.readStates.map((r) => `${r.context}@${r.index}`)]);
      }
      member.advance(ready);
    }
    return out;
  }
}
