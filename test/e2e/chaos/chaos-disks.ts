/**
 * The disks of a chaos cluster: every member runs with the disk fault shim
 * (test/e2e/support/disk-faults.ts) on its whole data directory from its
 * first start, so that the nemesis can break the disk of any of them. Knows
 * which disks are broken right now: a member that exits with the disk
 * failure code while its disk is broken did what it should.
 */
import path from 'node:path';
import { DiskFaults } from '../support/disk-faults.js';

export type DiskBreak = 'fsync-eio' | 'enospc';

export class ChaosDisks {
  private readonly faults = new Map<number, DiskFaults>();
  private readonly broken = new Set<number>();

  /** Member `id` keeps its data under `dataDirectory`; call before its first start. */
  async add(id: number, dataDirectory: string): Promise<void> {
    this.faults.set(id, await DiskFaults.create(path.resolve(dataDirectory)));
  }

  /** The environment every start of member `id` needs. */
  envOf(id: number): Readonly<Record<string, string>> {
    return this.of(id).env;
  }

  /** From now on member `id`'s fsyncs fail with EIO, or its disk is full. */
  async break(id: number, how: DiskBreak): Promise<void> {
    this.broken.add(id);
    await (how === 'fsync-eio' ? this.of(id).failFsync() : this.of(id).fillDisk());
  }

  async heal(id: number): Promise<void> {
    await this.of(id).heal();
    this.broken.delete(id);
  }

  isBroken(id: number): boolean {
    return this.broken.has(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.faults.values()].map((faults) => faults.close()));
  }

  private of(id: number): DiskFaults {
    const faults = this.faults.get(id);
    if (faults === undefined) throw new Error(`no disk fault switches for node ${id}: add() it before it starts`);
    return faults;
  }
}
