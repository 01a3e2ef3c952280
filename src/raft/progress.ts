/**
 * What a leader knows about one follower's log, and how it replicates to it.
 *
 *  probe      the leader does not know where the logs meet: one message at a
 *             time, walking back on each rejection;
 *  replicate  the logs meet at `match`: stream entries optimistically, up to
 *             the inflight window;
 *  snapshot   the follower needs entries the leader has compacted away: send
 *             the snapshot in chunks, one chunk in flight.
 */
import { Inflights } from './inflights.js';
import type { LogIndex, SnapshotMeta } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match: LogIndex = 0;
  next: LogIndex;
  state: ProgressState = 'probe';
  /** In probe state: a message is out and the leader waits for its answer (or a heartbeat response). */
  probeSent = false;
  /** In snapshot state: the snapshot being sent, the byte offset the follower acknowledged, ticks without news. */
  snapshot: SnapshotMeta | null = null;
  snapshotOffset = 0;
  snapshotIdleTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(next: LogIndex, inflightMessagesMax: number, inflightBytesMax: number) {
    this.next = next;
    this.inflights = new Inflights(inflightMessagesMax, inflightBytesMax);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot' && this.snapshot !== null) {
      this.next = Math.max(this.match + 1, this.snapshot.index + 1);
    } else {
      this.next = this.match + 1;
    }
    this.enter('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.enter('replicate');
  }

  becomeSnapshot(snapshot: SnapshotMeta): void {
    this.enter('snapshot');
    this.snapshot = snapshot;
  }

  /** The follower acknowledged everything up to `index`. Returns whether that is news. */
  acknowledge(index: LogIndex): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.probeSent = false;
    return true;
  }

  /**
   * The follower rejected an append at `rejectedIndex`; `nextGuess` is where
   * the leader thinks the logs may meet. Returns false for a stale rejection
   * (an answer to a message this progress has moved beyond); otherwise the
   * progress is probing from its new guess.
   */
  rejectedAt(rejectedIndex: LogIndex, nextGuess: LogIndex): boolean {
    if (this.state === 'snapshot') return false;
    if (this.state === 'replicate' ? rejectedIndex <= this.match : rejectedIndex !== this.next - 1) return false;
    this.enter('probe');
    this.next = Math.max(Math.min(rejectedIndex, nextGuess), this.match + 1);
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.isFull();
      case 'snapshot':
        return true;
    }
  }

  private enter(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.snapshot = null;
    this.snapshotOffset = 0;
    this.snapshotIdleTicks = 0;
    this.inflights.reset();
  }
}
