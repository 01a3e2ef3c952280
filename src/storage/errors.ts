/**
 * Errors a node's disk can cause. Each names the file and byte offset, so that
 * an operator can look at the damage, and says what to do about it: a node
 * must never guess what bytes it cannot read held, because a guess that drops
 * an acknowledged entry or a vote breaks Raft's safety for the whole group.
 */
import path from 'node:path';

/** What an operator does about a corrupt file: Raft state cannot be rebuilt from one node alone. */
export const RESTORE_FROM_PEERS_ADVICE =
  'restore this node from its peers: remove it from its group, empty its data directory, ' +
  'and add it back as a new member so that the leader sends it a snapshot (do not edit or delete the file by hand)';

export type StorageCorruptionCode = 'logCorrupt' | 'hardStateCorrupt' | 'snapshotCorrupt';

/** Bytes on disk that fail their checksum or do not decode, where a crash cannot explain them. */
export class StorageCorruptionError extends Error {
  constructor(
    readonly code: StorageCorruptionCode,
    /** The damaged file. */
    readonly path: string,
    /** Where in the file the damage starts. */
    readonly offsetBytes: number,
    /** What is wrong at that offset, for the message. */
    readonly problem: string,
    what: string,
  ) {
    super(`${what} ${path} is corrupt at byte offset ${offsetBytes}: ${problem}; ${RESTORE_FROM_PEERS_ADVICE}`);
    this.name = new.target.name;
  }
}

/** A log segment or the log's meta file is damaged somewhere a torn write at a crash cannot explain. */
export class LogCorruptionError extends StorageCorruptionError {
  constructor(path: string, offsetBytes: number, problem: string) {
    super('logCorrupt', path, offsetBytes, problem, 'raft log file');
  }
}

/** The hard state file (term, vote, commit) is damaged; its vote cannot be recovered safely. */
export class HardStateCorruptionError extends StorageCorruptionError {
  constructor(path: string, offsetBytes: number, problem: string) {
    super('hardStateCorrupt', path, offsetBytes, problem, 'raft hard state file');
  }
}

/** A snapshot file or its meta file is damaged. */
export class SnapshotCorruptionError extends StorageCorruptionError {
  constructor(path: string, offsetBytes: number, problem: string) {
    super('snapshotCorrupt', path, offsetBytes, problem, 'raft snapshot file');
  }
}

/**
 * A record payload that passed its checksum but holds no log entry of this
 * format. The codec does not know the file, so this says only what is wrong;
 * the segment reader turns it into a LogCorruptionError with path and offset.
 */
export class EntryDecodeError extends Error {
  readonly code = 'entryDecode';
  constructor(readonly problem: string) {
    super(`log entry bytes do not decode: ${problem}`);
    this.name = 'EntryDecodeError';
  }
}

/**
 * A store whose write or fsync failed earlier. After a failed fsync the kernel
 * may have dropped the dirty pages, so what is on disk is unknown until the
 * process restarts and recovery reads it back (see "fsyncgate"); retrying
 * would risk acknowledging data that is not there.
 */
export class StoreFailedError extends Error {
  readonly code = 'storeFailed';
  constructor(what: string, cause: unknown) {
    super(
      `${what} failed earlier (${cause instanceof Error ? cause.message : String(cause)}); ` +
        'restart the node so that recovery reads back what is really on disk',
      { cause },
    );
    this.name = 'StoreFailedError';
  }
}

/** The file-system steps whose failure leaves a node's durable state unknown. */
export type DiskStep = 'create' | 'write' | 'fsync' | 'fdatasync' | 'rename' | 'delete' | 'truncate' | 'fsyncDirectory';

/**
 * A write, fsync or directory change the disk refused (EIO, ENOSPC, EROFS,
 * ...). Names the step, the file and the errno, and says what to do. The
 * node stops on it (fail-stop): after a failed fsync the kernel may already
 * have dropped the dirty pages and marked them clean, so a second fsync can
 * succeed without the data being on disk (PostgreSQL's "fsyncgate"); only a
 * restart, reading the files back, learns what they really hold.
 */
export class DiskWriteError extends Error {
  readonly code = 'diskWrite';
  constructor(
    readonly step: DiskStep,
    /** The file (or directory) the step was on. */
    readonly path: string,
    /** The system error code, such as 'EIO' or 'ENOSPC'; null when the error carried none. */
    readonly errno: string | null,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`could not ${step} ${path}: ${reason}; ${diskFaultAdvice(errno, path)}`, { cause });
    this.name = 'DiskWriteError';
  }

  /** Whether the disk is full: free space, and the node recovers as it was. */
  get isDiskFull(): boolean {
    return this.errno === 'ENOSPC' || this.errno === 'EDQUOT';
  }
}

function diskFaultAdvice(errno: string | null, filePath: string): string {
  const directory = path.dirname(filePath);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return (
      `the file system holding ${directory} is full (or the quota is used up): free space there, ` +
      'then start the node again; it recovers from its files and keeps every write it acknowledged'
    );
  }
  if (errno === 'EROFS') {
    return (
      `the file system holding ${directory} is read-only (the kernel remounts it so after disk errors): ` +
      'check the disk, then start the node again'
    );
  }
  return (
    'what the file holds is now unknown, so the node stopped rather than retry: check the disk ' +
    '(dmesg, SMART), then start the node again, and it recovers from what is really on disk; ' +
    'if the disk keeps failing, move the node to a healthy disk (README, "Disk faults")'
  );
}

/** The DiskWriteError behind `error` (itself, or one of its causes), if any. */
export function diskWriteErrorIn(error: unknown): DiskWriteError | null {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current instanceof DiskWriteError) return current;
    current = current.cause;
  }
  return null;
}
