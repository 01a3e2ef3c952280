/**
 * Keeps a member's HardState (term, vote, commit) in one small file, replaced
 * atomically on every save. The file holds one checksummed record (see
 * record.ts) whose payload, format version 1, is:
 *
 *   [u8 version = 1][u64 BE term][u64 BE commit][u8 has vote][u64 BE voted for]
 *
 * A checksum that does not match is never a torn write (the rename makes the
 * swap atomic), so it is reported as corruption: a guessed term or vote could
 * let this member vote twice in one term.
 */
import type { HardState } from '../raft/types.js';
import { EMPTY_HARD_STATE } from '../raft/types.js';
import { readFileIfExists, removeStaleTempFiles, writeFileAtomic } from './atomic-file.js';
import type { SyncObserver } from './durable-io.js';
import { HardStateCorruptionError } from './errors.js';
import { encodeRecord, readRecordAt, readUint64, writeUint64 } from './record.js';

const FORMAT_VERSION = 1;
const PAYLOAD_BYTES = 1 + 8 + 8 + 1 + 8;

export class HardStateStore {
  /** Saves run one after another, so that an older state can never be renamed over a newer one. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly filePath: string,
    /** Told how long each save's fsync took (metrics). */
    private readonly onSync?: SyncObserver,
  ) {}

  /** The saved state, or EMPTY_HARD_STATE when none was ever saved. Throws HardStateCorruptionError. */
  async load(): Promise<HardState> {
    await removeStaleTempFiles(this.filePath);
    const bytes = await readFileIfExists(this.filePath);
    if (bytes === null) return EMPTY_HARD_STATE;
    return decodeHardState(bytes, this.filePath);
  }

  /** Resolves once `state` is durable. */
  save(state: HardState): Promise<void> {
    const bytes = encodeHardState(state);
    const saved = this.saving.then(() => writeFileAtomic(this.filePath, bytes, this.onSync));
    // The next save waits for this one to finish, not to succeed: each writes a whole file of its own.
    this.saving = saved.catch(() => undefined);
    return saved;
  }
}

export function encodeHardState(state: HardState): Buffer {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeUInt8(FORMAT_VERSION, 0);
  writeUint64(payload, 1, state.term);
  writeUint64(payload, 9, state.commit);
  payload.writeUInt8(state.votedFor === null ? 0 : 1, 17);
  writeUint64(payload, 18, state.votedFor ?? 0);
  return encodeRecord(payload);
}

function decodeHardState(bytes: Buffer, filePath: string): HardState {
  const corrupt = (problem: string, offsetBytes = 0) => new HardStateCorruptionError(filePath, offsetBytes, problem);
  const record = readRecordAt(bytes, 0);
  if (!record.ok) throw corrupt(record.problem);
  if (record.endOffsetBytes !== bytes.byteLength) {
    throw corrupt(
      `${bytes.byteLength - record.endOffsetBytes} unexpected bytes follow the record`,
      record.endOffsetBytes,
    );
  }
  const { payload } = record;
  if (payload.byteLength !== PAYLOAD_BYTES || payload.readUInt8(0) !== FORMAT_VERSION) {
    throw corrupt(
      `expected a version ${FORMAT_VERSION} payload of ${PAYLOAD_BYTES} bytes, ` +
        `found version ${payload.readUInt8(0)} in ${payload.byteLength} bytes`,
    );
  }
  const term = readUint64(payload, 1);
  const commit = readUint64(payload, 9);
  const hasVote = payload.readUInt8(17);
  const votedFor = readUint64(payload, 18);
  if (term === null || commit === null || votedFor === null || hasVote > 1) {
    throw corrupt('a field is out of range');
  }
  return { term, commit, votedFor: hasVote === 1 ? votedFor : null };
}
