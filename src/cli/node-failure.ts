/**
 * How a server process ends when its node cannot go on: after a failed disk
 * write or fsync, after a failure of its state machine, or when its files
 * are corrupt at startup. One structured log line (what failed, the file,
 * what to do), the same in one plain line on stderr, and an exit code that
 * says which it was, so that a supervisor (systemd, Kubernetes, raftkv
 * local) can tell a disk to look at from a bug to report without parsing
 * logs. Codes follow sysexits.h.
 */
import type { Logger } from '../log/logger.js';
import { diskWriteErrorIn, StorageCorruptionError } from '../storage/errors.js';

export const EXIT_CODES = {
  /** EX_IOERR: a write or fsync failed (EIO, ENOSPC, ...). Check or free the disk, then start the node again. */
  diskFailure: 74,
  /** EX_DATAERR: a file is corrupt in a way no crash explains. Restore the node from its peers. */
  corruptData: 65,
  /** EX_SOFTWARE: any other failure of the node or its state machine: a bug. */
  nodeFailure: 70,
} as const;

export type NodeFailureKind = keyof typeof EXIT_CODES;

export function classifyNodeFailure(error: unknown): NodeFailureKind {
  if (diskWriteErrorIn(error) !== null) return 'diskFailure';
  if (corruptionIn(error) !== null) return 'corruptData';
  return 'nodeFailure';
}

/** The StorageCorruptionError behind `error` (itself, or one of its causes), if any. */
function corruptionIn(error: unknown): StorageCorruptionError | null {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current instanceof StorageCorruptionError) return current;
    current = current.cause;
  }
  return null;
}

/** The fields of the log line: the failed step, file and errno when the disk failed. */
function failureFields(error: unknown, kind: NodeFailureKind): object {
  const disk = diskWriteErrorIn(error);
  const fields = { err: error, exitCode: EXIT_CODES[kind] };
  if (disk !== null) return { ...fields, step: disk.step, path: disk.path, errno: disk.errno };
  const corruption = corruptionIn(error);
  if (corruption !== null) return { ...fields, path: corruption.path, offsetBytes: corruption.offsetBytes };
  return fields;
}

const HEADLINES: Record<NodeFailureKind, string> = {
  diskFailure:
    'the node stopped: a disk write or fsync failed, and it never acknowledges what it could not make durable',
  corruptData: 'the node cannot start: its files are corrupt',
  nodeFailure: 'the node stopped: a failure of the node or its state machine leaves its state unknown',
};

/** Logs `error` and exits with its code. The exit handlers pino registers flush the log line first. */
export function exitAfterNodeFailure(name: string, logger: Logger, error: unknown): never {
  const kind = classifyNodeFailure(error);
  logger.error(failureFields(error, kind), HEADLINES[kind]);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${name}: ${HEADLINES[kind]}: ${message} (exit code ${EXIT_CODES[kind]})\n`);
  process.exit(EXIT_CODES[kind]);
}

/**
 * Starts a server; when its files are corrupt or its disk fails while
 * opening them, ends the process as exitAfterNodeFailure does. Any other
 * failure (a port in use, a bad flag) is left to the caller's handling.
 */
export async function startOrExit<T>(name: string, logger: Logger, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (classifyNodeFailure(error) !== 'nodeFailure') exitAfterNodeFailure(name, logger, error);
    throw error;
  }
}
