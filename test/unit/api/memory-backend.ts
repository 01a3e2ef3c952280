/**
 * An in-memory RespBackend for tests: a Map, the state machine's own size
 * limits and messages, and knobs to make it slow, hold its calls, or fail
 * them. It also checks the server's promises to a session: calls never
 * overlap, and close comes once, after the last call.
 */
import { commandLimitError, valueTooLarge, VALUE_BYTES_MAX } from '../../../src/kv/commands.js';
import type { BackendFailure, BackendOutcome, RespBackend, RespSession } from '../../../src/api/resp/resp-backend.js';

export class MemoryBackend implements RespBackend {
  /** Keys as latin1 strings, so that any bytes map one to one. */
  readonly values = new Map<string, Buffer>();
  /** The next calls fail with these, first one first, instead of being served. */
  readonly failures: BackendFailure[] = [];
  /** Milliseconds each call takes; 0 answers on the next microtask. */
  delayMs: () => number = () => 0;
  sessionsOpened = 0;
  sessionsClosed = 0;
  callsStarted = 0;
  /** Broken promises of the server: overlapping calls, calls after close, double closes. */
  readonly contractViolations: string[] = [];
  private gate: Promise<void> | null = null;

  openSession(): RespSession {
    this.sessionsOpened++;
    return new MemorySession(this);
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
  async serve<T>(answer: () => BackendOutcome<T>): Promise<BackendOutcome<T>> {
    this.callsStarted++;
    const delayMs = this.delayMs();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    else await Promise.resolve();
    while (this.gate !== null) await this.gate;
    return this.failures.shift() ?? answer();
  }
}

class MemorySession implements RespSession {
  private inFlight = false;
  private closed = false;

  constructor(private readonly backend: MemoryBackend) {}

  get(key: Uint8Array): Promise<BackendOutcome<Uint8Array | null>> {
    return this.call(() => {
      const limit = commandLimitError({ type: 'get', key });
      if (limit !== null) return { ok: false, code: limit.code, message: limit.message };
      return { ok: true, value: this.backend.values.get(keyOf(key)) ?? null };
    });
  }

  put(key: Uint8Array, value: Uint8Array): Promise<BackendOutcome<void>> {
    return this.call(() => {
      const limit = commandLimitError({ type: 'put', key, value, clientId: 'c', sequence: 1 });
      if (limit !== null) return { ok: false, code: limit.code, message: limit.message };
      this.backend.values.set(keyOf(key), Buffer.from(value));
      return { ok: true, value: undefined };
    });
  }

  append(key: Uint8Array, value: Uint8Array): Promise<BackendOutcome<number>> {
    return this.call(() => {
      const current = this.backend.values.get(keyOf(key)) ?? Buffer.alloc(0);
      const combinedBytes = current.byteLength + value.byteLength;
      if (combinedBytes > VALUE_BYTES_MAX) {
        const limit = valueTooLarge(combinedBytes);
        return { ok: false, code: limit.code, message: limit.message };
      }
      this.backend.values.set(keyOf(key), Buffer.concat([current, value]));
      return { ok: true, value: combinedBytes };
    });
  }

  delete(key: Uint8Array): Promise<BackendOutcome<boolean>> {
    return this.call(() => ({ ok: true, value: this.backend.values.delete(keyOf(key)) }));
  }

  close(): void {
    if (this.closed) this.backend.contractViolations.push('session closed twice');
    if (this.inFlight) this.backend.contractViolations.push('session closed with a call in flight');
    this.closed = true;
    this.backend.sessionsClosed++;
  }

  private async call<T>(answer: () => BackendOutcome<T>): Promise<BackendOutcome<T>> {
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
