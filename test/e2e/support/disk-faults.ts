/**
 * Disk faults for real raftkv processes: an LD_PRELOAD shim (disk-fault-shim.c,
 * compiled here with the system's C compiler, once per test process) that
 * makes fsync fail with EIO, or writes fail with ENOSPC, for the files of one
 * member, switched on and off while the process runs. Also: tearing the last
 * record of a stopped member's Raft log by hand.
 *
 *   const faults = await DiskFaults.create(memberDataDirectory);
 *   await group.start(id, { env: faults.env });   // the member runs with the shim
 *   await faults.failFsync();            // its next fsync fails with EIO
 *   await faults.heal();                 // the disk works again
 *   await faults.close();
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { scanSegment } from '../../../src/storage/segment-file.js';

const SHIM_SOURCE = path.join(import.meta.dirname, 'disk-fault-shim.c');
const SWITCH_FSYNC_EIO = 'fsync-eio';
const SWITCH_WRITE_ENOSPC = 'write-enospc';

let shimBuilt: Promise<string> | null = null;

/** Compiles the shim (once per process) and answers the path of the shared library. */
export function diskFaultShim(): Promise<string> {
  shimBuilt ??= (async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-disk-fault-shim-'));
    const library = path.join(directory, 'disk-fault-shim.so');
    const compiler = process.env.CC ?? 'cc';
    try {
      await promisify(execFile)(compiler, ['-shared', '-fPIC', '-O2', '-o', library, SHIM_SOURCE, '-ldl']);
    } catch (error) {
      throw new Error(
        `could not compile the disk fault shim with ${compiler} (install a C compiler, e.g. apt-get install gcc, ` +
          `or point CC at one): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return library;
  })();
  return shimBuilt;
}

export class DiskFaults {
  private constructor(
    /** Files under here fail while a switch is on. */
    readonly dataDirectory: string,
    /** Where the switch files live. */
    private readonly switches: string,
    /** The environment a process needs to run with the shim; pass it to the member's start. */
    readonly env: Readonly<Record<string, string>>,
  ) {}

  static async create(dataDirectory: string): Promise<DiskFaults> {
    const library = await diskFaultShim();
    const switches = await mkdtemp(path.join(os.tmpdir(), 'raftkv-disk-fault-switches-'));
    const env = {
      LD_PRELOAD: library,
      RAFTKV_DISK_FAULT_UNDER: path.resolve(dataDirectory),
      RAFTKV_DISK_FAULT_SWITCHES: switches,
      // libuv may submit file writes and fsyncs to io_uring, which the shim cannot see.
      UV_USE_IO_URING: '0',
    };
    return new DiskFaults(path.resolve(dataDirectory), switches, env);
  }

  /** From now on fsync and fdatasync of the member's files fail with EIO. */
  failFsync(): Promise<void> {
    return this.turnOn(SWITCH_FSYNC_EIO);
  }

  /** From now on the member's file system is full: writes put half their bytes down, then fail with ENOSPC. */
  fillDisk(): Promise<void> {
    return this.turnOn(SWITCH_WRITE_ENOSPC);
  }

  /** The disk works again (space freed, the bad disk replaced). */
  async heal(): Promise<void> {
    await rm(path.join(this.switches, SWITCH_FSYNC_EIO), { force: true });
    await rm(path.join(this.switches, SWITCH_WRITE_ENOSPC), { force: true });
  }

  async close(): Promise<void> {
    await rm(this.switches, { recursive: true, force: true });
  }

  private async turnOn(name: string): Promise<void> {
    await writeFile(path.join(this.switches, name), '');
  }
}

/** The newest segment file of the Raft log in a member's data directory. */
export async function lastLogSegment(dataDirectory: string): Promise<string> {
  const logDirectory = path.join(dataDirectory, 'raft', 'log');
  const segments = (await readdir(logDirectory)).filter((name) => name.endsWith('.log')).sort();
  const last = segments[segments.length - 1];
  if (last === undefined) throw new Error(`no log segment in ${logDirectory}`);
  return path.join(logDirectory, last);
}

/**
 * Writes the first half of a well-formed record after the last record of a
 * stopped member's last log segment (into the zeros the log keeps there, or
 * past the end of the file): what a crash in the middle of a write leaves.
 * Answers the file and the offset where the torn record starts.
 */
export async function tearLogTail(dataDirectory: string): Promise<{ path: string; offsetBytes: number }> {
  const segment = await lastLogSegment(dataDirectory);
  const recordsEndBytes = scanSegment(await readFile(segment)).intactBytes;
  // A record header claiming 64 payload bytes, a checksum, and only part of the payload.
  const torn = Buffer.alloc(8 + 20);
  torn.writeUInt32BE(64, 0);
  torn.writeUInt32BE(0x1234_5678, 4);
  torn.fill(0xab, 8);
  const handle = await open(segment, 'r+');
  try {
    await handle.write(torn, 0, torn.byteLength, recordsEndBytes);
  } finally {
    await handle.close();
  }
  return { path: segment, offsetBytes: recordsEndBytes };
}

/** Flips one byte of a stopped member's log segment at `offsetBytes`: damage no crash explains when records follow. */
export async function flipLogByte(segment: string, offsetBytes: number): Promise<void> {
  const handle = await open(segment, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offsetBytes);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, offsetBytes);
  } finally {
    await handle.close();
  }
}
