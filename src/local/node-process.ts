/**
 * One node of a local cluster as a child process: `raftkv meta` or `raftkv
 * shard`, its output appended to a log file of its own, started and stopped
 * by the supervisor. Each node is a process, as in production, so that the
 * nodes use every core and one crashing does not take the others with it.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { STOP_WITH_PARENT_ENV } from '../cli/process-lifecycle.js';
import { waitForPort } from './ports.js';

const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../bin/raftkv.js');
/** A node loads the TypeScript sources, opens its store and replays its log: generous on a busy 2-core machine. */
const START_TIMEOUT_MS = 60_000;
/** A node that ignores SIGTERM this long is killed: closing flushes and fsyncs, which takes milliseconds. */
const STOP_TIMEOUT_MS = 10_000;
/** How much of a node's log a start failure quotes. */
const LOG_TAIL_LINES = 8;

export interface NodeProcessOptions {
  /** For people: "meta 1", "group 2 node 21". */
  readonly name: string;
  /** The raftkv subcommand and its flags. */
  readonly args: readonly string[];
  readonly logFile: string;
  readonly host: string;
  /** Ports the node listens on once it serves; start() waits for all of them. */
  readonly ports: readonly number[];
  /** Called when the process ends without stop() having been asked. */
  readonly onUnexpectedExit: (description: string) => void;
}

export class NodeProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: NodeProcessOptions) {}

  get name(): string {
    return this.options.name;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  /** Starts the process and waits until every port of it accepts connections; throws with its log's tail if it dies first. */
  async start(): Promise<void> {
    const { args, logFile, host, ports } = this.options;
    const logFd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      // stdin is a pipe only so that the node notices when this process dies (see STOP_WITH_PARENT_ENV).
      child = spawn(process.execPath, [RAFTKV_BIN, ...args], {
        stdio: ['pipe', logFd, logFd],
        env: { ...process.env, [STOP_WITH_PARENT_ENV]: '1' },
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(logFd);
    }
    this.child = child;
    this.stopping = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.child = null;
        if (!this.stopping) this.options.onUnexpectedExit(describeExit(code, signal));
        resolve();
      }),
    );
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const port of ports) {
      await waitForPort(host, port, () => {
        if (this.child !== child)
          return `${this.name} exited while starting; the end of ${logFile}:\n${this.logTail()}`;
        if (Date.now() > deadline) return `${this.name} did not listen on port ${port} within ${START_TIMEOUT_MS} ms`;
        return null;
      });
    }
  }

  /** SIGTERM, then SIGKILL if it has not ended after STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.stopping = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private logTail(): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${code ?? 'unknown'}` : `was killed by ${signal}`;
}
