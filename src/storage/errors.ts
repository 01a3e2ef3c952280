/**
 * Errors a node's disk can cause. Each names the file and byte offset, so that
 * an operator can look at the damage, and says what to do about it: a node
 * must never guess what bytes it cannot read held, because a guess that drops
 * an acknowledged entry or a vote breaks Raft's safety for the whole group.
 */

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
