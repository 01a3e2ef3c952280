/**
 * A closed-loop run: every client sends its next operation as soon as its
 * last one answered, until the time is up. Throughput is then what the
 * cluster sustains at that concurrency, and latency is measured per call
 * (no coordinated-omission correction: a closed loop waits with the cluster).
 */
import { randomBytes } from 'node:crypto';
import { ClientError } from '../client/errors.js';
import type { BenchClient, BenchTarget } from './bench-target.js';
import type { LatencyTally } from './latency-tally.js';
import type { OperationStream } from './operation-stream.js';
import { benchKey } from './operation-stream.js';

/** Set by the caller (Ctrl-C) to end a run early; clients finish the call they are in. */
export interface StopSignal {
  readonly stopped: boolean;
}

export interface ClosedLoopOptions {
  readonly target: BenchTarget;
  /** One stream per client: their count is the concurrency. */
  readonly streams: readonly OperationStream[];
  readonly durationMs: number;
  readonly valueBytes: number;
  readonly callDeadlineMs: number;
  readonly stop: StopSignal;
}

/** Runs the loop, recording into `tally`; resolves with the seconds it took. */
export async function runClosedLoop(options: ClosedLoopOptions, tally: LatencyTally): Promise<number> {
  const clients = options.streams.map(() => options.target.newClient(options.callDeadlineMs));
  const startedMs = performance.now();
  const endsAtMs = startedMs + options.durationMs;
  try {
    await Promise.all(
      clients.map(async (client, index) => {
        const stream = options.streams[index]!;
        // Values need not differ between calls: the store neither compresses nor deduplicates them.
        const value = randomBytes(options.valueBytes);
        while (performance.now() < endsAtMs && !options.stop.stopped) {
          await oneCall(client, stream, value, tally);
        }
      }),
    );
  } finally {
    for (const client of clients) client.close();
  }
  // Calls in flight at the end were waited for: the time they took is part of the run.
  return (performance.now() - startedMs) / 1000;
}

async function oneCall(
  client: BenchClient,
  stream: OperationStream,
  value: Uint8Array,
  tally: LatencyTally,
): Promise<void> {
  const operation = stream.next();
  const key = benchKey(operation.keyIndex);
  const startedMs = performance.now();
  try {
    if (operation.kind === 'read') {
      // Every key was loaded before a read workload: an absent one is an error of the store, not a miss.
      if ((await client.get(key)) === null) {
        tally.failed('missingValue');
        return;
      }
    } else {
      await client.put(key, value);
    }
    tally.succeeded(operation.kind, performance.now() - startedMs);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    tally.failed(error.code);
  }
}
