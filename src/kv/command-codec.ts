/**
 * The bytes of a KV command (what a Raft command entry carries) and of a
 * reply (what the dedup table stores and the wire sends back).
 *
 * Command: [u8 version = 1 or 2][u8 kind][body]
 *
 *   kind 1 get:       [key]
 *   kind 2 put:       [stamp][key][value]
 *   kind 3 append:    [stamp][key][value]
 *   kind 4 delete:    [stamp][key]
 *   kind 5 cas:       [stamp][key][u8 expected present 0|1][expected, if present][value]
 *   kind 6 set:       [stamp][key][value][u8 condition: 0 always, 1 ifAbsent, 2 ifPresent]
 *                     [u8 expiry: 0 none, 1 keep, 2 at][u64 BE expiresAtMs, if at][u8 returnPrevious 0|1]
 *   kind 7 incrBy:    [stamp][key][i64 BE delta]
 *   kind 8 getDelete: [stamp][key]
 *   kind 9 count:     nothing
 *
 *   stamp = [u8 client id length][client id, UTF-8][u64 BE sequence], then in version 2 only
 *           [u64 BE nowMs] (the proposer's clock; version 1 commands have none)
 *   key, value, expected = [u32 BE length][bytes]
 *
 * A command with a clock is written as version 2, one without as version 1,
 * so commands logged before expiry existed decode as they did.
 *
 * Reply: [u8 version = 1][u8 status][body]
 *
 *   status 1 ok:    [u8 fields][value, if bit 1][u32 BE valueBytes, if bit 2][u64 BE expiresAtMs, if bit 7]
 *                   fields: bit 0 value field set, bit 1 value non-null, bit 2 valueBytes set,
 *                           bit 3 existed set, bit 4 existed true, bit 5 written set, bit 6 written true,
 *                           bit 7 expiresAtMs set
 *   status 2 error: [u8 error code][fields of that error, below]
 *                   1 keyTooLarge       [u32 keyBytes][u32 keyBytesMax]
 *                   2 valueTooLarge     [u32 valueBytes][u32 valueBytesMax]
 *                   3 casMismatch       nothing
 *                   4 staleSequence     [u64 sequence][u64 lastSequence]
 *                   5 malformedCommand  [u16 problem length][problem, UTF-8]
 *                   6 notAnInteger      nothing
 *                   7 incrementOverflow nothing
 *                   8 sessionExpired    [u64 sequence]
 *
 * Hand-written rather than a general serializer, like the log's entry codec:
 * the layout is small and fixed, pinned byte for byte by tests, and a value
 * is copied once. Every replica decodes the same bytes the same way, so
 * decode is strict: anything out of place is a KvDecodeError, never a guess.
 * Limits (KEY_BYTES_MAX, ...) are not checked here: a command over a limit is
 * well-formed and gets a keyTooLarge or valueTooLarge reply when applied.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import { KvDecodeError } from './errors.js';
import type {
  ClientStamp,
  KvCommand,
  KvCommandType,
  KvError,
  KvKeyCommand,
  KvErrorCode,
  KvOk,
  KvReply,
  ProposerClock,
  SetCommand,
  SetExpiry,
} from './commands.js';
import {
  casMismatch,
  CLIENT_ID_BYTES_MAX,
  incrementOverflow,
  keyTooLarge,
  malformedCommand,
  notAnInteger,
  sessionExpired,
  SET_CONDITIONS,
  staleSequence,
  valueTooLarge,
} from './commands.js';

const FORMAT_VERSION = 1;
/** Commands only: version 1 plus the proposer's clock after the stamp. */
const FORMAT_VERSION_WITH_CLOCK = 2;
const COMMAND_KIND_CODES = {
  get: 1,
  put: 2,
  append: 3,
  delete: 4,
  cas: 5,
  set: 6,
  incrBy: 7,
  getDelete: 8,
  count: 9,
} as const satisfies Record<KvCommandType, number>;
const REPLY_STATUS_OK = 1;
const REPLY_STATUS_ERROR = 2;
const ERROR_CODES = {
  keyTooLarge: 1,
  valueTooLarge: 2,
  casMismatch: 3,
  staleSequence: 4,
  malformedCommand: 5,
  notAnInteger: 6,
  incrementOverflow: 7,
  sessionExpired: 8,
} as const satisfies Record<KvErrorCode, number>;
const OK_FIELD = {
  value: 1,
  valueNonNull: 2,
  valueBytes: 4,
  existed: 8,
  existedTrue: 16,
  written: 32,
  writtenTrue: 64,
  expiresAtMs: 128,
} as const;
const OK_FIELDS_ALL = 255;
const EXPIRY_CODES = { none: 0, keep: 1, at: 2 } as const satisfies Record<SetExpiry['type'], number>;
/**
 * A problem text is ours and short; the limit keeps a reply small whatever the text.
 * Counted in UTF-16 code units, at most 3 UTF-8 bytes each, so the bytes fit the u16 length.
 */
const PROBLEM_CODE_UNITS_MAX = Math.floor(0xffff / 3);

const LENGTH_PREFIX_BYTES = 4;
const VERSION_AND_KIND_BYTES = 2;

export function encodeCommand(command: KvCommand): Buffer {
  if (command.type === 'count') {
    return new ByteWriter(VERSION_AND_KIND_BYTES).u8(FORMAT_VERSION).u8(COMMAND_KIND_CODES.count).finish();
  }
  const stamp = command.type === 'get' ? null : checkedStamp(command);
  const stampSizeBytes =
    stamp === null ? 0 : 1 + stamp.clientIdBytes.byteLength + 8 + (stamp.nowMs === undefined ? 0 : 8);
  const writer = new ByteWriter(VERSION_AND_KIND_BYTES + stampSizeBytes + bodyBytes(command));
  writer
    .u8(stamp?.nowMs === undefined ? FORMAT_VERSION : FORMAT_VERSION_WITH_CLOCK)
    .u8(COMMAND_KIND_CODES[command.type]);
  if (stamp !== null) {
    writer.u8(stamp.clientIdBytes.byteLength).bytes(stamp.clientIdBytes).u64(stamp.sequence);
    if (stamp.nowMs !== undefined) writer.u64(stamp.nowMs);
  }
  writer.u32(command.key.byteLength).bytes(command.key);
  switch (command.type) {
    case 'get':
    case 'delete':
    case 'getDelete':
      break;
    case 'put':
    case 'append':
      writer.u32(command.value.byteLength).bytes(command.value);
      break;
    case 'cas':
      if (command.expected === null) writer.u8(0);
      else writer.u8(1).u32(command.expected.byteLength).bytes(command.expected);
      writer.u32(command.value.byteLength).bytes(command.value);
      break;
    case 'set':
      writer.u32(command.value.byteLength).bytes(command.value);
      writer.u8(SET_CONDITIONS.indexOf(command.condition)).u8(EXPIRY_CODES[command.expiry.type]);
      if (command.expiry.type === 'at') writer.u64(command.expiry.expiresAtMs);
      writer.u8(command.returnPrevious ? 1 : 0);
      break;
    case 'incrBy':
      writer.bytes(int64(command.delta));
      break;
  }
  return writer.finish();
}

/** Bytes after the stamp and the key. */
function bodyBytes(command: KvKeyCommand): number {
  const keyBytes = LENGTH_PREFIX_BYTES + command.key.byteLength;
  switch (command.type) {
    case 'get':
    case 'delete':
    case 'getDelete':
      return keyBytes;
    case 'put':
    case 'append':
      return keyBytes + LENGTH_PREFIX_BYTES + command.value.byteLength;
    case 'cas':
      return (
        keyBytes +
        1 +
        (command.expected === null ? 0 : LENGTH_PREFIX_BYTES + command.expected.byteLength) +
        LENGTH_PREFIX_BYTES +
        command.value.byteLength
      );
    case 'set':
      return keyBytes + LENGTH_PREFIX_BYTES + command.value.byteLength + 2 + (command.expiry.type === 'at' ? 8 : 0) + 1;
    case 'incrBy':
      return keyBytes + 8;
  }
}

/** A delta outside 64 bits is a bug of the caller (the RESP layer parses into range): an assertion. */
function int64(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
}

/** A stamp that cannot be encoded is a bug of the client library, not of its user: an assertion. */
function checkedStamp(stamp: ClientStamp & ProposerClock): {
  clientIdBytes: Buffer;
  sequence: number;
  nowMs: number | undefined;
} {
  const clientIdBytes = Buffer.from(stamp.clientId, 'utf8');
  if (clientIdBytes.byteLength === 0 || clientIdBytes.byteLength > CLIENT_ID_BYTES_MAX) {
    throw new Error(`a client id must be 1 to ${CLIENT_ID_BYTES_MAX} UTF-8 bytes, got ${clientIdBytes.byteLength}`);
  }
  if (!Number.isSafeInteger(stamp.sequence) || stamp.sequence < 1) {
    throw new Error(`a request sequence must be a positive safe integer, got ${stamp.sequence}`);
  }
  if (stamp.nowMs !== undefined && (!Number.isSafeInteger(stamp.nowMs) || stamp.nowMs < 0)) {
    throw new Error(`a proposer clock reading must be a non-negative safe integer, got ${stamp.nowMs}`);
  }
  return { clientIdBytes, sequence: stamp.sequence, nowMs: stamp.nowMs };
}

/** The command `bytes` hold; throws KvDecodeError saying what is wrong when they hold none. */
export function decodeCommand(bytes: Uint8Array): KvCommand {
  const reader = new ByteReader(bytes, 'command', KvDecodeError);
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_WITH_CLOCK) {
    reader.fail(`format version ${version} is unknown to this raftkv (it reads versions 1 and 2)`);
  }
  const kindCode = reader.u8('kind');
  const command = decodeCommandBody(reader, kindCode, version === FORMAT_VERSION_WITH_CLOCK);
  reader.expectEnd();
  return command;
}

function decodeCommandBody(reader: ByteReader, kindCode: number, withClock: boolean): KvCommand {
  switch (kindCode) {
    case COMMAND_KIND_CODES.get:
      return { type: 'get', key: readKey(reader) };
    case COMMAND_KIND_CODES.put:
    case COMMAND_KIND_CODES.append: {
      const type = kindCode === COMMAND_KIND_CODES.put ? 'put' : 'append';
      const stamp = readStampOf(reader, withClock);
      return { type, ...stamp, key: readKey(reader), value: readValue(reader) };
    }
    case COMMAND_KIND_CODES.delete: {
      const stamp = readStampOf(reader, withClock);
      return { type: 'delete', ...stamp, key: readKey(reader) };
    }
    case COMMAND_KIND_CODES.cas: {
      const stamp = readStampOf(reader, withClock);
      const key = readKey(reader);
      const expectedPresent = reader.u8('expected-present flag');
      if (expectedPresent > 1) reader.fail(`the expected-present flag is ${expectedPresent}, not 0 or 1`);
      const expected = expectedPresent === 1 ? readSizedView(reader, 'expected value length', 'expected value') : null;
      return { type: 'cas', ...stamp, key, expected, value: readValue(reader) };
    }
    case COMMAND_KIND_CODES.set:
      return readSet(reader, readStampOf(reader, withClock));
    case COMMAND_KIND_CODES.incrBy: {
      const stamp = readStampOf(reader, withClock);
      const key = readKey(reader);
      const delta = Buffer.from(reader.bytes(8, 'delta')).readBigInt64BE();
      return { type: 'incrBy', ...stamp, key, delta };
    }
    case COMMAND_KIND_CODES.count:
      return { type: 'count' };
    case COMMAND_KIND_CODES.getDelete: {
      const stamp = readStampOf(reader, withClock);
      return { type: 'getDelete', ...stamp, key: readKey(reader) };
    }
    default:
      return reader.fail(`command kind ${kindCode} is unknown`);
  }
}

function readSet(reader: ByteReader, stamp: ClientStamp & ProposerClock): SetCommand {
  const key = readKey(reader);
  const value = readValue(reader);
  const conditionCode = reader.u8('condition');
  const condition = SET_CONDITIONS[conditionCode] ?? reader.fail(`set condition ${conditionCode} is unknown`);
  const expiryCode = reader.u8('expiry kind');
  let expiry: SetExpiry;
  switch (expiryCode) {
    case EXPIRY_CODES.none:
      expiry = { type: 'none' };
      break;
    case EXPIRY_CODES.keep:
      expiry = { type: 'keep' };
      break;
    case EXPIRY_CODES.at:
      expiry = { type: 'at', expiresAtMs: reader.u64('expiry time') };
      break;
    default:
      return reader.fail(`set expiry kind ${expiryCode} is unknown`);
  }
  const returnPrevious = reader.u8('return-previous flag');
  if (returnPrevious > 1) reader.fail(`the return-previous flag is ${returnPrevious}, not 0 or 1`);
  return { type: 'set', ...stamp, key, value, condition, expiry, returnPrevious: returnPrevious === 1 };
}

function readStampOf(reader: ByteReader, withClock: boolean): ClientStamp & ProposerClock {
  const clientIdBytes = reader.u8('client id length');
  if (clientIdBytes === 0 || clientIdBytes > CLIENT_ID_BYTES_MAX) {
    reader.fail(`the client id length ${clientIdBytes} is outside 1..${CLIENT_ID_BYTES_MAX}`);
  }
  const clientId = reader.utf8(clientIdBytes, 'client id');
  const sequence = reader.u64('sequence');
  if (sequence < 1) reader.fail('the sequence is 0; sequences start at 1');
  return withClock ? { clientId, sequence, nowMs: reader.u64('proposer clock') } : { clientId, sequence };
}

function readSized(reader: ByteReader, field: string): Uint8Array {
  return reader.bytes(reader.u32(`${field} length`), field);
}

/**
 * A command's keys and values are views into its bytes, not copies: a command
 * is decoded to be applied (or served) at once, and its entry's bytes live at
 * least that long. Field names are constants, so no text is built per read.
 */
function readSizedView(reader: ByteReader, lengthField: string, field: string): Uint8Array {
  return reader.view(reader.u32(lengthField), field);
}

function readKey(reader: ByteReader): Uint8Array {
  return readSizedView(reader, 'key length', 'key');
}

function readValue(reader: ByteReader): Uint8Array {
  return readSizedView(reader, 'value length', 'value');
}

function readVersion(reader: ByteReader): void {
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION) {
    reader.fail(`format version ${version} is unknown to this raftkv (it reads version ${FORMAT_VERSION})`);
  }
}

export function encodeReply(reply: KvReply): Buffer {
  return reply.ok ? encodeOk(reply) : encodeError(reply.error);
}

function encodeOk(reply: KvOk): Buffer {
  let fields = 0;
  let sizeBytes = VERSION_AND_KIND_BYTES + 1;
  if (reply.value !== undefined) {
    fields |= OK_FIELD.value;
    if (reply.value !== null) {
      fields |= OK_FIELD.valueNonNull;
      sizeBytes += LENGTH_PREFIX_BYTES + reply.value.byteLength;
    }
  }
  if (reply.valueBytes !== undefined) {
    fields |= OK_FIELD.valueBytes;
    sizeBytes += 4;
  }
  if (reply.existed !== undefined) fields |= OK_FIELD.existed | (reply.existed ? OK_FIELD.existedTrue : 0);
  if (reply.written !== undefined) fields |= OK_FIELD.written | (reply.written ? OK_FIELD.writtenTrue : 0);
  if (reply.expiresAtMs !== undefined) {
    fields |= OK_FIELD.expiresAtMs;
    sizeBytes += 8;
  }
  const writer = new ByteWriter(sizeBytes).u8(FORMAT_VERSION).u8(REPLY_STATUS_OK).u8(fields);
  if (reply.value !== undefined && reply.value !== null) writer.u32(reply.value.byteLength).bytes(reply.value);
  if (reply.valueBytes !== undefined) writer.u32(reply.valueBytes);
  if (reply.expiresAtMs !== undefined) writer.u64(reply.expiresAtMs);
  return writer.finish();
}

function encodeError(error: KvError): Buffer {
  // Version, status, error code, then the error's fields.
  const start = (fieldsBytes: number): ByteWriter =>
    new ByteWriter(3 + fieldsBytes).u8(FORMAT_VERSION).u8(REPLY_STATUS_ERROR).u8(ERROR_CODES[error.code]);
  switch (error.code) {
    case 'keyTooLarge':
      return start(8).u32(error.keyBytes).u32(error.keyBytesMax).finish();
    case 'valueTooLarge':
      return start(8).u32(error.valueBytes).u32(error.valueBytesMax).finish();
    case 'casMismatch':
    case 'notAnInteger':
    case 'incrementOverflow':
      return start(0).finish();
    case 'staleSequence':
      return start(16).u64(error.sequence).u64(error.lastSequence).finish();
    case 'sessionExpired':
      return start(8).u64(error.sequence).finish();
    case 'malformedCommand': {
      const problem = Buffer.from(error.problem.slice(0, PROBLEM_CODE_UNITS_MAX), 'utf8');
      return start(2 + problem.byteLength)
        .u16(problem.byteLength)
        .bytes(problem)
        .finish();
    }
  }
}

/** The reply `bytes` hold; throws KvDecodeError saying what is wrong when they hold none. */
export function decodeReply(bytes: Uint8Array): KvReply {
  const reader = new ByteReader(bytes, 'reply', KvDecodeError);
  readVersion(reader);
  const status = reader.u8('status');
  if (status !== REPLY_STATUS_OK && status !== REPLY_STATUS_ERROR) reader.fail(`reply status ${status} is unknown`);
  const reply: KvReply = status === REPLY_STATUS_OK ? decodeOk(reader) : { ok: false, error: decodeError(reader) };
  reader.expectEnd();
  return reply;
}

function decodeOk(reader: ByteReader): KvOk {
  const fields = reader.u8('fields');
  if ((fields & ~OK_FIELDS_ALL) !== 0) reader.fail(`the fields byte 0x${fields.toString(16)} sets unknown bits`);
  const has = (bit: number): boolean => (fields & bit) !== 0;
  if (has(OK_FIELD.valueNonNull) && !has(OK_FIELD.value)) reader.fail('a non-null value is flagged without a value');
  if (has(OK_FIELD.existedTrue) && !has(OK_FIELD.existed)) reader.fail('existed=true is flagged without existed');
  if (has(OK_FIELD.writtenTrue) && !has(OK_FIELD.written)) reader.fail('written=true is flagged without written');
  const reply: {
    ok: true;
    value?: Uint8Array | null;
    valueBytes?: number;
    existed?: boolean;
    written?: boolean;
    expiresAtMs?: number;
  } = { ok: true };
  if (has(OK_FIELD.value)) reply.value = has(OK_FIELD.valueNonNull) ? readSized(reader, 'value') : null;
  if (has(OK_FIELD.valueBytes)) reply.valueBytes = reader.u32('value size');
  if (has(OK_FIELD.existed)) reply.existed = has(OK_FIELD.existedTrue);
  if (has(OK_FIELD.written)) reply.written = has(OK_FIELD.writtenTrue);
  if (has(OK_FIELD.expiresAtMs)) reply.expiresAtMs = reader.u64('expiry time');
  return reply;
}

function decodeError(reader: ByteReader): KvError {
  const code = reader.u8('error code');
  switch (code) {
    case ERROR_CODES.keyTooLarge:
      return keyTooLarge(reader.u32('key size'), reader.u32('key size limit'));
    case ERROR_CODES.valueTooLarge:
      return valueTooLarge(reader.u32('value size'), reader.u32('value size limit'));
    case ERROR_CODES.casMismatch:
      return casMismatch();
    case ERROR_CODES.staleSequence:
      return staleSequence(reader.u64('sequence'), reader.u64('last sequence'));
    case ERROR_CODES.malformedCommand:
      return malformedCommand(reader.utf8(reader.u16('problem length'), 'problem'));
    case ERROR_CODES.notAnInteger:
      return notAnInteger();
    case ERROR_CODES.incrementOverflow:
      return incrementOverflow();
    case ERROR_CODES.sessionExpired:
      return sessionExpired(reader.u64('sequence'));
    default:
      return reader.fail(`error code ${code} is unknown`);
  }
}
