/**
 * The clients of a chaos run: each loops over appends to keys of its own,
 * puts on keys every client shares, and gets of both, through the sharded
 * client, so the keys (and the faults' effects) spread over both groups.
 * Every operation is recorded with wall-clock call and return times for the
 * linearizability checker; every append remembers whether it was
 * acknowledged, so that the final read can prove none was lost.
 */
import { ClientError } from '../../../src/client/errors.js';
import type { ShardedKvClient } from '../../../src/client/sharded-client.js';
import type { KvInput, KvOperation } from '../../support/linearizability.js';
import type { AppendRecord } from '../support/e2e-workload.js';
import { perform } from '../support/e2e-workload.js';

/** Keys every client puts and gets: enough that both groups own several. */
const SHARED_KEYS = 12;
/**
 * The workload moves on to fresh keys this often: a key's history stays a
 * few thousand operations and its value a few kilobytes, which keeps the
 * checker's search (per key) quick even for a long run.
 */
const KEY_GENERATION_MS = 30_000;
/** Keys each client appends to (nobody else writes them): each append's fate is then readable. */
const OWN_KEYS_PER_CLIENT = 3;
/** A client gives an operation this long, then counts it as given up (outcome unknown). */
export const OPERATION_DEADLINE_MS = 10_000;
const ATTEMPT_TIMEOUT_MS = 1_000;

export interface WorkloadCounts {
  readonly operations: number;
  readonly acknowledged: number;
  /** Writes whose outcome is unknown (kept in the history as never returning) and reads that gave up. */
  readonly gaveUp: { readonly writes: number; readonly reads: number };
}

export class ChaosWorkload {
  readonly history: KvOperation[] = [];
  readonly appends: AppendRecord[] = [];
  /** Errors that are not a client's "gave up": each one is a bug to report. */
  readonly unexpectedErrors: string[] = [];
  /** Every key an operation was sent to, for the final read. */
  private readonly touchedKeys = new Set<string>();
  private readonly gaveUp = { writes: 0, reads: 0 };
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  private readonly startMs = performance.now();

  constructor(
    private readonly clientCount: number,
    private readonly newClient: (deadlineMs: number, attemptTimeoutMs: number) => ShardedKvClient,
    /** Draws which operation comes next, in [0, 1). */
    private readonly random: () => number,
  ) {}

  get counts(): WorkloadCounts {
    return {
      operations: this.history.length,
      acknowledged: this.history.filter((operation) => operation.returnMs !== Infinity).length,
      gaveUp: { ...this.gaveUp },
    };
  }

  /** Every key the workload touched. */
  get keys(): string[] {
    return [...this.touchedKeys].sort();
  }

  start(): void {
    for (let index = 0; index < this.clientCount; index++) {
      this.loops.push(this.loop(index, this.newClient(OPERATION_DEADLINE_MS, ATTEMPT_TIMEOUT_MS)));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops.splice(0));
  }

  /**
   * Reads every key once more through a fresh client, each until it answers,
   * adding the reads to the history; answers key -> value.
   */
  async finalRead(deadlineMs: number): Promise<Map<string, string>> {
    const client = this.newClient(deadlineMs, ATTEMPT_TIMEOUT_MS);
    const values = new Map<string, string>();
    for (const key of this.keys) {
      const value = await this.run(-1, client, { kind: 'get', key });
      if (value === null) throw new Error(`the final read of ${key} gave up after ${deadlineMs} ms`);
      values.set(key, value);
    }
    return values;
  }

  private async loop(index: number, client: ShardedKvClient): Promise<void> {
    let sequence = 0;
    while (!this.stopping) {
      const draw = this.random();
      const pick = (count: number): number => Math.floor(this.random() * count);
      const generation = Math.floor(this.nowMs() / KEY_GENERATION_MS);
      const ownKey = (): string => `chaos-own-${index}-${generation}-${pick(OWN_KEYS_PER_CLIENT)}`;
      const sharedKey = (): string => `chaos-shared-${generation}-${pick(SHARED_KEYS)}`;
      if (draw < 0.4) {
        const key = ownKey();
        const value = `[${index}.${sequence++}]`;
        const done = await this.run(index, client, { kind: 'append', key, value });
        this.appends.push({ key, value, acknowledged: done !== null });
      } else if (draw < 0.65) {
        await this.run(index, client, {
          kind: 'put',
          key: sharedKey(),
          value: `${index}.${sequence++}`,
        });
      } else {
        const key = draw < 0.8 ? ownKey() : sharedKey();
        await this.run(index, client, { kind: 'get', key });
      }
    }
  }

  /**
   * Runs one operation and records it; answers the value read ('' for a
   * write), or null when the client gave up. A write that gave up stays in
   * the history as never returning: it may or may not have taken effect.
   */
  private async run(index: number, client: ShardedKvClient, input: KvInput): Promise<string | null> {
    this.touchedKeys.add(input.key);
    const callMs = this.nowMs();
    try {
      const output = await perform(client, input);
      this.history.push({ clientId: index, input, output, callMs, returnMs: this.nowMs() });
      return output ?? '';
    } catch (error) {
      if (!(error instanceof ClientError) || error.code !== 'deadlineExceeded') {
        this.unexpectedErrors.push(
          `${input.kind} ${input.key}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (input.kind === 'get') {
        this.gaveUp.reads += 1;
      } else {
        this.gaveUp.writes += 1;
        this.history.push({ clientId: index, input, output: null, callMs, returnMs: Infinity });
      }
      return null;
    }
  }

  private nowMs(): number {
    return performance.now() - this.startMs;
  }
}
