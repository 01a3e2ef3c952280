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
  /** The last request queued; the next one waits for it to settle. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly clientId: string) {}

  /** Runs `task` once every request queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Runs a write with the session's next stamp. */
  write<T>(task: (stamp: ClientStamp) => Promise<T>): Promise<T> {
    return this.run(() => {
      this.sequence += 1;
      return task({ clientId: this.clientId, sequence: this.sequence });
    });
  }
}
