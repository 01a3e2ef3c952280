/**
 * The membership history carried by the log: every config entry after the
 * latest snapshot, with the membership it produces. A member's membership
 * in force is the one as of its commit index (changes take effect once known
 * committed), and a snapshot needs the membership as of its own index.
 */
import type { RaftLog } from './log.js';
import { applyChange } from './membership.js';
import type { Entry, LogIndex, Membership, Term } from './types.js';

interface ConfigPoint {
  readonly index: LogIndex;
  readonly term: Term;
  readonly membership: Membership;
}

export class ConfigLog {
  private points: ConfigPoint[] = [];

  /** `log` supplies the snapshot's membership, the base every change applies to. */
  constructor(private readonly log: RaftLog) {}

  /** Records a config entry appended at the end of the log (it replaces any point at or after its index). */
  track(entry: Entry): void {
    if (entry.kind !== 'config') return;
    this.points = this.points.filter((point) => point.index < entry.index);
    const before = this.membershipAt(entry.index - 1);
    this.points.push({ index: entry.index, term: entry.term, membership: applyChange(before, entry.change) });
  }

  /** An append from the leader may have cut config entries off the log and brought new ones. */
  syncAfterAppend(entries: readonly Entry[]): void {
    this.points = this.points.filter((point) => this.log.termAt(point.index) === point.term);
    for (const entry of entries) {
      const known = this.points.some((point) => point.index === entry.index);
      if (entry.kind === 'config' && !known && this.log.termAt(entry.index) === entry.term) this.track(entry);
    }
  }

  /** The log now starts at a snapshot ending at `index`: older points live in the snapshot's membership. */
  compactTo(index: LogIndex): void {
    this.points = this.points.filter((point) => point.index > index);
  }

  clear(): void {
    this.points = [];
  }

  lastIndex(): LogIndex {
    return this.points[this.points.length - 1]?.index ?? 0;
  }

  /** The index of the last config entry at or before `index` (0 when the snapshot's membership holds there). */
  lastIndexAtOrBefore(index: LogIndex): LogIndex {
    let found = 0;
    for (const point of this.points) {
      if (point.index > index) break;
      found = point.index;
    }
    return found;
  }

  membershipAt(index: LogIndex): Membership {
    let membership = this.log.snapshot.membership;
    for (const point of this.points) {
      if (point.index > index) break;
      membership = point.membership;
    }
    return membership;
  }
}
