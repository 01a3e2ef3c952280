/**
 * Errors the kv layer throws. Replies to clients are values (see commands.ts);
 * these are for bytes that cannot be trusted: a command or reply that does not
 * decode, and a snapshot stream that is damaged.
 */

/**
 * What a node does about a damaged snapshot stream: the snapshot is worthless,
 * the peers still have the state. (What the restore left behind, old state or
 * an empty one at index 0, depends on where the damage was: see
 * KvStateMachine.restoreFromSnapshot.)
 */
export const FETCH_SNAPSHOT_AGAIN_ADVICE =
  'discard this snapshot and fetch it again from the leader (or take a new one)';

/** Bytes that are not a valid command, reply or stored record of this format. */
export class KvDecodeError extends Error {
  readonly code = 'kvDecode';
  constructor(
    /** What the bytes were meant to be, for the message: "command", "reply", ... */
    readonly what: string,
    /** What is wrong with them. */
    readonly problem: string,
  ) {
    super(`${what} bytes do not decode: ${problem}`);
    this.name = 'KvDecodeError';
  }
}

/** A snapshot stream that fails its checksums, is cut short or does not follow the format. */
export class KvSnapshotCorruptionError extends Error {
  readonly code = 'kvSnapshotCorrupt';
  constructor(
    /** Offset in the whole stream (not in one chunk) where the damage starts. */
    readonly offsetBytes: number,
    readonly problem: string,
  ) {
    super(`kv snapshot stream is corrupt at byte offset ${offsetBytes}: ${problem}; ${FETCH_SNAPSHOT_AGAIN_ADVICE}`);
    this.name = 'KvSnapshotCorruptionError';
  }
}
