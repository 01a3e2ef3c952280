/** What the rest of raftkv uses of the storage layer. */
export type { LoadedLog, LogStore } from './log-store.js';
export { emptyMemoryLogDisk, MemoryLogStore } from './memory-log-store.js';
export type { MemoryLogDisk } from './memory-log-store.js';
export { SegmentedLogStore, SEGMENT_BYTES_MAX_DEFAULT, WRITE_BATCH_BYTES_MAX_DEFAULT } from './segmented-log-store.js';
export type { SegmentedLogStoreOptions, TornTail } from './segmented-log-store.js';
export { HardStateStore } from './hard-state-store.js';
export { readFileIfExists, writeFileAtomic } from './atomic-file.js';
export {
  HardStateCorruptionError,
  LogCorruptionError,
  SnapshotCorruptionError,
  StorageCorruptionError,
  StoreFailedError,
} from './errors.js';
export { SnapshotStore } from './snapshot-store.js';
export type { InstallStep, StoredSnapshot } from './snapshot-store.js';
export { emptyMemorySnapshotDisk, MemorySnapshotStore } from './memory-snapshot-store.js';
export type { MemorySnapshotDisk } from './memory-snapshot-store.js';
export type { SyncObserver } from './durable-io.js';
