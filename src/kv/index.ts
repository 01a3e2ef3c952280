/** What the rest of raftkv uses of the kv layer. */
export type {
  AppendCommand,
  CasCommand,
  ClientStamp,
  DeleteCommand,
  GetCommand,
  KvCommand,
  KvCommandType,
  KvError,
  KvErrorCode,
  KvFailed,
  KvOk,
  KvReply,
  KvWriteCommand,
  PutCommand,
} from './commands.js';
export {
  CLIENT_ID_BYTES_MAX,
  commandLimitError,
  isWriteCommand,
  KEY_BYTES_MAX,
  utf8,
  utf8Text,
  VALUE_BYTES_MAX,
} from './commands.js';
export { decodeCommand, decodeReply, encodeCommand, encodeReply } from './command-codec.js';
export type { EngineEntry, EngineWrite, EngineWriteOptions, KeyRange, KvEngine } from './engine.js';
export { emptyMemoryKvDisk, MemoryKvEngine } from './memory-engine.js';
export type { MemoryKvDisk } from './memory-engine.js';
export { LevelKvEngine } from './level-engine.js';
export { KvDecodeError, KvSnapshotCorruptionError } from './errors.js';
export type { AppliedPosition, DedupEntry } from './keyspace.js';
export { SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT } from './snapshot-writer.js';
export { DEDUP_IDLE_ENTRIES_MAX_DEFAULT, KvStateMachine, TERM_UNKNOWN } from './state-machine.js';
export type { KvStateMachineOptions } from './state-machine.js';
