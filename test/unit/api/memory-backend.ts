/**
 * An in-memory RespBackend for tests: the real KV command execution
 * (kv/execute-command.ts) and client operations (client/kv-operations.ts)
 * over a Map, with a settable wall clock, and knobs to make calls slow, hold
 * them, or fail them. It also checks the server's promises to a session:
 * calls never overlap, and close comes once, after the last call.
 */
import { ClientError } from '../../../src/client/errors.js';
import { KvOperations } from '../../../src/client/kv-operations.js';
import type { SetOptions } from '../../../src/client/kv-operations.js';
import type { KvKeyCommand, KvOk } from '../../../src/kv/commands.js';
import { countLive } from '../../../src/kv/count-keys.js';
import { executeCommand } from '../../../src/kv/execute-command.js';
import { userKeyOf } from '../../../src/kv/keyspace.js';
import type {
  BackendErrorCode,
  BackendFailure,
  BackendOutcome,
  RespBackend,
  RespSession,
} from '../../../src/api/resp/resp-backend.js';

export class MemoryBackend implements RespBackend {
  /** Stored values (kv/stored-value.ts format) by key as a latin1 string, so that any bytes map one to one. */
  readonly values = new Map<string, Buffer>();
  /** The next calls fail with these, first one first, instead of being served. */
  readonly failures: BackendFailure[] = [];
  /** Milliseconds each call takes; 0 answers on the next microtask. */
  delayMs: () => number = () => 0;
  /** The wall clock of proposers and readers alike: tests move it to expire keys. */
  nowMs = 1_700_000_000_000;
  sessionsOpened = 0;
  sessionsClosed = 0;
  callsStarted = 0;
  /** Broken promises of the server: overlapping calls, calls after close, double closes. */
  readonly contractViolations: string[] = [];
  private gate: Promise<void> | null = null;

  openSession(): RespSession {
    this.sessionsOpened++;
    return new MemorySession(this, new LocalClient(this, `memory-${this.sessionsOpened}`));
  }

  /** Makes every call wait until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.gate = null;
      release();
    };
  }

  /** Runs one call the way a remote store would: later, possibly failing, never rejecting. */
  async serve<T>(answer: () => Promise<T>): Promise<BackendOutcome<T>> {
    this.callsStarted++;
    const delayMs = this.delayMs();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    else await Promise.resolve();
    while (this.gate !== null) await this.gate;
    const failure = this.failures.shift();
    if (failure !== undefined) return failure;
    try {
      return { ok: true, value: await answer() };
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      return { ok: false, code: error.code as BackendErrorCode, message: error.message };
    }
  }

  /** Applies a command as a state machine would: one command at a time, all its writes at once. */
  execute(command: KvKeyCommand): KvOk {
    const read = (userKey: Uint8Array): Uint8Array | null => this.values.get(keyOf(userKey)) ?? null;
    const { reply, writes } = executeCommand(command, read, this.nowMs);
    for (const write of writes) {
      if (write.type === 'put') this.values.set(keyOf(userKeyOf(write.key)), Buffer.from(write.value));
      else this.values.delete(keyOf(userKeyOf(write.key)));
    }
    if (!reply.ok) throw new ClientError(reply.error.code, reply.error.message);
    return reply;
  }
}

class LocalClient extends KvOperations {
  constructor(
    private readonly backend: MemoryBackend,
    clientId: string,
  ) {
    super(clientId);
    this.wallClockMs = () => backend.nowMs;
  }

  protected send(command: KvKeyCommand): Promise<KvOk> {
    return Promise.resolve(this.backend.execute(command));
  }

  /** What the state machines count: values not expired by now. */
  protected sendCount(): Promise<number> {
    const entries = [...this.backend.values].map(([key, value]) => ({ key: Buffer.from(key, 'latin1'), value }));
    return countLive(entries, this.backend.nowMs);
  }
}

class MemorySession implements RespSession {
  private inFlight = false;
  private closed = false;

  constructor(
    private readonly backend: MemoryBackend,
    private readonly client: LocalClient,
  ) {}

  get(key: Uint8Array): Promise<BackendOutcome<Uint8Array | null>> {
    return this.call(() => this.client.get(key));
  }

  getWithExpiry(key: Uint8Array): ReturnType<RespSession['getWithExpiry']> {
    return this.call(() => this.client.getWithExpiry(key));
  }

  put(key: Uint8Array, value: Uint8Array): Promise<BackendOutcome<void>> {
    return this.call(() => this.client.put(key, value));
  }

  set(key: Uint8Array, value: Uint8Array, options: SetOptions): ReturnType<RespSession['set']> {
    return this.call(() => this.client.set(key, value, options));
  }

  incrBy(key: Uint8Array, delta: bigint): Promise<BackendOutcome<bigint>> {
    return this.call(() => this.client.incrBy(key, delta));
  }

  getDelete(key: Uint8Array): Promise<BackendOutcome<Uint8Array | null>> {
    return this.call(() => this.client.getDelete(key));
  }

  countKeys(): Promise<BackendOutcome<number>> {
    return this.call(() => this.client.countKeys());
  }

  append(key: Uint8Array, value: Uint8Array): Promise<BackendOutcome<number>> {
    return this.call(() => this.client.append(key, value));
  }

  delete(key: Uint8Array): Promise<BackendOutcome<boolean>> {
    return this.call(() => this.client.delete(key));
  }

  close(): void {
    if (this.closed) this.backend.contractViolations.push('session closed twice');
    if (this.inFlight) this.backend.contractViolations.push('session closed with a call in flight');
    this.closed = true;
    this.backend.sessionsClosed++;
  }

  private async call<T>(answer: () => Promise<T>): Promise<BackendOutcome<T>> {
    if (this.inFlight) this.backend.contractViolations.push('overlapping calls on one session');
    if (this.closed) this.backend.contractViolations.push('call on a closed session');
    this.inFlight = true;
    try {
      return await this.backend.serve(answer);
    } finally {
      this.inFlight = false;
    }
  }
}

function keyOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}
