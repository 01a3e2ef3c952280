/**
 * A 3-member etcd cluster on loopback for `npm run bench:compare`: ports
 * picked free, data in a temporary directory, etcd's defaults otherwise
 * (it fsyncs its WAL before it acknowledges a write). Debian's etcd-server
 * 3.4 serves the v3 JSON gateway at /v3/... (3.3 had /v3beta/).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/e2e/support/process-group.js';

/** A fresh cluster elects its leader in a second or two; a loaded machine may take many more. */
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 200;

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  process: ChildProcess | null;
}

export class EtcdCluster {
  /** stderr of every member, to print when the cluster does not come up. */
  readonly output: string[] = [];

  private constructor(
    readonly directory: string,
    readonly members: readonly EtcdMember[],
  ) {}

  static async create(size: number): Promise<EtcdCluster> {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-compare-etcd-'));
    const members: EtcdMember[] = [];
    for (let i = 1; i <= size; i++) {
      members.push({ name: `etcd-${i}`, clientPort: await freePort(), peerPort: await freePort(), process: null });
    }
    return new EtcdCluster(directory, members);
  }

  url(member: EtcdMember): string {
    return `http://127.0.0.1:${member.clientPort}`;
  }

  start(): void {
    const initialCluster = this.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
    for (const member of this.members) {
      const peerUrl = `http://127.0.0.1:${member.peerPort}`;
      const child = spawn(
        'etcd',
        [
          `--name=${member.name}`,
          `--data-dir=${path.join(this.directory, member.name)}`,
          `--listen-client-urls=${this.url(member)}`,
          `--advertise-client-urls=${this.url(member)}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=${initialCluster}`,
          `--initial-cluster-token=${path.basename(this.directory)}`,
          '--initial-cluster-state=new',
          '--logger=zap',
          '--log-level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr?.on('data', (chunk: Buffer) => this.output.push(`[${member.name}] ${chunk.toString('utf8')}`));
      child.once('error', (error) => this.output.push(`[${member.name}] could not start: ${error.message}\n`));
      member.process = child;
    }
  }

  /** Waits until a member names a leader, and returns that member. */
  async waitForLeader(): Promise<EtcdMember> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      for (const member of this.members) {
        if (member.process !== null && member.process.exitCode !== null) {
          throw new Error(`${member.name} exited while starting:\n${this.output.slice(-20).join('')}`);
        }
      }
      const leader = await this.findLeader();
      if (leader !== null) return leader;
      if (Date.now() > deadline) {
        throw new Error(`etcd elected no leader within ${READY_TIMEOUT_MS} ms:\n${this.output.slice(-20).join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** The member whose own id is the leader id that /v3/maintenance/status reports, if any says so. */
  private async findLeader(): Promise<EtcdMember | null> {
    for (const member of this.members) {
      try {
        const response = await fetch(`${this.url(member)}/v3/maintenance/status`, {
          method: 'POST',
          body: '{}',
          signal: AbortSignal.timeout(2_000),
        });
        if (!response.ok) continue;
        // uint64 fields come as decimal strings from the gateway.
        const status = (await response.json()) as { header?: { member_id?: string }; leader?: string };
        if (status.leader !== undefined && status.leader !== '0' && status.leader === status.header?.member_id) {
          return member;
        }
      } catch {
        // Not listening yet, or busy electing: ask again.
      }
    }
    return null;
  }

  /** Kills every member and removes the data; synchronous but for the removal, so an 'exit' handler can call it. */
  killNow(): void {
    for (const member of this.members) {
      const child = member.process;
      if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      member.process = null;
    }
  }

  async close(): Promise<void> {
    const exits = this.members.map((member) => {
      const child = member.process;
      if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => child.once('exit', () => resolve()));
    });
    this.killNow();
    await Promise.all(exits);
    await rm(this.directory, { recursive: true, force: true });
  }
}
