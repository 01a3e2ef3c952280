/**
 * How one log entry is laid out as a record payload (format version 1):
 *
 *   [u8 format version = 1][u8 kind][u64 BE index][u64 BE term][body]
 *
 *   kind 1 command: body = the command's bytes, as is
 *   kind 2 config:  body = the ConfigChange as UTF-8 JSON (a plain object)
 *   kind 3 noop:    body = nothing
 *
 * Hand-written rather than a general serializer: the layout is small, fixed
 * and worth pinning byte for byte (a test compares it with a stored hex
 * string), and command bytes are copied once, with no per-field tags.
 * The version byte lets a later format be read next to this one.
 */
import type { ConfigChange, Entry, LogIndex, Membership } from '../raft/types.js';
import { NODE_ID_MAX } from '../raft/types.js';
import { EntryDecodeError } from './errors.js';
import { RECORD_HEADER_BYTES, readUint64, sealRecord, writeUint64 } from './record.js';

const FORMAT_VERSION = 1;
const KIND_CODES = { command: 1, config: 2, noop: 3 } as const;
/** Version, kind, index, term. */
export const ENTRY_HEADER_BYTES = 1 + 1 + 8 + 8;

/** The whole record (header and payload) that stores `entry`. */
export function encodeEntryRecord(entry: Entry): Buffer {
  return encodeEntryRecords([entry]);
}

/**
 * The records of `entries`, one after another in one buffer: what a log
 * append writes. One allocation and one copy of each command, where a buffer
 * per record would cost an allocation each and a second copy to join them.
 */
export function encodeEntryRecords(entries: readonly Entry[]): Buffer {
  const bodies = entries.map(entryBody);
  let sizeBytes = 0;
  for (const body of bodies) sizeBytes += RECORD_HEADER_BYTES + ENTRY_HEADER_BYTES + body.byteLength;
  const records = Buffer.allocUnsafe(sizeBytes);
  let offset = 0;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position]!;
    const body = bodies[position]!;
    const end = offset + RECORD_HEADER_BYTES + ENTRY_HEADER_BYTES + body.byteLength;
    const payloadOffset = offset + RECORD_HEADER_BYTES;
    records.writeUInt8(FORMAT_VERSION, payloadOffset);
    records.writeUInt8(KIND_CODES[entry.kind], payloadOffset + 1);
    writeUint64(records, payloadOffset + 2, entry.index);
    writeUint64(records, payloadOffset + 10, entry.term);
    records.set(body, payloadOffset + ENTRY_HEADER_BYTES);
    sealRecord(records.subarray(offset, end));
    offset = end;
  }
  return records;
}

function entryBody(entry: Entry): Uint8Array {
  switch (entry.kind) {
    case 'command':
      return entry.data;
    case 'config':
      return Buffer.from(JSON.stringify(entry.change), 'utf8');
    case 'noop':
      return NO_BYTES;
  }
}

const NO_BYTES = new Uint8Array(0);

/**
 * The entry a record payload holds. Throws EntryDecodeError with the reason
 * when the payload is not one: the caller knows the file and offset and
 * reports those.
 * Command data is copied out, so that the entry does not keep the whole
 * buffer the payload was read from alive: by `copy`, which a caller decoding
 * many entries points into shared slabs (byte-slab.ts).
 */
export function decodeEntry(payload: Buffer, copy: BodyCopier = copyOut): Entry {
  if (payload.byteLength < ENTRY_HEADER_BYTES) {
    throw new EntryDecodeError(
      `an entry needs at least ${ENTRY_HEADER_BYTES} bytes, the payload has ${payload.byteLength}`,
    );
  }
  const version = payload.readUInt8(0);
  if (version !== FORMAT_VERSION) {
    throw new EntryDecodeError(
      `entry format version ${version} is unknown to this raftkv (it reads version ${FORMAT_VERSION})`,
    );
  }
  const kindCode = payload.readUInt8(1);
  const index = readUint64(payload, 2);
  const term = readUint64(payload, 10);
  if (index === null || index < 1 || term === null)
    throw new EntryDecodeError('the entry index or term is out of range');
  const bodyBytes = payload.byteLength - ENTRY_HEADER_BYTES;
  switch (kindCode) {
    case KIND_CODES.command:
      // No view of the body for a command: at restart this runs once per entry of the log.
      return { kind: 'command', index, term, data: copy(payload, ENTRY_HEADER_BYTES) };
    case KIND_CODES.config:
      return { kind: 'config', index, term, change: parseConfigChange(payload.subarray(ENTRY_HEADER_BYTES)) };
    case KIND_CODES.noop:
      if (bodyBytes !== 0) throw new EntryDecodeError(`a noop entry carries ${bodyBytes} unexpected bytes`);
      return { kind: 'noop', index, term };
    default:
      throw new EntryDecodeError(`entry kind ${kindCode} is unknown`);
  }
}

/** The index of the entry a record payload holds, read without decoding it; null when the payload is too short or the index out of range. */
export function peekEntryIndex(payload: Buffer): LogIndex | null {
  if (payload.byteLength < ENTRY_HEADER_BYTES) return null;
  const index = readUint64(payload, 2);
  return index === null || index < 1 ? null : index;
}

/** A copy of the bytes of `payload` from `start` on, sharing nothing with it. */
export type BodyCopier = (payload: Buffer, start: number) => Uint8Array;

function copyOut(payload: Buffer, start: number): Uint8Array {
  return new Uint8Array(payload.subarray(start));
}

function parseConfigChange(body: Buffer): ConfigChange {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new EntryDecodeError('the config change is not valid JSON');
  }
  if (typeof value !== 'object' || value === null) throw new EntryDecodeError('the config change is not an object');
  const change = value as Record<string, unknown>;
  switch (change.type) {
    case 'addLearner':
      if (!isNodeId(change.node)) throw new EntryDecodeError(`the ${change.type} change names no valid node`);
      if (change.address === undefined) return { type: change.type, node: change.node };
      if (typeof change.address !== 'string') throw new EntryDecodeError('the addLearner address is not a string');
      return { type: change.type, node: change.node, address: change.address };
    case 'promoteLearner':
    case 'removeNode':
      if (!isNodeId(change.node)) throw new EntryDecodeError(`the ${change.type} change names no valid node`);
      return { type: change.type, node: change.node };
    case 'bootstrap':
      return { type: 'bootstrap', membership: parseMembership(change.membership) };
    default:
      throw new EntryDecodeError(`config change type ${JSON.stringify(change.type)} is unknown`);
  }
}

function parseMembership(value: unknown): Membership {
  const membership = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { voters, learners } = membership;
  if (!isNodeIdList(voters) || !isNodeIdList(learners)) {
    throw new EntryDecodeError('the bootstrap membership needs lists of node ids for voters and learners');
  }
  return { voters, learners };
}

/** A node id a leader can send on: one out of the wire's range would trip its encoder's assertion. */
function isNodeId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= NODE_ID_MAX;
}

function isNodeIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isNodeId);
}
