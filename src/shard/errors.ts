/**
 * Errors the shard layer throws. Replies to clients and to the group's own
 * driver are values (commands.ts); these are for bytes that cannot be
 * trusted: a command or stored record that does not decode, and a damaged
 * snapshot stream.
 */

/** Bytes that are not a valid command or stored record of this format. */
export class ShardDecodeError extends Error {
  readonly code = 'shardDecode';
  constructor(
    /** What the bytes were meant to be, for the message: "command", "bucket state", ... */
    readonly what: string,
    /** What is wrong with them. */
    readonly problem: string,
  ) {
    super(`shard ${what} bytes do not decode: ${problem}`);
    this.name = 'ShardDecodeError';
  }
}

/** A snapshot stream that fails its checksums, is cut short, or holds a state no group can be in. */
export class ShardSnapshotCorruptionError extends Error {
  readonly code = 'shardSnapshotCorrupt';
  constructor(
    /** Offset in the whole stream (not in one chunk) where the damage starts. */
    readonly offsetBytes: number,
    readonly problem: string,
  ) {
    super(
      `shard snapshot stream is corrupt at byte offset ${offsetBytes}: ${problem}; ` +
        'discard this snapshot and fetch it again from the leader (or take a new one)',
    );
    this.name = 'ShardSnapshotCorruptionError';
  }
}
