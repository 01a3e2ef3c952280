/**
 * `raftkv local` as a child process for end-to-end tests: started on a free
 * port range of its own choosing (retried when one is taken), its JSON line
 * read back, stopped with a signal.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { TEST_PORT_HIGH, TEST_PORT_LOW } from './process-group.js';

export const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../../bin/raftkv.js');
/**
 * A cluster's ports span less than 1,000 above its base: bases stay in the tests' range, below
 * the ephemeral ports (see freePort). A taken one makes the command fail and the test retry.
 */
const BASE_PORT_LOW = TEST_PORT_LOW;
const BASE_PORT_HIGH = TEST_PORT_HIGH - 1_000;
const START_ATTEMPTS = 4;

export interface LocalNodeJson {
  readonly id: number;
  readonly address: string;
  readonly http: string;
}

export interface LocalShardNodeJson extends LocalNodeJson {
  readonly resp: string;
}

/** What `raftkv local --json` prints once the cluster serves. */
export interface LocalJson {
  readonly resumed: boolean;
  /** The file with the auth token clients must give (--auth); null without. */
  readonly tokenFile: string | null;
  readonly meta: string;
  readonly metaNodes: readonly LocalNodeJson[];
  readonly groups: readonly { gid: number; members: readonly LocalShardNodeJson[] }[];
}

export interface RunningLocal {
  readonly child: ChildProcess;
  readonly info: LocalJson;
}

/** Starts `raftkv local ... --json` and resolves with its JSON line, or rejects with what it printed on failure. */
export function startLocal(args: readonly string[]): Promise<RunningLocal> {
  const child = spawn(process.execPath, [RAFTKV_BIN, 'local', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve({ child, info: JSON.parse(line) as LocalJson }));
    child.once('exit', (code) => reject(new Error(`raftkv local exited with ${code}: ${stderr}`)));
  });
}

/** Starts a new cluster in `directory` on a random free port range (`args` must not name --base-port). */
export async function startLocalOnFreePorts(directory: string, args: readonly string[] = []): Promise<RunningLocal> {
  for (let attempt = 1; ; attempt++) {
    const basePort = BASE_PORT_LOW + 100 * Math.floor(Math.random() * ((BASE_PORT_HIGH - BASE_PORT_LOW) / 100));
    try {
      return await startLocal(['--dir', directory, '--base-port', String(basePort), ...args]);
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !/cannot be used|EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
