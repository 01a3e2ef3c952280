/**
 * What one command does to the state: its reply and the engine writes that
 * carry it out. Pure over a read function, so that it is the same on every
 * replica and testable without an engine. Dedup and bookkeeping are the
 * state machine's job, not this file's.
 */
import type { KvCommand, KvReply } from './commands.js';
import { casMismatch, commandLimitError, failed, VALUE_BYTES_MAX, valueTooLarge } from './commands.js';
import type { EngineWrite } from './engine.js';
import { dataKey } from './keyspace.js';

export interface Execution {
  readonly reply: KvReply;
  /** Engine writes, under engine keys; empty when the command changes nothing. */
  readonly writes: readonly EngineWrite[];
}

/** Reads the current value of a user key. */
export type ValueReader = (userKey: Uint8Array) => Uint8Array | null;

export function executeCommand(command: KvCommand, read: ValueReader): Execution {
  const limitError = commandLimitError(command);
  if (limitError !== null) return { reply: failed(limitError), writes: [] };
  switch (command.type) {
    case 'get':
      return { reply: { ok: true, value: read(command.key) }, writes: [] };
    case 'put':
      return { reply: { ok: true }, writes: [put(command.key, command.value)] };
    case 'append': {
      const current = read(command.key) ?? new Uint8Array(0);
      const valueBytes = current.byteLength + command.value.byteLength;
      if (valueBytes > VALUE_BYTES_MAX) return { reply: failed(valueTooLarge(valueBytes)), writes: [] };
      const appended = new Uint8Array(valueBytes);
      appended.set(current, 0);
      appended.set(command.value, current.byteLength);
      return { reply: { ok: true, valueBytes }, writes: [put(command.key, appended)] };
    }
    case 'delete': {
      const existed = read(command.key) !== null;
      const writes: EngineWrite[] = existed ? [{ type: 'delete', key: dataKey(command.key) }] : [];
      return { reply: { ok: true, existed }, writes };
    }
    case 'cas': {
      const current = read(command.key);
      const matches =
        command.expected === null ? current === null : current !== null && bytesEqual(current, command.expected);
      if (!matches) return { reply: failed(casMismatch()), writes: [] };
      return { reply: { ok: true }, writes: [put(command.key, command.value)] };
    }
  }
}

function put(userKey: Uint8Array, value: Uint8Array): EngineWrite {
  return { type: 'put', key: dataKey(userKey), value };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
