/**
 * Clients for end-to-end runs against real processes: each loops over
 * appends to its own key and puts and gets on a few shared keys, records
 * every operation with wall-clock call and return times for the
 * linearizability checker, and remembers which appends were acknowledged so
 * that the final read can prove none was lost or applied twice.
 */
import { randomUUID } from 'node:crypto';
import { realClientClock } from '../../../src/client/channel.js';
import { ClientError } from '../../../src/client/errors.js';
import { KvClient } from '../../../src/client/kv-client.js';
import { TcpGroupChannel } from '../../../src/client/tcp-channel.js';
import type { KvOperation } from '../../support/linearizability.js';
import type { ProcessGroup } from './process-group.js';

const SHARED_KEYS = ['shared-a', 'shared-b'];

export interface AppendRecord {
  readonly key: string;
  readonly value: string;
  /** False when the client gave up: the append may or may not have been applied. */
  readonly acknowledged: boolean;
}

/** What the workload needs of a client: KvClient (one group) and ShardedKvClient (a cluster) both are. */
export type WorkloadClient = Pick<KvClient, 'get' | 'put' | 'append'>;

export class E2eWorkload {
  readonly history: KvOperation[] = [];
  readonly appends: AppendRecord[] = [];
  /** Requests that ran out of their deadline (outcome unknown), by kind. */
  readonly gaveUp = { reads: 0, writes: 0 };
  private readonly channels: TcpGroupChannel[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  private readonly startMs = performance.now();

  constructor(
    private readonly group: ProcessGroup,
    private readonly clientCount: number,
    /** Makes the workload's clients; KvClients of `group` when not given (a sharded run passes its own). */
    private readonly makeClient: ((channels: TcpGroupChannel[]) => WorkloadClient) | null = null,
  ) {}

  get operations(): number {
    return this.history.length;
  }

  /** A client with its own connections and client id. */
  newClient(): WorkloadClient {
    return this.makeClient === null ? this.groupClient() : this.makeClient(this.channels);
  }

  /** A KvClient of the group, with its own connections and client id. */
  groupClient(): KvClient {
    const channel = new TcpGroupChannel({ members: this.memberAddresses(), clusterId: this.group.clusterId });
    this.channels.push(channel);
    return new KvClient({
      members: this.group.ids,
      channel,
      clock: realClientClock,
      clientId: `e2e-${randomUUID()}`,
      random: Math.random,
      deadlineMs: 8_000,
      attemptTimeoutMs: 1_000,
    });
  }

  start(): void {
    for (let index = 0; index < this.clientCount; index++) this.loops.push(this.loop(index, this.newClient()));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops.splice(0));
  }

  close(): void {
    for (const channel of this.channels) channel.close();
  }

  /** Reads every key once more through a fresh client, adding the reads to the history; answers key -> value. */
  async finalRead(): Promise<Map<string, string>> {
    const client = this.newClient();
    const values = new Map<string, string>();
    const keys = [...SHARED_KEYS, ...Array.from({ length: this.clientCount }, (_, index) => ownKey(index))];
    for (const key of keys) values.set(key, await this.record(-1, client, { kind: 'get', key }));
    return values;
  }

  private async loop(index: number, client: WorkloadClient): Promise<void> {
    let sequence = 0;
    while (!this.stopping) {
      const draw = Math.random();
      try {
        if (draw < 0.5) {
          const value = `[${index}.${sequence++}]`;
          try {
            await this.record(index, client, { kind: 'append', key: ownKey(index), value });
            this.appends.push({ key: ownKey(index), value, acknowledged: true });
          } catch (error) {
            this.appends.push({ key: ownKey(index), value, acknowledged: false });
            throw error;
          }
        } else if (draw < 0.7) {
          const key = SHARED_KEYS[Math.floor(Math.random() * SHARED_KEYS.length)]!;
          await this.record(index, client, { kind: 'put', key, value: `${index}.${sequence++}` });
        } else {
          const key = draw < 0.85 ? ownKey(index) : SHARED_KEYS[Math.floor(Math.random() * SHARED_KEYS.length)]!;
          await this.record(index, client, { kind: 'get', key });
        }
      } catch (error) {
        if (!(error instanceof ClientError) || error.code !== 'deadlineExceeded') throw error;
      }
    }
  }

  /** Runs one operation and records it; one that gives up is recorded as never returning. */
  private async record(index: number, client: WorkloadClient, input: KvOperation['input']): Promise<string> {
    const callMs = performance.now() - this.startMs;
    try {
      const output = await perform(client, input);
      this.history.push({ clientId: index, input, output, callMs, returnMs: performance.now() - this.startMs });
      return output ?? '';
    } catch (error) {
      if (error instanceof ClientError && error.code === 'deadlineExceeded') {
        if (input.kind === 'get') this.gaveUp.reads += 1;
        else {
          this.gaveUp.writes += 1;
          this.history.push({ clientId: index, input, output: null, callMs, returnMs: Infinity });
        }
      }
      throw error;
    }
  }

  private memberAddresses(): Map<number, { host: string; port: number }> {
    return new Map(this.group.ids.map((id) => [id, { host: '127.0.0.1', port: this.group.member(id).peerPort }]));
  }
}

/** Runs one operation: answers the value a get read ('' for none), or null for a write. */
export async function perform(client: WorkloadClient, input: KvOperation['input']): Promise<string | null> {
  if (input.kind === 'get') {
    const value = await client.get(input.key);
    return value === null ? '' : Buffer.from(value).toString('utf8');
  }
  if (input.kind === 'put') await client.put(input.key, input.value);
  else await client.append(input.key, input.value);
  return null;
}

export function ownKey(index: number): string {
  return `own-${index}`;
}

/**
 * Every acknowledged append is in its key's final value exactly once, and
 * an unacknowledged one at most once; answers the problems found.
 */
export function lostOrDuplicatedAppends(appends: readonly AppendRecord[], finalValues: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const append of appends) {
    const value = finalValues.get(append.key) ?? '';
    const count = value.split(append.value).length - 1;
    if (append.acknowledged && count !== 1)
      problems.push(`acknowledged ${append.value} on ${append.key} found ${count} times`);
    if (!append.acknowledged && count > 1)
      problems.push(`unacknowledged ${append.value} on ${append.key} found ${count} times`);
  }
  return problems;
}
