/**
 * One client session of a replica group: its requests run one after another,
 * and each write gets the next sequence number of the session's client id.
 *
 * One at a time because the group remembers only the latest sequence of each
 * client: a second write in flight would make the first one's retry look
 * stale. The sequence is taken when a write's turn comes, not when it is
 * called, so sequences reach the group in order.
 *
 * The turn is a flag and a queue of waiters rather than a chain of promises:
 * a server's session is almost always idle when a request comes, and then
 * taking and giving back the turn allocates nothing (see beginWrite).
 */
import type { ClientStamp } from '../kv/commands.js';

export class ClientSession {
  private sequence = 0;
  /** A request holds the turn: the next one waits in `waiting`. */
  private busy = false;
  /** Requests waiting for the turn, first first; each is called when the turn passes to it. */
  private readonly waiting: (() => void)[] = [];
  /** Gives the turn back when a request run by `run` settles; one function per session, not one per call. */
  private readonly release = (): void => this.endTurn();

  constructor(readonly clientId: string) {}

  /** Runs `task` once every request queued before it has settled; at once when there is none (a server's usual case). */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.busy) return this.whenTurn().then(() => this.started(task));
    this.busy = true;
    return this.started(task);
  }

  /** Runs a write with the session's next stamp. */
  write<T>(task: (stamp: ClientStamp) => Promise<T>): Promise<T> {
    return this.run(() => task(this.nextStamp()));
  }

  /**
   * The next write's stamp, taking the turn, when no request is queued or
   * running; null otherwise (then use `write`). The caller must call
   * `endTurn()` exactly once when that write has settled, however it ends.
   * No promise or closure of its own: the leader-local put path uses it.
   */
  beginWrite(): ClientStamp | null {
    if (this.busy) return null;
    this.busy = true;
    return this.nextStamp();
  }

  /** Gives the turn to the first waiter, or frees it. */
  endTurn(): void {
    const next = this.waiting.shift();
    // Handed over directly, still busy: a request that comes meanwhile queues behind the waiter, not before it.
    if (next === undefined) this.busy = false;
    else next();
  }

  private nextStamp(): ClientStamp {
    this.sequence += 1;
    return { clientId: this.clientId, sequence: this.sequence };
  }

  private whenTurn(): Promise<void> {
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** `task()` with the turn held, given back when it settles; a synchronous throw becomes a rejection. */
  private started<T>(task: () => Promise<T>): Promise<T> {
    let pending: Promise<T>;
    try {
      pending = task();
    } catch (error) {
      pending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Before the caller's own reaction: the turn is free (or passed on) by the time the caller resumes.
    pending.then(this.release, this.release);
    return pending;
  }
}
