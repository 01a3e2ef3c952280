/**
 * Errors the meta layer throws. Replies to admins are values (commands.ts);
 * these are for bytes that cannot be trusted: a command or reply that does
 * not decode, and a snapshot stream that does not follow the format.
 */

/** Bytes that are not a valid command, reply or snapshot record of this format. */
export class MetaDecodeError extends Error {
  readonly code = 'metaDecode';
  constructor(
    /** What is wrong, starting with the path of the field: "command.groups[0].gid: ...". */
    readonly problem: string,
  ) {
    super(`meta bytes do not decode: ${problem}`);
    this.name = 'MetaDecodeError';
  }
}

/** A snapshot stream that is cut short, names another index, or holds something out of place. */
export class MetaSnapshotCorruptionError extends Error {
  readonly code = 'metaSnapshotCorrupt';
  constructor(readonly problem: string) {
    super(
      `meta snapshot is corrupt: ${problem}; the state was left as it was: ` +
        'discard this snapshot and fetch it again from the leader (or take a new one)',
    );
    this.name = 'MetaSnapshotCorruptionError';
  }
}
