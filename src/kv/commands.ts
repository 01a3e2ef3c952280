/**
 * What clients ask of the KV state machine, and what it answers.
 *
 * Writes carry the client's id and a sequence number that grows with every
 * new request of that client: a retry reuses both, so the state machine can
 * recognise it and answer with the first reply instead of applying it twice.
 * Reads change nothing, so they carry neither.
 *
 * Replies are plain data, not Error objects: they are stored in the dedup
 * table, encoded into snapshots and sent over the wire, and every replica
 * must produce the same bytes for the same command.
 */

/** Largest key, in bytes: keys are copied into every index level of the engine, so keep them small. */
export const KEY_BYTES_MAX = 4 * 1024;
/** Largest value, in bytes, after an append too: one value must fit in one Raft entry and one reply. */
export const VALUE_BYTES_MAX = 1024 * 1024;
/** Largest client id, in UTF-8 bytes: it is stored once per client in the dedup table. */
export const CLIENT_ID_BYTES_MAX = 128;

/** Who sent a write, and which of their requests it is. */
export interface ClientStamp {
  readonly clientId: string;
  /** Positive, and larger for every new request of the same client; a retry repeats it. */
  readonly sequence: number;
}

/**
 * The proposer's wall clock when it sent a write, in ms since the epoch.
 * Whether a value has expired must be decided the same way on every replica,
 * including one that applies the entry hours later or replays it after a
 * restart, so the state machine never reads a clock of its own: it compares
 * expiry times with this stamp. Absent on commands from before expiry
 * existed; for those nothing counts as expired.
 */
export interface ProposerClock {
  readonly nowMs?: number;
}

export interface GetCommand {
  readonly type: 'get';
  readonly key: Uint8Array;
}

/**
 * How many live keys the group serves (Redis DBSIZE). A read, answered by a
 * replica from its engine, never a log entry; it walks every key, so it costs
 * time in proportion to the data.
 */
export interface CountCommand {
  readonly type: 'count';
}

/** Puts `value` with no expiry, whatever was there. */
export interface PutCommand extends ClientStamp, ProposerClock {
  readonly type: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Adds `value` at the end of the current value (an absent key counts as empty). */
export interface AppendCommand extends ClientStamp, ProposerClock {
  readonly type: 'append';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface DeleteCommand extends ClientStamp, ProposerClock {
  readonly type: 'delete';
  readonly key: Uint8Array;
}

/** Compare-and-set: puts `value` only if the current value equals `expected`; null expects the key absent. */
export interface CasCommand extends ClientStamp, ProposerClock {
  readonly type: 'cas';
  readonly key: Uint8Array;
  readonly expected: Uint8Array | null;
  readonly value: Uint8Array;
}

/** Which values a conditional set replaces: any, only an absent one (Redis NX), only a present one (XX). */
export type SetCondition = 'always' | 'ifAbsent' | 'ifPresent';
export const SET_CONDITIONS: readonly SetCondition[] = ['always', 'ifAbsent', 'ifPresent'];

/** The expiry a set leaves: none, the current value's (Redis KEEPTTL), or an absolute time. */
export type SetExpiry =
  { readonly type: 'none' } | { readonly type: 'keep' } | { readonly type: 'at'; readonly expiresAtMs: number };

/**
 * Redis SET with its options, atomically: checks the condition against the
 * live value, writes or not, and answers whether it wrote and, if asked,
 * the previous value (SET ... GET, GETSET).
 */
export interface SetCommand extends ClientStamp, ProposerClock {
  readonly type: 'set';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly condition: SetCondition;
  readonly expiry: SetExpiry;
  readonly returnPrevious: boolean;
}

/** Adds `delta` to the value read as a 64-bit signed integer (absent counts as 0); keeps the expiry. */
export interface IncrByCommand extends ClientStamp, ProposerClock {
  readonly type: 'incrBy';
  readonly key: Uint8Array;
  readonly delta: bigint;
}

/** Deletes the key and answers the value it had (Redis GETDEL). */
export interface GetDeleteCommand extends ClientStamp, ProposerClock {
  readonly type: 'getDelete';
  readonly key: Uint8Array;
}

export type KvWriteCommand =
  PutCommand | AppendCommand | DeleteCommand | CasCommand | SetCommand | IncrByCommand | GetDeleteCommand;
/** Commands about one key: all but count. */
export type KvKeyCommand = GetCommand | KvWriteCommand;
export type KvCommand = KvKeyCommand | CountCommand;
export type KvCommandType = KvCommand['type'];

/** A command carries a client stamp exactly when it writes. */
export function isWriteCommand(command: KvCommand): command is KvWriteCommand {
  return command.type !== 'get' && command.type !== 'count';
}

/** Success. Which fields are set depends on the command; absent fields mean "not applicable". */
export interface KvOk {
  readonly ok: true;
  /**
   * get: the value, or null when the key is absent. set with returnPrevious and getDelete: the value
   * before. incrBy: the new value, as decimal text. count: the number of live keys, as decimal text.
   */
  readonly value?: Uint8Array | null;
  /** get: when the value expires, in wall-clock ms; absent when it never does (or there is none). */
  readonly expiresAtMs?: number;
  /** set: whether it wrote (false when its condition did not hold). */
  readonly written?: boolean;
  /** append: the length of the value after the append (what Redis APPEND answers). */
  readonly valueBytes?: number;
  /**
   * delete, getDelete, and a set with a condition, KEEPTTL or returnPrevious: whether the key had a live
   * value before (what Redis DEL counts). A plain set does not read the key, so it leaves this out.
   */
  readonly existed?: boolean;
}

export interface KvFailed {
  readonly ok: false;
  readonly error: KvError;
}

export type KvReply = KvOk | KvFailed;

/** Errors a client can cause. Each says what went wrong and what to do; none changes the state. */
export type KvError =
  | { readonly code: 'keyTooLarge'; readonly keyBytes: number; readonly keyBytesMax: number; readonly message: string }
  | {
      readonly code: 'valueTooLarge';
      readonly valueBytes: number;
      readonly valueBytesMax: number;
      readonly message: string;
    }
  | { readonly code: 'casMismatch'; readonly message: string }
  | {
      readonly code: 'staleSequence';
      readonly sequence: number;
      readonly lastSequence: number;
      readonly message: string;
    }
  | { readonly code: 'malformedCommand'; readonly problem: string; readonly message: string }
  | { readonly code: 'notAnInteger'; readonly message: string }
  | { readonly code: 'incrementOverflow'; readonly message: string }
  | { readonly code: 'sessionExpired'; readonly sequence: number; readonly message: string };

export type KvErrorCode = KvError['code'];

export function keyTooLarge(keyBytes: number, keyBytesMax: number = KEY_BYTES_MAX): KvError {
  return {
    code: 'keyTooLarge',
    keyBytes,
    keyBytesMax,
    message: `a key of ${keyBytes} bytes is over the limit of ${keyBytesMax} bytes; use a shorter key (hash a long one)`,
  };
}

/** `valueBytes` is the size the value would have had: after an append, the combined size. */
export function valueTooLarge(valueBytes: number, valueBytesMax: number = VALUE_BYTES_MAX): KvError {
  return {
    code: 'valueTooLarge',
    valueBytes,
    valueBytesMax,
    message:
      `the value would be ${valueBytes} bytes, over the limit of ${valueBytesMax} bytes; ` +
      'split it across several keys',
  };
}

export function casMismatch(): KvError {
  return {
    code: 'casMismatch',
    message: 'the current value is not the expected one, so nothing was written; read the key again and retry',
  };
}

export function staleSequence(sequence: number, lastSequence: number): KvError {
  return {
    code: 'staleSequence',
    sequence,
    lastSequence,
    message:
      `request sequence ${sequence} is older than this client's last applied sequence ${lastSequence}, ` +
      'so it was not applied; its outcome was already reported, and a client must not reuse old sequences',
  };
}

export function malformedCommand(problem: string): KvError {
  return {
    code: 'malformedCommand',
    problem,
    message: `the command bytes do not decode (${problem}), so nothing was applied; this is a client bug`,
  };
}

export function notAnInteger(): KvError {
  return {
    code: 'notAnInteger',
    message:
      'the value is not an integer or out of range (a 64-bit signed decimal integer is needed), ' +
      'so nothing changed; set the key to an integer first',
  };
}

export function incrementOverflow(): KvError {
  return {
    code: 'incrementOverflow',
    message:
      'the increment or decrement would overflow a 64-bit signed integer, so nothing changed; ' +
      'use a smaller step or reset the key',
  };
}

/**
 * The group has forgotten the client (idle too long, or evicted to keep the
 * dedup table bounded) and this request may be a retry of one it applied
 * before: applying it could apply it twice, so it was refused. The Raft
 * dissertation (§6.3) answers an expired session the same way.
 */
export function sessionExpired(sequence: number): KvError {
  return {
    code: 'sessionExpired',
    sequence,
    message:
      `request sequence ${sequence} was not applied now: the group no longer remembers this client ` +
      '(idle too long, or evicted when more clients than the dedup limit were active), so it cannot tell ' +
      'whether an earlier attempt was applied; read the key to check, then retry from a new connection or session',
  };
}

export function failed(error: KvError): KvFailed {
  return { ok: false, error };
}

/**
 * The limit a command breaks, or null. Checked by a proposer before a
 * command enters the log, and again when it is applied, because the log may
 * hold commands from an older, more lenient client.
 */
export function commandLimitError(command: KvCommand): KvError | null {
  if (command.type === 'count') return null;
  if (command.key.byteLength > KEY_BYTES_MAX) return keyTooLarge(command.key.byteLength);
  switch (command.type) {
    case 'get':
    case 'delete':
    case 'getDelete':
    case 'incrBy':
      return null;
    case 'put':
    case 'append':
    case 'set':
      return command.value.byteLength > VALUE_BYTES_MAX ? valueTooLarge(command.value.byteLength) : null;
    case 'cas': {
      // An expected value over the limit could never match; say so rather than answer casMismatch forever.
      const largestBytes = Math.max(command.value.byteLength, command.expected?.byteLength ?? 0);
      return largestBytes > VALUE_BYTES_MAX ? valueTooLarge(largestBytes) : null;
    }
  }
}

const encoder = new TextEncoder();
/** ignoreBOM: a value that starts with U+FEFF keeps it, as it was written. */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** UTF-8 bytes of a string key or value. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string a UTF-8 key or value holds. */
export function utf8Text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
