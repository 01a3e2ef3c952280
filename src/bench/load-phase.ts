/**
 * The load phase: every key 0..keyCount-1 is put once, by all clients
 * sharing one counter, before a workload reads them. A put that fails is
 * tried again a few times (a leader change is normal); one that keeps
 * failing ends the benchmark, since reads of a half-loaded key space would
 * count misses as errors.
 */
import { randomBytes } from 'node:crypto';
import { ClientError } from '../client/errors.js';
import type { BenchClient, BenchTarget } from './bench-target.js';
import type { StopSignal } from './closed-loop.js';
import { benchKey } from './operation-stream.js';

const PUT_ATTEMPTS_MAX = 3;

export class LoadFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadFailedError';
  }
}

export interface LoadOptions {
  readonly target: BenchTarget;
  readonly keyCount: number;
  readonly clientCount: number;
  readonly valueBytes: number;
  readonly callDeadlineMs: number;
  readonly stop: StopSignal;
}

export class LoadPhase {
  /** Keys put so far, for the progress bar. */
  loaded = 0;
  private nextKeyIndex = 0;

  constructor(private readonly options: LoadOptions) {}

  /** Resolves with the seconds it took; rejects with LoadFailedError if a key could not be put. */
  async run(): Promise<number> {
    const { target, clientCount, keyCount } = this.options;
    const clients = Array.from({ length: Math.min(clientCount, keyCount) }, () =>
      target.newClient(this.options.callDeadlineMs),
    );
    const startedMs = performance.now();
    try {
      await Promise.all(clients.map((client) => this.loadWith(client)));
    } finally {
      for (const client of clients) client.close();
    }
    return (performance.now() - startedMs) / 1000;
  }

  private async loadWith(client: BenchClient): Promise<void> {
    const value = randomBytes(this.options.valueBytes);
    while (this.nextKeyIndex < this.options.keyCount && !this.options.stop.stopped) {
      const keyIndex = this.nextKeyIndex++;
      if (await this.putWithRetries(client, keyIndex, value)) this.loaded += 1;
    }
  }

  /** Whether the key was put; false only when the run was stopped meanwhile. */
  private async putWithRetries(client: BenchClient, keyIndex: number, value: Uint8Array): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.put(benchKey(keyIndex), value);
        return true;
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        if (this.options.stop.stopped) return false;
        if (attempt >= PUT_ATTEMPTS_MAX) {
          throw new LoadFailedError(
            `loading key ${keyIndex} of ${this.options.keyCount} failed ${attempt} times (last: ${error.message}); ` +
              'is the cluster healthy?',
          );
        }
      }
    }
  }
}
