/**
 * The leader lease behind lease reads (dissertation §6.4.1). Followers refuse
 * to vote for an election timeout after they last heard from the leader; so
 * while a quorum has confirmed a heartbeat round sent less than an election
 * timeout ago, no other leader can have been elected. Rounds are timed from
 * when they were sent, never from when the answer came, and in ticks of the
 * leader's own clock: the lease assumes the members' clocks run at about the
 * same rate.
 */
import type { NodeId } from './types.js';

export class LeaderLease {
  private round = 0;
  private ticks = 0;
  private readonly roundSentAt = new Map<number, number>();
  private readonly confirmedAt = new Map<NodeId, number>();
  /**
   * Once the leader told a member to campaign (leadership transfer), that member
   * may win at any time, with votes that ignore leases: the lease is void for
   * the rest of the term.
   */
  private revoked = false;

  constructor(private readonly electionTicks: number) {}

  tick(): void {
    this.ticks++;
  }

  /** Starts a heartbeat round; returns its number, to be echoed by the answers. */
  startRound(): number {
    this.round++;
    this.roundSentAt.set(this.round, this.ticks);
    this.roundSentAt.delete(this.round - 4 * this.electionTicks);
    return this.round;
  }

  /** `from` answered heartbeat round `round`. */
  confirm(from: NodeId, round: number): void {
    const sentAt = this.roundSentAt.get(round);
    if (sentAt !== undefined) this.confirmedAt.set(from, Math.max(sentAt, this.confirmedAt.get(from) ?? 0));
  }

  revoke(): void {
    this.revoked = true;
  }

  isValid(self: NodeId, voters: readonly NodeId[], quorum: number): boolean {
    if (this.revoked) return false;
    const horizon = this.ticks - this.electionTicks + 1;
    let fresh = 0;
    for (const voter of voters) {
      if (voter === self || (this.confirmedAt.get(voter) ?? -Infinity) > horizon) fresh++;
    }
    return fresh >= quorum;
  }
}
