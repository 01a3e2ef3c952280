/**
 * The clients of the 6.824 KV-Raft tests: each loops over random appends,
 * puts and gets until told to stop, records every operation with its
 * simulated call and return times for the linearizability checker, and
 * checks on the way that its own appends come back in order, each once.
 */
import { utf8Text } from '../../src/kv/commands.js';
import type { KvClient } from '../../src/client/kv-client.js';
import type { SeededRandom } from '../../src/sim/random.js';
import type { KvOperation } from './linearizability.js';
import type { KvSim } from './kv-sim.js';

export interface WorkloadOptions {
  readonly clients: number;
  /** All clients work on key "0" instead of a key each. */
  readonly oneKey?: boolean;
  /** Share of operations that are puts (the rest: appends and gets, half each); puts reset a key. */
  readonly putShare?: number;
}

export class Workload {
  readonly history: KvOperation[] = [];
  readonly clients: KvClient[] = [];
  /** What each client appended to its own key, in order, since the key was last put. */
  private readonly appended: string[][] = [];
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  private operationCount = 0;

  constructor(
    private readonly sim: KvSim,
    private readonly random: SeededRandom,
    private readonly options: WorkloadOptions,
  ) {
    for (let index = 0; index < options.clients; index++) {
      this.clients.push(sim.client(index));
      this.appended.push([]);
    }
  }

  get operations(): number {
    return this.operationCount;
  }

  /** Starts every client's loop; they run while simulated time runs. */
  start(): void {
    this.stopping = false;
    for (let index = 0; index < this.clients.length; index++) this.loops.push(this.loop(index));
  }

  /** Asks the loops to stop and waits (in simulated time) until each has finished its operation in flight. */
  async stop(timeoutMs = 120_000): Promise<void> {
    this.stopping = true;
    await this.sim.await(Promise.all(this.loops.splice(0)), timeoutMs);
  }

  keyOf(index: number): string {
    return this.options.oneKey === true ? '0' : String(index);
  }

  /** Reads each client's key through a fresh request and checks that every append it made is there once, in order. */
  async checkAppends(): Promise<void> {
    if (this.options.oneKey === true) return;
    for (let index = 0; index < this.clients.length; index++) {
      const value = await this.sim.await(this.record(index, { kind: 'get', key: this.keyOf(index) }));
      checkOwnAppends(value, this.appended[index]!, index, this.sim.seed);
    }
  }

  private async loop(index: number): Promise<void> {
    const key = this.keyOf(index);
    let sequence = 0;
    while (!this.stopping) {
      const draw = this.random.next();
      const putShare = this.options.putShare ?? 0.1;
      if (draw < putShare) {
        const value = `p ${index} ${sequence++} y`;
        await this.record(index, { kind: 'put', key, value });
        this.appended[index] = [value];
      } else if (draw < putShare + (1 - putShare) / 2) {
        const value = `x ${index} ${sequence++} y`;
        await this.record(index, { kind: 'append', key, value });
        this.appended[index]!.push(value);
      } else {
        const value = await this.record(index, { kind: 'get', key });
        if (this.options.oneKey !== true) checkOwnAppends(value, this.appended[index]!, index, this.sim.seed);
      }
    }
  }

  /** Runs one operation through client `index`, and adds it to the history with its times. */
  private async record(index: number, input: KvOperation['input']): Promise<string> {
    const client = this.clients[index]!;
    const callMs = this.sim.nowMs;
    let output: string | null = null;
    switch (input.kind) {
      case 'get': {
        const value = await client.get(input.key);
        output = value === null ? '' : utf8Text(value);
        break;
      }
      case 'put':
        await client.put(input.key, input.value);
        break;
      case 'append':
        await client.append(input.key, input.value);
        break;
    }
    this.operationCount += 1;
    this.history.push({ clientId: index, input, output, callMs, returnMs: this.sim.nowMs });
    return output ?? '';
  }
}

/** The value holds exactly `appends`, in order, and nothing else (a client's own key). */
function checkOwnAppends(value: string, appends: readonly string[], index: number, seed: number): void {
  const expected = appends.join('');
  if (value !== expected) {
    throw new Error(
      `seed ${seed}: client ${index} read ${JSON.stringify(value)} from its own key, ` +
        `but it wrote ${JSON.stringify(expected)} (an append lost, duplicated or reordered)`,
    );
  }
}
