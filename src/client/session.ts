/**
 * One client session of a replica group: its requests run one after another,
 * and each write gets the next sequence number of the session's client id.
 *
 * One at a time because the group remembers only the latest sequence of each
 * client: a second write in flight would make the first one's retry look
 * stale. The sequence is taken when a write's turn comes, not when it is
 * called, so sequences reach the group in order.
 */
import type { ClientStamp } from '../kv/commands.js';

export class ClientSession {
  private sequence = 0;
  /** The last request queued; the next one waits for it to settle. Null while none is queued or running. */
  private queue: Promise<unknown> | null = null;
  /** Requests queued or running: the one that brings it back to 0 clears `queue`. */
  private requestsPending = 0;

  constructor(readonly clientId: string) {}

  /** Runs `task` once every request queued before it has settled; at once when there is none (a server's usual case). */
  run<T>(task: () => Promise<T>): Promise<T> {
    const started = this.queue === null ? startNow(task) : this.queue.then(task, task);
    this.requestsPending += 1;
    const settled = started.then(
      () => this.settle(),
      () => this.settle(),
    );
    this.queue = settled;
    return started;
  }

  /** Runs a write with the session's next stamp. */
  write<T>(task: (stamp: ClientStamp) => Promise<T>): Promise<T> {
    return this.run(() => {
      this.sequence += 1;
      return task({ clientId: this.clientId, sequence: this.sequence });
    });
  }

  private settle(): void {
    this.requestsPending -= 1;
    if (this.requestsPending === 0) this.queue = null;
  }
}

/** `task()`, with a synchronous throw turned into a rejection as `then` would. */
function startNow<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
