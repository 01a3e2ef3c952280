/**
 * What one command does to the state: its reply and the engine writes that
 * carry it out. Pure over a read function and a clock reading, so that it is
 * the same on every replica and testable without an engine. Dedup and
 * bookkeeping are the state machine's job, not this file's.
 *
 * Every conditional or read-modify-write command (set NX/XX, append, incrBy,
 * getDelete, cas) reads and writes here, inside one apply: no other command
 * runs in between, so two clients incrementing one key never lose an update.
 */
import type { KvKeyCommand, KvOk, KvReply, SetCommand } from './commands.js';
import {
  casMismatch,
  commandLimitError,
  failed,
  incrementOverflow,
  notAnInteger,
  VALUE_BYTES_MAX,
  valueTooLarge,
} from './commands.js';
import type { EngineWrite } from './engine.js';
import { int64Bytes, isInt64, parseInt64 } from './integer-value.js';
import { dataKey } from './keyspace.js';
import type { StoredValue } from './stored-value.js';
import { decodeStoredValue, encodeStoredValue, isExpired } from './stored-value.js';

export interface Execution {
  readonly reply: KvReply;
  /** Engine writes, under engine keys; empty when the command changes nothing. */
  readonly writes: readonly EngineWrite[];
}

/** Reads the stored bytes of a user key (stored-value.ts format). */
export type ValueReader = (userKey: Uint8Array) => Uint8Array | null;

/** Before expiry existed commands had no clock; with this reading nothing is expired. */
const NO_CLOCK_MS = 0;

/**
 * `readNowMs` is the serving node's clock, used by a get (a read is answered
 * by one node, now); a write decides expiry by its proposer's stamp instead.
 */
export function executeCommand(command: KvKeyCommand, read: ValueReader, readNowMs: number = NO_CLOCK_MS): Execution {
  const limitError = commandLimitError(command);
  if (limitError !== null) return { reply: failed(limitError), writes: [] };
  // A plain put replaces whatever was there and says nothing of it: no engine read
  // (a synchronous LevelDB get, 6% of a leader's busy time under a put load).
  if (command.type === 'put') {
    const value = encodeStoredValue({ value: command.value, expiresAtMs: null });
    return { reply: { ok: true }, writes: [{ type: 'put', key: dataKey(command.key), value }] };
  }
  // So does a SET that replaces the value whatever it was: no condition, no KEEPTTL, no GET (a SET with EX or PX,
  // as caches write; a SET without options is proposed as a put already). Its reply then leaves out `existed`,
  // which nothing answers for a SET, rather than read the key to fill it in.
  if (command.type === 'set' && isBlindSet(command)) {
    const expiresAtMs = command.expiry.type === 'at' ? command.expiry.expiresAtMs : null;
    const value = encodeStoredValue({ value: command.value, expiresAtMs });
    return { reply: { ok: true, written: true }, writes: [{ type: 'put', key: dataKey(command.key), value }] };
  }
  const nowMs = command.type === 'get' ? readNowMs : (command.nowMs ?? NO_CLOCK_MS);
  const stored = read(command.key);
  const decoded = stored === null ? null : decodeStoredValue(stored);
  const live = decoded === null || isExpired(decoded, nowMs) ? null : decoded;
  const put = (value: StoredValue): EngineWrite => ({
    type: 'put',
    key: dataKey(command.key),
    value: encodeStoredValue(value),
  });
  // An expired value is deleted by whatever write meets it, so it does not linger on disk.
  const remove: EngineWrite[] = stored === null ? [] : [{ type: 'delete', key: dataKey(command.key) }];
  switch (command.type) {
    case 'get': {
      const reply: KvOk = { ok: true, value: live?.value ?? null };
      return { reply: live?.expiresAtMs == null ? reply : { ...reply, expiresAtMs: live.expiresAtMs }, writes: [] };
    }
    case 'append': {
      const current = live?.value ?? new Uint8Array(0);
      const valueBytes = current.byteLength + command.value.byteLength;
      if (valueBytes > VALUE_BYTES_MAX) return { reply: failed(valueTooLarge(valueBytes)), writes: [] };
      const appended = new Uint8Array(valueBytes);
      appended.set(current, 0);
      appended.set(command.value, current.byteLength);
      // Redis APPEND keeps the key's expiry.
      return {
        reply: { ok: true, valueBytes },
        writes: [put({ value: appended, expiresAtMs: live?.expiresAtMs ?? null })],
      };
    }
    case 'delete':
      return { reply: { ok: true, existed: live !== null }, writes: remove };
    case 'getDelete':
      return { reply: { ok: true, value: live?.value ?? null, existed: live !== null }, writes: remove };
    case 'cas': {
      const matches =
        command.expected === null ? live === null : live !== null && bytesEqual(live.value, command.expected);
      if (!matches) return { reply: failed(casMismatch()), writes: [] };
      return { reply: { ok: true }, writes: [put({ value: command.value, expiresAtMs: null })] };
    }
    case 'set':
      return executeSet(command, live, put);
    case 'incrBy': {
      const current = live === null ? 0n : parseInt64(live.value);
      if (current === null) return { reply: failed(notAnInteger()), writes: [] };
      const next = current + command.delta;
      if (!isInt64(next)) return { reply: failed(incrementOverflow()), writes: [] };
      const value = int64Bytes(next);
      // Redis INCR keeps the key's expiry.
      return { reply: { ok: true, value }, writes: [put({ value, expiresAtMs: live?.expiresAtMs ?? null })] };
    }
  }
}

/** A SET whose outcome does not depend on the value it replaces. */
function isBlindSet(command: SetCommand): boolean {
  return command.condition === 'always' && command.expiry.type !== 'keep' && !command.returnPrevious;
}

function executeSet(
  command: SetCommand,
  live: StoredValue | null,
  put: (value: StoredValue) => EngineWrite,
): Execution {
  const existed = live !== null;
  const written = command.condition === 'always' || (command.condition === 'ifAbsent' ? !existed : existed);
  const reply: KvOk = {
    ok: true,
    written,
    existed,
    ...(command.returnPrevious ? { value: live?.value ?? null } : {}),
  };
  if (!written) return { reply, writes: [] };
  let expiresAtMs: number | null;
  switch (command.expiry.type) {
    case 'none':
      expiresAtMs = null;
      break;
    case 'keep':
      expiresAtMs = live?.expiresAtMs ?? null;
      break;
    case 'at':
      expiresAtMs = command.expiry.expiresAtMs;
      break;
  }
  return { reply, writes: [put({ value: command.value, expiresAtMs })] };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
