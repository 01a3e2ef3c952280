/**
 * The window of AppendEntries messages a leader has sent to one follower and
 * not yet heard back about, bounded by count and by bytes. A full window
 * pauses replication to that follower: a slow follower costs a bounded amount
 * of memory and bandwidth, never more.
 */
import type { LogIndex } from './types.js';

interface Flight {
  readonly lastIndex: LogIndex;
  readonly sizeBytes: number;
}

export class Inflights {
  private flights: Flight[] = [];
  private bytesInFlight = 0;

  constructor(
    private readonly messagesMax: number,
    private readonly bytesMax: number,
  ) {}

  isFull(): boolean {
    return this.flights.length >= this.messagesMax || this.bytesInFlight >= this.bytesMax;
  }

  add(lastIndex: LogIndex, sizeBytes: number): void {
    const last = this.flights[this.flights.length - 1];
    if (last !== undefined && lastIndex <= last.lastIndex) {
      throw new Error(`inflights: ${lastIndex} sent after ${last.lastIndex}`);
    }
    this.flights.push({ lastIndex, sizeBytes });
    this.bytesInFlight += sizeBytes;
  }

  /** The follower has everything up to `index`: every message ending there or earlier has landed. */
  freeUpTo(index: LogIndex): void {
    let landed = 0;
    while (landed < this.flights.length && this.flights[landed]!.lastIndex <= index) {
      this.bytesInFlight -= this.flights[landed]!.sizeBytes;
      landed++;
    }
    if (landed > 0) this.flights.splice(0, landed);
  }

  /** Forget the oldest message, so that a heartbeat response can unblock a window lost to drops. */
  freeOldest(): void {
    const oldest = this.flights.shift();
    if (oldest !== undefined) this.bytesInFlight -= oldest.sizeBytes;
  }

  reset(): void {
    this.flights = [];
    this.bytesInFlight = 0;
  }
}
