/**
 * Concurrent clients of a sharded cluster, as 6.824's ShardKV concurrent
 * tests run them: each loops over random appends, puts and gets on its own
 * key until told to stop, records every operation with its simulated call
 * and return times for the linearizability checker, and checks on the way
 * that its own appends come back in order, each once (an append applied
 * twice across a bucket move, or lost in one, shows here first).
 */
import type { ShardedKvClient } from '../../src/client/sharded-client.js';
import { utf8Text } from '../../src/kv/commands.js';
import type { SeededRandom } from '../../src/sim/random.js';
import type { KvOperation } from './linearizability.js';
import type { ShardWorld } from './shard-world.js';

/** Share of operations that are puts (the rest: appends and gets, half each); a put resets the key. */
const PUT_SHARE = 0.1;
/** Client indexes of a workload start here, so that they never share an id with the test's own clients. */
const WORKLOAD_CLIENT_BASE = 100;

export class ShardWorkload {
  readonly history: KvOperation[] = [];
  private readonly clients: ShardedKvClient[] = [];
  /** What each client appended to its own key, in order, since the key was last put. */
  private readonly appended: string[][] = [];
  private readonly loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly world: ShardWorld,
    private readonly random: SeededRandom,
    clients: number,
  ) {
    for (let index = 0; index < clients; index++) {
      this.clients.push(world.client(WORKLOAD_CLIENT_BASE + index));
      this.appended.push([]);
    }
  }

  get operations(): number {
    return this.history.length;
  }

  /** Starts every client's loop; they run while simulated time runs. */
  start(): void {
    this.stopping = false;
    for (let index = 0; index < this.clients.length; index++) this.loops.push(this.loop(index));
  }

  /** Asks the loops to stop and waits (in simulated time) until each has finished its operation in flight. */
  async stop(timeoutMs = 120_000): Promise<void> {
    this.stopping = true;
    await this.world.await(Promise.all(this.loops.splice(0)), timeoutMs);
  }

  /** Reads each client's key through a fresh request and checks that every append it made is there once, in order. */
  async checkAppends(): Promise<void> {
    for (let index = 0; index < this.clients.length; index++) {
      const value = await this.world.await(this.record(index, { kind: 'get', key: keyOf(index) }));
      checkOwnAppends(value, this.appended[index]!, index, this.world.seed);
    }
  }

  close(): void {
    for (const client of this.clients) client.close();
  }

  private async loop(index: number): Promise<void> {
    const key = keyOf(index);
    let sequence = 0;
    while (!this.stopping) {
      const draw = this.random.next();
      if (draw < PUT_SHARE) {
        const value = `p ${index} ${sequence++} y`;
        await this.record(index, { kind: 'put', key, value });
        this.appended[index] = [value];
      } else if (draw < PUT_SHARE + (1 - PUT_SHARE) / 2) {
        const value = `x ${index} ${sequence++} y`;
        await this.record(index, { kind: 'append', key, value });
        this.appended[index]!.push(value);
      } else {
        const value = await this.record(index, { kind: 'get', key });
        checkOwnAppends(value, this.appended[index]!, index, this.world.seed);
      }
    }
  }

  /** Runs one operation through client `index`, and adds it to the history with its times. */
  private async record(index: number, input: KvOperation['input']): Promise<string> {
    const client = this.clients[index]!;
    const callMs = this.world.nowMs;
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
    this.history.push({ clientId: index, input, output, callMs, returnMs: this.world.nowMs });
    return output ?? '';
  }
}

/** Client keys spread over the buckets by their CRC32, like any keys. */
function keyOf(index: number): string {
  return `client-key-${index}`;
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
