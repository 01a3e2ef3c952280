/**
 * Concurrent clients of a sharded cluster, as 6.824's ShardKV concurrent
 * tests run them: each loops over random appends, puts and gets on its own
 * key until told to stop, records every operation with its simulated call
 * and return times for the linearizability checker, and checks on the way
 * that its own appends come back in order, each once (an append applied
 * twice across a bucket move, or lost in one, shows here first).
 *
 * With `sharedKeys`, the clients instead pick each operation's key among a
 * few keys they all share (6.824's unreliable 2 and 3 as this project asks
 * for them): no client can check a read on its own then, so the checks are
 * the history's linearizability and, at the end, that every key holds each
 * acknowledged append exactly once (checkSharedAppends).
 */
import { ClientError } from '../../src/client/errors.js';
import type { ShardedKvClient } from '../../src/client/sharded-client.js';
import { utf8Text } from '../../src/kv/commands.js';
import type { SeededRandom } from '../../src/sim/random.js';
import type { KvOperation } from './linearizability.js';
import type { ShardWorld } from './shard-world.js';

/** Share of operations that are puts (the rest: appends and gets, half each); a put resets the key. */
const PUT_SHARE = 0.1;
/** Client indexes of a workload start here, so that they never share an id with the test's own clients. */
const WORKLOAD_CLIENT_BASE = 100;

export interface ShardWorkloadOptions {
  /** The clients share this many keys, each operation on a random one of them; absent: one key per client. */
  readonly sharedKeys?: number;
  /** No puts: appends and gets only, so that every acknowledged append must be in its key at the end. */
  readonly appendsOnly?: boolean;
}

/** A write's value on a shared key (x: append, p: put): names its client and sequence number, and parses back out of the key's value. */
const SHARED_TOKEN = /x (\d+) (\d+) y|p (\d+) (\d+) y/gy;

export class ShardWorkload {
  readonly history: KvOperation[] = [];
  private readonly clients: ShardedKvClient[] = [];
  /** What each client appended to its own key, in order, since the key was last put. */
  private readonly appended: string[][] = [];
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  /** Shared keys: every write sent (acknowledged or not), and the acknowledged ones, per key. */
  private readonly sentWrites = new Map<string, Set<string>>();
  private readonly acknowledgedWrites = new Map<string, Set<string>>();
  /** Shared keys: operations a client gave up on (deadline exceeded); they stay in the history as never returned. */
  private givenUp = 0;

  constructor(
    private readonly world: ShardWorld,
    private readonly random: SeededRandom,
    clients: number,
    private readonly options: ShardWorkloadOptions = {},
  ) {
    for (let index = 0; index < clients; index++) {
      this.clients.push(world.client(WORKLOAD_CLIENT_BASE + index));
      this.appended.push([]);
    }
  }

  get operations(): number {
    return this.history.length;
  }

  /** Operations on shared keys whose client gave up on them (recorded as never returning). */
  get abandoned(): number {
    return this.givenUp;
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

  /** The shared keys this workload uses (none when each client has its own). */
  get sharedKeys(): string[] {
    return Array.from({ length: this.options.sharedKeys ?? 0 }, (_, k) => sharedKeyOf(k));
  }

  /**
   * Shared keys, after stop(): reads each key through a fresh request (into
   * the history) and checks that its value is made only of writes that were
   * sent, each at most once and each client's acknowledged ones in the order
   * it sent them (a write its client gave up on may land late, or never), and
   * (appends only) that every acknowledged append is there, exactly once.
   * Returns how many acknowledged appends were found.
   */
  async checkSharedAppends(): Promise<number> {
    let found = 0;
    for (const key of this.sharedKeys) {
      const value = await this.world.await(this.record(0, { kind: 'get', key }));
      const tokens = parseSharedValue(value, key, this.world.seed);
      const sent = this.sentWrites.get(key) ?? new Set<string>();
      const acknowledged = this.acknowledgedWrites.get(key) ?? new Set<string>();
      const seen = new Set<string>();
      const lastSequence = new Map<number, number>();
      for (const token of tokens) {
        const where = `seed ${this.world.seed}: key ${key} holds ${JSON.stringify(token.text)}`;
        if (seen.has(token.text)) throw new Error(`${where} twice: ${JSON.stringify(value)}`);
        seen.add(token.text);
        if (!sent.has(token.text)) throw new Error(`${where}, which no client sent there`);
        if (!acknowledged.has(token.text)) continue;
        if ((lastSequence.get(token.client) ?? -1) >= token.sequence) {
          throw new Error(`${where} out of its client's order: ${JSON.stringify(value)}`);
        }
        lastSequence.set(token.client, token.sequence);
        if (token.kind === 'append') found += 1;
      }
      if (this.options.appendsOnly === true) {
        const missing = [...acknowledged].filter((text) => !seen.has(text));
        if (missing.length > 0) {
          throw new Error(
            `seed ${this.world.seed}: key ${key} lost acknowledged appends ${JSON.stringify(missing)}: ${JSON.stringify(value)}`,
          );
        }
      }
    }
    return found;
  }

  close(): void {
    for (const client of this.clients) client.close();
  }

  private async loop(index: number): Promise<void> {
    if (this.options.sharedKeys !== undefined) return this.sharedLoop(index, this.options.sharedKeys);
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

  /** A client of shared keys: random operations on random keys, checked only afterwards. */
  private async sharedLoop(index: number, keys: number): Promise<void> {
    let sequence = 0;
    const putShare = this.options.appendsOnly === true ? 0 : PUT_SHARE;
    while (!this.stopping) {
      const key = sharedKeyOf(this.random.int(keys));
      const draw = this.random.next();
      if (draw < putShare + (1 - putShare) / 2) {
        const value = draw < putShare ? `p ${index} ${sequence++} y` : `x ${index} ${sequence++} y`;
        setOf(this.sentWrites, key).add(value);
        const input: KvOperation['input'] =
          draw < putShare ? { kind: 'put', key, value } : { kind: 'append', key, value };
        if (await this.recordOrGiveUp(index, input)) setOf(this.acknowledgedWrites, key).add(value);
      } else {
        await this.recordOrGiveUp(index, { kind: 'get', key });
      }
    }
  }

  /**
   * As record(), but a client that gives up (its deadline passed on a lossy
   * network) moves on, as 6.824's would not need to: the operation goes into
   * the history as never returned, which the checker lets take effect at any
   * time after its call, or never. False when given up.
   */
  private async recordOrGiveUp(index: number, input: KvOperation['input']): Promise<boolean> {
    const callMs = this.world.nowMs;
    try {
      await this.record(index, input);
      return true;
    } catch (error) {
      if (!(error instanceof ClientError) || error.code !== 'deadlineExceeded') throw error;
      this.givenUp += 1;
      this.history.push({ clientId: index, input, output: null, callMs, returnMs: Infinity });
      return false;
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

function sharedKeyOf(k: number): string {
  return `shared-key-${k}`;
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

interface SharedToken {
  readonly text: string;
  readonly kind: 'append' | 'put';
  readonly client: number;
  readonly sequence: number;
}

/** Splits a shared key's value into the writes it is made of; anything else in it is an error. */
function parseSharedValue(value: string, key: string, seed: number): SharedToken[] {
  const tokens: SharedToken[] = [];
  SHARED_TOKEN.lastIndex = 0;
  while (SHARED_TOKEN.lastIndex < value.length) {
    const at = SHARED_TOKEN.lastIndex;
    const match = SHARED_TOKEN.exec(value);
    if (match === null) {
      throw new Error(`seed ${seed}: key ${key} holds something no client wrote at ${at}: ${JSON.stringify(value)}`);
    }
    const isAppend = match[1] !== undefined;
    // A put resets the key: only what was written since the last one is there.
    if (!isAppend && tokens.length > 0) {
      throw new Error(`seed ${seed}: key ${key} holds a put after other writes: ${JSON.stringify(value)}`);
    }
    tokens.push({
      text: match[0],
      kind: isAppend ? 'append' : 'put',
      client: Number(isAppend ? match[1] : match[3]),
      sequence: Number(isAppend ? match[2] : match[4]),
    });
  }
  return tokens;
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
