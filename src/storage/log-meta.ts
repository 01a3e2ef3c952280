/**
 * The disk log's meta file, `log-meta`: where the log starts. It is replaced
 * atomically (atomic-file.ts) before any segment file is deleted, so that a
 * crash halfway through a compaction or a reset leaves files that the meta
 * already declares dead, never a log that starts somewhere it should not.
 *
 * One checksummed record (record.ts), payload format version 1:
 *
 *   [u8 version = 1][u64 BE compacted index][u64 BE first live sequence]
 */
import path from 'node:path';
import type { LogIndex } from '../raft/types.js';
import { readFileIfExists, removeStaleTempFiles, writeFileAtomic } from './atomic-file.js';
import { LogCorruptionError } from './errors.js';
import { encodeRecord, readRecordAt, readUint64, writeUint64 } from './record.js';

export interface LogMeta {
  /** Entries at or below this index are covered by a snapshot; load() skips them. */
  readonly compactedIndex: LogIndex;
  /** Segment files with a lower sequence number are dead: left over by a compaction or reset a crash interrupted. */
  readonly firstLiveSequence: number;
}

export const EMPTY_LOG_META: LogMeta = { compactedIndex: 0, firstLiveSequence: 0 };

const FILE_NAME = 'log-meta';
const FORMAT_VERSION = 1;
const PAYLOAD_BYTES = 1 + 8 + 8;

export function logMetaPath(directory: string): string {
  return path.join(directory, FILE_NAME);
}

/** The meta in `directory`, or EMPTY_LOG_META for a log that never compacted. */
export async function readLogMeta(directory: string): Promise<LogMeta> {
  const filePath = logMetaPath(directory);
  await removeStaleTempFiles(filePath);
  const bytes = await readFileIfExists(filePath);
  if (bytes === null) return EMPTY_LOG_META;
  const record = readRecordAt(bytes, 0);
  if (!record.ok) throw new LogCorruptionError(filePath, 0, record.problem);
  const { payload } = record;
  const compactedIndex = payload.byteLength === PAYLOAD_BYTES ? readUint64(payload, 1) : null;
  const firstLiveSequence = payload.byteLength === PAYLOAD_BYTES ? readUint64(payload, 9) : null;
  if (
    record.endOffsetBytes !== bytes.byteLength ||
    payload.readUInt8(0) !== FORMAT_VERSION ||
    compactedIndex === null ||
    firstLiveSequence === null
  ) {
    throw new LogCorruptionError(filePath, 0, `not a version ${FORMAT_VERSION} log meta record`);
  }
  return { compactedIndex, firstLiveSequence };
}

export async function writeLogMeta(directory: string, meta: LogMeta): Promise<void> {
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeUInt8(FORMAT_VERSION, 0);
  writeUint64(payload, 1, meta.compactedIndex);
  writeUint64(payload, 9, meta.firstLiveSequence);
  await writeFileAtomic(logMetaPath(directory), encodeRecord(payload));
}
