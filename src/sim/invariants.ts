/**
 * Raft's safety properties, checked after every step of a simulation:
 *
 *  - election safety: at most one leader per term;
 *  - log matching: two entries with the same index and term hold the same
 *    command and follow entries of the same term; by induction, the logs
 *    agree on everything before them;
 *  - no committed entry is ever lost or changed: once any member commits an
 *    entry at an index, every member's entry at that index is that entry,
 *    and every new leader holds all of them (leader completeness);
 *  - state machine safety: every member applies the same command at an index.
 *
 * A violation throws SafetyViolation, which the tests report with their seed.
 */
import type { Entry, LogIndex, NodeId, RaftCore, Term } from '../raft/index.js';
import { decodeCommand } from './state-machine.js';

export class SafetyViolation extends Error {
  constructor(message: string) {
    super(`safety violation: ${message}`);
    this.name = 'SafetyViolation';
  }
}

interface EntryFingerprint {
  readonly content: string;
  readonly prevTerm: Term | null;
}

export function entryContent(entry: Entry): string {
  switch (entry.kind) {
    case 'command':
      return `cmd:${decodeCommand(entry.data)}`;
    case 'config':
      return `cfg:${JSON.stringify(entry.change)}`;
    case 'noop':
      return 'noop';
  }
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  private readonly fingerprints = new Map<string, EntryFingerprint>();
  private readonly committed = new Map<LogIndex, { term: Term; content: string }>();
  private readonly appliedValues = new Map<LogIndex, string>();
  private readonly checkedEntries = new Map<NodeId, Map<LogIndex, Entry>>();
  private readonly checkedCommit = new Map<NodeId, LogIndex>();
  private readonly wasLeaderInTerm = new Map<NodeId, Term>();
  committedMax: LogIndex = 0;

  /** Checks what changed on `id` since the last call. */
  observe(id: NodeId, core: RaftCore): void {
    this.checkLeader(id, core);
    this.checkLog(id, core);
    this.checkCommitted(id, core);
  }

  /** A member applied `content` at `index`. */
  applied(id: NodeId, index: LogIndex, content: string): void {
    const earlier = this.appliedValues.get(index);
    if (earlier === undefined) this.appliedValues.set(index, content);
    else if (earlier !== content) {
      throw new SafetyViolation(`node ${id} applied "${content}" at ${index}, another node applied "${earlier}"`);
    }
  }

  /** Forget what was checked of a member's log (it restarted from disk). */
  forget(id: NodeId): void {
    this.checkedEntries.delete(id);
    this.checkedCommit.delete(id);
    this.wasLeaderInTerm.delete(id);
  }

  private checkLeader(id: NodeId, core: RaftCore): void {
    if (core.role !== 'leader') return;
    const other = this.leaderOfTerm.get(core.term);
    if (other !== undefined && other !== id) {
      throw new SafetyViolation(`two leaders in term ${core.term}: ${other} and ${id}`);
    }
    this.leaderOfTerm.set(core.term, id);
    if (this.wasLeaderInTerm.get(id) === core.term) return;
    this.wasLeaderInTerm.set(id, core.term);
    // Leader completeness: a new leader holds every committed entry.
    for (const [index, entry] of this.committed) {
      if (index <= core.snapshot.index) continue;
      if (core.termAt(index) !== entry.term) {
        throw new SafetyViolation(`node ${id} became leader of term ${core.term} without committed entry ${index}`);
      }
    }
  }

  private checkLog(id: NodeId, core: RaftCore): void {
    let seen = this.checkedEntries.get(id);
    if (seen === undefined) {
      seen = new Map();
      this.checkedEntries.set(id, seen);
    }
    for (const index of [...seen.keys()]) if (index > core.lastIndex || index < core.firstIndex) seen.delete(index);
    // Logs change only at the end: walk back to the first entry already checked.
    let from = core.lastIndex;
    while (from >= core.firstIndex && seen.get(from) !== core.entryAt(from)) from--;
    for (let index = from + 1; index <= core.lastIndex; index++) {
      const entry = core.entryAt(index)!;
      this.checkEntry(id, entry, core.termAt(index - 1), core.commitIndex);
      seen.set(index, entry);
    }
  }

  private checkEntry(id: NodeId, entry: Entry, prevTerm: Term | null, commitIndex: LogIndex): void {
    const key = `${entry.index}/${entry.term}`;
    const content = entryContent(entry);
    const known = this.fingerprints.get(key);
    if (known === undefined) {
      this.fingerprints.set(key, { content, prevTerm });
    } else {
      if (known.content !== content) {
        throw new SafetyViolation(`node ${id} has "${content}" at ${key}, another node has "${known.content}"`);
      }
      if (known.prevTerm !== null && prevTerm !== null && known.prevTerm !== prevTerm) {
        throw new SafetyViolation(
          `node ${id}: entry ${key} follows term ${prevTerm}, elsewhere term ${known.prevTerm}`,
        );
      }
    }
    // A lagging member may still hold a stale entry where others committed; never below its own commit index.
    const committed = this.committed.get(entry.index);
    if (
      entry.index <= commitIndex &&
      committed !== undefined &&
      (committed.term !== entry.term || committed.content !== content)
    ) {
      throw new SafetyViolation(`node ${id} replaced committed entry ${entry.index} with ${key}`);
    }
  }

  private checkCommitted(id: NodeId, core: RaftCore): void {
    const from = Math.max(this.checkedCommit.get(id) ?? 0, core.snapshot.index);
    for (let index = from + 1; index <= core.commitIndex; index++) {
      const entry = core.entryAt(index);
      if (entry === undefined) throw new SafetyViolation(`node ${id} commits ${index} without holding it`);
      const content = entryContent(entry);
      const earlier = this.committed.get(index);
      if (earlier === undefined) {
        this.committed.set(index, { term: entry.term, content });
      } else if (earlier.term !== entry.term || earlier.content !== content) {
        throw new SafetyViolation(
          `node ${id} committed ${index}/${entry.term} "${content}", already committed "${earlier.content}"`,
        );
      }
    }
    this.checkedCommit.set(id, core.commitIndex);
    this.committedMax = Math.max(this.committedMax, core.commitIndex);
  }
}
