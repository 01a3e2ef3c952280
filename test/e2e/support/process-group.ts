/**
 * A replica group of real `raftkv node` processes on loopback, for end-to-end
 * tests: ports chosen here, data in a temporary directory, and the faults a
 * test injects (SIGKILL and restart, SIGSTOP and SIGCONT). Everything is
 * killed and removed by close().
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { portProblem, waitForPort } from '../../../src/local/ports.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const RAFTKV_BIN = path.join(REPO_ROOT, 'bin', 'raftkv.js');
/** Twelve processes loading the sources at once on a busy 2-core machine have taken over 20 s to listen. */
const START_TIMEOUT_MS = 60_000;

export interface MemberProcess {
  readonly id: number;
  readonly peerPort: number;
  readonly respPort: number;
  /** Where its HTTP API listens, when the group was created with `http`. */
  readonly httpPort: number;
  process: ChildProcess | null;
  stopped: boolean;
}

/**
 * Below Linux's ephemeral range (32768 and up): a port the system picked there could be taken by
 * an outgoing connection, the cluster's own among them, before the node listens on it (seen: a
 * node of a 12-process cluster never started).
 */
export const TEST_PORT_LOW = 10_000;
export const TEST_PORT_HIGH = 32_000;
/** Ports this test process has handed out: never twice, even once their listener is gone. */
const portsHandedOut = new Set<number>();

/** A port below the ephemeral range that nobody listens on right now and this process never handed out. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = TEST_PORT_LOW + Math.floor(Math.random() * (TEST_PORT_HIGH - TEST_PORT_LOW));
    if (portsHandedOut.has(port) || (await portProblem('127.0.0.1', port)) !== null) continue;
    portsHandedOut.add(port);
    return port;
  }
}

/** What a group's user adds to every start of a member, and hears of its members. */
export interface MemberHooks {
  /** Environment for every start of member `id` (a start's own `env` adds to it). */
  readonly envOf?: (id: number) => Readonly<Record<string, string>>;
  /** Member `id` exited without kill() or close() asking it to: it crashed, or stopped itself. */
  readonly onExitOnItsOwn?: (id: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

export class ProcessGroup {
  readonly members = new Map<number, MemberProcess>();
  /** stderr of every process, kept to print when a test fails. */
  readonly output: string[] = [];

  private constructor(
    readonly directory: string,
    readonly clusterId: string,
    /** More flags for every member. */
    private readonly extraFlags: readonly string[],
    /** A KV replica group (`raftkv node`), the meta group (`raftkv meta`) or a shard group (`raftkv shard`). */
    readonly kind: 'node' | 'meta' | 'shard',
    /** Whether members serve the HTTP API (--http on their httpPort). */
    readonly http: boolean,
    /** Flags for node itself, before the script (a benchmark passes --cpu-prof, which NODE_OPTIONS refuses). */
    private readonly nodeFlags: readonly string[],
    /** The port at which member `selfId` reaches peer `peerId` (a fault proxy's); the peer's own when null. */
    private readonly peerPortOf: ((selfId: number, peerId: number) => number) | null,
    private readonly hooks: MemberHooks,
  ) {}

  /**
   * Members get ids idBase+1 .. idBase+size (ids must be unique in a whole
   * sharded cluster); a shard group's extraFlags name its --gid and --meta,
   * and a cluster's groups share one clusterId.
   */
  static async create(
    size: number,
    extraFlags: readonly string[] = [],
    kind: 'node' | 'meta' | 'shard' = 'node',
    placement: {
      idBase?: number;
      clusterId?: string;
      http?: boolean;
      nodeFlags?: readonly string[];
      peerPortOf?: (selfId: number, peerId: number) => number;
      hooks?: MemberHooks;
    } = {},
  ): Promise<ProcessGroup> {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-e2e-'));
    const clusterId = placement.clusterId ?? `e2e-${path.basename(directory)}`;
    const group = new ProcessGroup(
      directory,
      clusterId,
      extraFlags,
      kind,
      placement.http === true,
      placement.nodeFlags ?? [],
      placement.peerPortOf ?? null,
      placement.hooks ?? {},
    );
    const idBase = placement.idBase ?? 0;
    for (let id = idBase + 1; id <= idBase + size; id++) {
      group.members.set(id, {
        id,
        peerPort: await freePort(),
        respPort: await freePort(),
        httpPort: placement.http === true ? await freePort() : 0,
        process: null,
        stopped: false,
      });
    }
    return group;
  }

  /**
   * A new member `id` with ports of its own, for a membership change: it is
   * in membersFlag from now on, and start(id, { flags: ['--join'] }) starts it
   * as a member that joins the running group.
   */
  async addMember(id: number): Promise<MemberProcess> {
    if (this.members.has(id)) throw new Error(`member ${id} exists already`);
    const member: MemberProcess = {
      id,
      peerPort: await freePort(),
      respPort: await freePort(),
      httpPort: this.http ? await freePort() : 0,
      process: null,
      stopped: false,
    };
    this.members.set(id, member);
    return member;
  }

  /** Kills member `id` and forgets it: the group no longer lists it (its data stays until close()). */
  async removeMember(id: number): Promise<void> {
    await this.kill(id);
    this.members.delete(id);
  }

  get ids(): number[] {
    return [...this.members.keys()];
  }

  /** `1=127.0.0.1:P1,2=...` as the --members flag takes it. */
  get membersFlag(): string {
    return [...this.members.values()].map((m) => `${m.id}=127.0.0.1:${m.peerPort}`).join(',');
  }

  /** The --members flag member `selfId` starts with: its own port, and each peer where it should reach that peer. */
  private membersFlagOf(selfId: number): string {
    const portOf = this.peerPortOf;
    if (portOf === null) return this.membersFlag;
    return [...this.members.values()]
      .map((m) => `${m.id}=127.0.0.1:${m.id === selfId ? m.peerPort : portOf(selfId, m.id)}`)
      .join(',');
  }

  member(id: number): MemberProcess {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.start(id)));
  }

  /**
   * Starts member `id` and waits until its ports accept connections; `flags`
   * go after the group's own, `env` adds to this process's environment.
   */
  async start(
    id: number,
    extra: { flags?: readonly string[]; env?: Readonly<Record<string, string>> } = {},
  ): Promise<void> {
    const { flags: moreFlags = [], env = {} } = extra;
    const member = this.member(id);
    const child = spawn(
      process.execPath,
      [
        ...this.nodeFlags,
        RAFTKV_BIN,
        this.kind,
        '--id',
        String(id),
        '--members',
        this.membersFlagOf(id),
        '--dir',
        path.join(this.directory, `node-${id}`),
        ...(this.kind === 'meta' ? [] : ['--resp', `127.0.0.1:${member.respPort}`]),
        ...(this.http ? ['--http', `127.0.0.1:${member.httpPort}`] : []),
        '--cluster-id',
        this.clusterId,
        ...this.extraFlags,
        ...moreFlags,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...this.hooks.envOf?.(id), ...env } },
    );
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(`[node ${id}] ${chunk.toString('utf8')}`));
    // kill() forgets the child before it signals it: a child still remembered exited on its own.
    child.once('exit', (code, signal) => {
      if (member.process === child) this.hooks.onExitOnItsOwn?.(id, code, signal);
    });
    member.process = child;
    member.stopped = false;
    const deadline = Date.now() + START_TIMEOUT_MS;
    const gaveUp = (port: number) => (): string | null => {
      if (child.exitCode !== null || child.signalCode !== null) return `member ${id} exited while starting`;
      return Date.now() > deadline ? `nothing listens on port ${port} after ${START_TIMEOUT_MS} ms` : null;
    };
    const ports = [
      member.peerPort,
      ...(this.kind === 'meta' ? [] : [member.respPort]),
      ...(this.http ? [member.httpPort] : []),
    ];
    try {
      for (const port of ports) await waitForPort('127.0.0.1', port, gaveUp(port));
    } catch (error) {
      member.process = null;
      const output = this.output.filter((line) => line.startsWith(`[node ${id}]`)).join('');
      throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${output}`, { cause: error });
    }
    // A port taken by someone else meanwhile answers waitForPort while our process dies of EADDRINUSE.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (child.exitCode !== null || child.signalCode !== null) {
      member.process = null;
      throw new Error(
        `member ${id} exited while starting:\n${this.output.filter((line) => line.startsWith(`[node ${id}]`)).join('')}`,
      );
    }
  }

  /** SIGKILL: the process dies at once, with whatever it had not written lost. */
  async kill(id: number): Promise<void> {
    const member = this.member(id);
    const child = member.process;
    if (child === null) return;
    member.process = null;
    // A process that already exited fires no second 'exit': waiting for one would hang.
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (member.stopped) child.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  pause(id: number): void {
    const member = this.member(id);
    member.process?.kill('SIGSTOP');
    member.stopped = true;
  }

  resume(id: number): void {
    const member = this.member(id);
    member.process?.kill('SIGCONT');
    member.stopped = false;
  }

  async close(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.kill(id)));
    await rm(this.directory, { recursive: true, force: true });
  }
}
