/**
 * The seam tests fail the disk through. Every durable step of the stores
 * (durable-io.ts) asks the injector first; an injected fault fails the step
 * as the kernel would, with an errno, and a write may first put some of its
 * bytes in the file, as a write that runs out of space does. Unset (always,
 * outside tests) each step costs one comparison with null.
 *
 * Real processes are failed from outside instead, by an LD_PRELOAD shim
 * (test/e2e/support/disk-faults.ts), so this stays a unit-test tool.
 */
import type { DiskStep } from './errors.js';

export interface DiskFault {
  /** The errno the step fails with: 'EIO', 'ENOSPC', ... */
  readonly errno: string;
  /** For a write: how many of its bytes reach the file before it fails (none when absent). */
  readonly bytesWritten?: number;
}

/** Told of each step before it runs; returns the fault to fail it with, or null to let it run. */
export type DiskFaultInjector = (step: DiskStep, filePath: string, sizeBytes: number) => DiskFault | null;

let injector: DiskFaultInjector | null = null;

/** Sets (or with null, clears) the injector for this process; tests clear it when done. */
export function injectDiskFaults(next: DiskFaultInjector | null): void {
  injector = next;
}

/** The fault for this step, if a test injected one. */
export function injectedFault(step: DiskStep, filePath: string, sizeBytes = 0): DiskFault | null {
  return injector === null ? null : injector(step, filePath, sizeBytes);
}

/** An Error shaped like the one Node's fs module throws for `errno`. */
export function errnoError(errno: string, step: DiskStep, filePath: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${errno}: injected fault, ${step} '${filePath}'`);
  error.code = errno;
  error.syscall = step;
  error.path = filePath;
  return error;
}
