/**
 * How the state machine lays out its state in the engine's one key space.
 * User keys live under their own prefix byte, so that no user key, whatever
 * its bytes, can land on the state machine's bookkeeping:
 *
 *   0x00 0x00            restore in progress (present only while a restore runs)
 *   0x00 0x01            applied position: [u8 version = 1][u64 BE index][u64 BE term]
 *   0x00 0x02 client id  dedup entry: [u8 version = 2][u64 BE last sequence][u64 BE last seen index]
 *                        [u64 BE newest proposer clock, ms][reply] (version 1 has no clock; it reads as 0)
 *                        The reserved client id DEDUP_FLOOR_CLIENT_ID holds the table's floor (dedup-table.ts).
 *   0x01 user key        the user's value, as is
 *
 * The bookkeeping sorts first, applied position before the dedup entries, so
 * that one pass over the engine in key order meets the applied position first:
 * a snapshot writes its header from it.
 */
import type { LogIndex, Term } from '../raft/types.js';
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import { KvDecodeError } from './errors.js';
import { decodeReply, encodeReply } from './command-codec.js';
import type { KvReply } from './commands.js';
import type { KeyRange } from './engine.js';

const SYSTEM_PREFIX = 0x00;
const DATA_PREFIX = 0x01;
const DEDUP_TAG = 0x02;
const FORMAT_VERSION = 1;
/** Dedup entries only: version 1 plus the newest proposer clock of the client's requests. */
const DEDUP_FORMAT_VERSION_WITH_CLOCK = 2;

export const RESTORE_MARKER_KEY = Uint8Array.of(SYSTEM_PREFIX, 0x00);
export const APPLIED_POSITION_KEY = Uint8Array.of(SYSTEM_PREFIX, 0x01);
/** Everything but the restore marker: what a restore clears while the marker says it is under way. */
export const AFTER_RESTORE_MARKER_RANGE: KeyRange = { gte: APPLIED_POSITION_KEY };
export const DEDUP_RANGE: KeyRange = {
  gte: Uint8Array.of(SYSTEM_PREFIX, DEDUP_TAG),
  lt: Uint8Array.of(SYSTEM_PREFIX, DEDUP_TAG + 1),
};
export const DATA_RANGE: KeyRange = { gte: Uint8Array.of(DATA_PREFIX), lt: Uint8Array.of(DATA_PREFIX + 1) };

/** Where the machine is in the log: the last entry applied, and that entry's term (0 when not known). */
export interface AppliedPosition {
  readonly index: LogIndex;
  readonly term: Term;
}

/** What the state machine remembers of one client, so that a retried request is answered, not re-applied. */
export interface DedupEntry {
  /** The sequence of the client's latest applied request. */
  readonly lastSequence: number;
  /** The reply that request got; a retry gets it again. */
  readonly lastReply: KvReply;
  /** Log index of the client's latest request of any kind: expiry counts idleness from here. */
  readonly lastSeenIndex: LogIndex;
  /**
   * The largest proposer clock (ms) among the client's requests seen, 0 when none carried one: when the
   * entry is dropped, the table's floor rises to it (dedup-table.ts says why).
   */
  readonly stampMsMax: number;
}

export function dataKey(userKey: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + userKey.byteLength);
  key[0] = DATA_PREFIX;
  key.set(userKey, 1);
  return key;
}

export function dedupKey(clientId: string): Uint8Array {
  const id = Buffer.from(clientId, 'utf8');
  const key = new Uint8Array(2 + id.byteLength);
  key[0] = SYSTEM_PREFIX;
  key[1] = DEDUP_TAG;
  key.set(id, 2);
  return key;
}

export type KeyKind = 'restoreMarker' | 'appliedPosition' | 'dedup' | 'data' | 'unknown';

export function keyKind(key: Uint8Array): KeyKind {
  if (key[0] === DATA_PREFIX) return 'data';
  if (key[0] !== SYSTEM_PREFIX || key.byteLength < 2) return 'unknown';
  if (key[1] === DEDUP_TAG && key.byteLength > 2) return 'dedup';
  if (key.byteLength !== 2) return 'unknown';
  if (key[1] === 0x00) return 'restoreMarker';
  if (key[1] === 0x01) return 'appliedPosition';
  return 'unknown';
}

/** The user key inside a data key. */
export function userKeyOf(engineKey: Uint8Array): Uint8Array {
  return engineKey.subarray(1);
}

/** The client id inside a dedup key. */
export function clientIdOf(engineKey: Uint8Array): string {
  const reader = new ByteReader(engineKey.subarray(2), 'dedup key', KvDecodeError);
  return reader.utf8(reader.remainingBytes, 'client id');
}

export function encodeAppliedPosition(position: AppliedPosition): Uint8Array {
  return new ByteWriter(17).u8(FORMAT_VERSION).u64(position.index).u64(position.term).finish();
}

export function decodeAppliedPosition(bytes: Uint8Array): AppliedPosition {
  const reader = new ByteReader(bytes, 'stored applied position', KvDecodeError);
  readVersion(reader);
  const position = { index: reader.u64('index'), term: reader.u64('term') };
  reader.expectEnd();
  return position;
}

export function encodeDedupEntry(entry: DedupEntry): Uint8Array {
  const reply = encodeReply(entry.lastReply);
  return new ByteWriter(25 + reply.byteLength)
    .u8(DEDUP_FORMAT_VERSION_WITH_CLOCK)
    .u64(entry.lastSequence)
    .u64(entry.lastSeenIndex)
    .u64(entry.stampMsMax)
    .bytes(reply)
    .finish();
}

export function decodeDedupEntry(bytes: Uint8Array): DedupEntry {
  const reader = new ByteReader(bytes, 'dedup entry', KvDecodeError);
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION && version !== DEDUP_FORMAT_VERSION_WITH_CLOCK) {
    reader.fail(
      `format version ${version} is unknown to this raftkv ` +
        `(it reads versions ${FORMAT_VERSION} and ${DEDUP_FORMAT_VERSION_WITH_CLOCK})`,
    );
  }
  const lastSequence = reader.u64('last sequence');
  const lastSeenIndex = reader.u64('last seen index');
  const stampMsMax = version === DEDUP_FORMAT_VERSION_WITH_CLOCK ? reader.u64('newest proposer clock') : 0;
  return { lastSequence, lastSeenIndex, stampMsMax, lastReply: decodeReply(reader.rest('reply')) };
}

function readVersion(reader: ByteReader): void {
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION) {
    reader.fail(`format version ${version} is unknown to this raftkv (it reads version ${FORMAT_VERSION})`);
  }
}
