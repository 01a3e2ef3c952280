/**
 * `npm run bench:restart`: how long a member holding many keys takes to
 * serve again after it restarts (issue 6: one million keys, within 5 s).
 *
 *   npm run bench:restart                          1,000,000 keys of 128 bytes
 *   npm run bench:restart -- --keys 100000 --value-bytes 256
 *   npm run bench:restart -- --data /tmp/restart-1m   load once, keep the members' directories there;
 *                                                      later runs with the same --data skip the load
 *
 * Starts a group of three `raftkv node` processes, writes the keys through
 * the leader's RESP port (many connections, each a session with one write
 * in flight), then:
 *
 *   1. kills one follower with SIGKILL and starts it again, while the others
 *      serve: until its ports listen, until it answers a stale read of the
 *      first key from its own state, until a linearizable read through it is
 *      answered, until it has applied everything the leader had committed;
 *   2. kills all three and starts them again: until their ports listen, and
 *      until the first linearizable read is answered.
 *
 * Prints the times and the members' log and snapshot positions; everything
 * it started is killed and removed at the end.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ProcessGroup } from '../test/e2e/support/process-group.js';
import type { MemberStatus } from './measure/group-http.js';
import { groupLeader, memberStatus, readKey, waitFor } from './measure/group-http.js';

const USAGE =
  'usage: npm run bench:restart -- [--keys <n>] [--value-bytes <n>] [--connections <n>] [--load-seconds <s>] ' +
  '[--data <dir>]';
/** What --data keeps beside the members' directories: the cluster id they were written with, and the load. */
const SAVED_FILE = 'bench-restart.json';

interface SavedLoad {
  readonly clusterId: string;
  readonly written: number;
  readonly valueBytes: number;
}
const GROUP_SIZE = 3;
const LEADER_WAIT_MS = 60_000;
/** A restarted member that is not serving after this long has failed the measurement outright. */
const SERVE_WAIT_MS = 300_000;
/** Writes each connection keeps queued (the server runs them one after another; a queue keeps it busy). */
const PIPELINE_DEPTH = 8;
const PROGRESS_EVERY_MS = 5_000;
const WRITE_ATTEMPTS_MAX = 5;

const keyOf = (index: number): string => `key:${String(index).padStart(8, '0')}`;

/** Writes keys 0.. until `keys` are written or `secondsMax` pass; answers how many, and how long it took. */
async function load(
  port: number,
  keys: number,
  valueBytes: number,
  connections: number,
  secondsMax: number,
): Promise<{ written: number; seconds: number }> {
  const value = Buffer.alloc(valueBytes, 'v');
  const startMs = performance.now();
  const stopAtMs = startMs + secondsMax * 1000;
  let next = 0;
  let written = 0;
  const progress = setInterval(() => {
    const seconds = (performance.now() - startMs) / 1000;
    process.stderr.write(`restart: loaded ${written} of ${keys} keys (${(written / seconds).toFixed(0)}/s)\n`);
  }, PROGRESS_EVERY_MS);
  const writer = async (): Promise<void> => {
    const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, lazyConnect: true });
    await redis.connect();
    try {
      while (next < keys && performance.now() < stopAtMs) {
        const batch: number[] = [];
        while (batch.length < PIPELINE_DEPTH && next < keys) batch.push(next++);
        // A write that timed out on an overloaded machine is written again: the same key and value.
        for (let attempt = 1; batch.length > 0; attempt++) {
          const pipeline = redis.pipeline();
          for (const index of batch) pipeline.set(keyOf(index), value);
          const results = (await pipeline.exec()) ?? [];
          const failed = batch.filter((_, at) => results[at]?.[0] != null);
          written += batch.length - failed.length;
          if (failed.length > 0 && attempt >= WRITE_ATTEMPTS_MAX) {
            throw new Error(`a SET failed ${attempt} times: ${String(results.find(([error]) => error)?.[0])}`);
          }
          batch.splice(0, batch.length, ...failed);
        }
      }
    } finally {
      redis.disconnect();
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, writer));
  } finally {
    clearInterval(progress);
  }
  return { written, seconds: (performance.now() - startMs) / 1000 };
}

function describe(status: MemberStatus | null): string {
  if (status === null) return 'no status';
  return (
    `applied ${status.appliedIndex}, last ${status.lastIndex}, snapshot at ${status.snapshotIndex}, ` +
    `log ${(status.logBytes / 2 ** 20).toFixed(1)} MiB`
  );
}

async function timed<T>(startMs: number, what: string, step: Promise<T>): Promise<T> {
  const result = await step;
  process.stdout.write(`  ${what}: ${((performance.now() - startMs) / 1000).toFixed(2)} s\n`);
  return result;
}

async function restartFollower(group: ProcessGroup, leader: number, firstKey: string): Promise<void> {
  const follower = group.ids.find((id) => id !== leader)!;
  const { httpPort } = group.member(follower);
  process.stdout.write(`member ${follower} (a follower) before: ${describe(await memberStatus(httpPort))}\n`);
  await group.kill(follower);
  const committed = (await memberStatus(group.member(leader).httpPort))?.commitIndex ?? 0;
  process.stdout.write(`member ${follower} killed (SIGKILL) and started again; from the start:\n`);
  const startMs = performance.now();
  await timed(startMs, 'its ports listen', group.start(follower));
  await timed(
    startMs,
    'a stale read answered from its own state',
    waitFor('a stale read', SERVE_WAIT_MS, () => readKey(httpPort, firstKey, true)),
  );
  await timed(
    startMs,
    'a linearizable read through it answered',
    waitFor('a linearizable read', SERVE_WAIT_MS, () => readKey(httpPort, firstKey, false)),
  );
  await timed(
    startMs,
    `it applied all the leader had committed (${committed})`,
    waitFor('catching up', SERVE_WAIT_MS, async () => {
      const status = await memberStatus(httpPort);
      return status !== null && status.appliedIndex >= committed ? status : null;
    }),
  );
}

async function restartGroup(group: ProcessGroup, firstKey: string): Promise<void> {
  await Promise.all(group.ids.map((id) => group.kill(id)));
  process.stdout.write(`all ${GROUP_SIZE} members killed (SIGKILL) and started again; from the start:\n`);
  const startMs = performance.now();
  await timed(startMs, 'their ports listen', group.startAll());
  const leader = await timed(startMs, 'a leader is known', groupLeader(group, SERVE_WAIT_MS));
  const { httpPort } = group.member(leader);
  await timed(
    startMs,
    `the first linearizable read answered (on the leader, member ${leader})`,
    waitFor('a linearizable read', SERVE_WAIT_MS, () => readKey(httpPort, firstKey, false)),
  );
  for (const id of group.ids) {
    process.stdout.write(`member ${id}: ${describe(await memberStatus(group.member(id).httpPort))}\n`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      keys: { type: 'string', default: '1000000' },
      'value-bytes': { type: 'string', default: '128' },
      connections: { type: 'string', default: '256' },
      'load-seconds': { type: 'string', default: '3600' },
      data: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const keys = Number(values.keys);
  const valueBytes = Number(values['value-bytes']);
  const connections = Number(values.connections);
  const loadSeconds = Number(values['load-seconds']);
  for (const [name, value] of [
    ['keys', keys],
    ['value-bytes', valueBytes],
    ['connections', connections],
    ['load-seconds', loadSeconds],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} takes a positive integer\n${USAGE}`);
  }
  const saved = values.data === undefined ? null : await readSaved(values.data);
  const group = await ProcessGroup.create(GROUP_SIZE, [], 'node', {
    http: true,
    ...(saved === null ? {} : { clusterId: saved.clusterId }),
  });
  const stop = (): void => {
    void group.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    if (saved !== null && values.data !== undefined) {
      await copyMembers(values.data, group.directory);
      process.stdout.write(
        `${saved.written} keys of ${saved.valueBytes} bytes, as loaded before, from ${values.data}\n`,
      );
    }
    await group.startAll();
    let leader = await groupLeader(group, LEADER_WAIT_MS);
    if (saved === null) {
      process.stderr.write(`restart: writing ${keys} keys of ${valueBytes} bytes to member ${leader}\n`);
      const loaded = await load(group.member(leader).respPort, keys, valueBytes, connections, loadSeconds);
      const { written, seconds } = loaded;
      process.stdout.write(
        `loaded ${written} keys of ${valueBytes} bytes in ${seconds.toFixed(0)} s (${(written / seconds).toFixed(0)}/s) ` +
          `over ${connections} RESP connections to the leader` +
          (written < keys ? ` (stopped by --load-seconds ${loadSeconds}, short of ${keys})` : '') +
          '\n',
      );
      if (values.data !== undefined) {
        // Killed as the measurement kills them: what is kept is what a crash leaves.
        await Promise.all(group.ids.map((id) => group.kill(id)));
        await saveMembers(group.directory, values.data, { clusterId: group.clusterId, written, valueBytes });
        process.stdout.write(`the members' directories are kept in ${values.data} for later runs\n`);
        await group.startAll();
        leader = await groupLeader(group, LEADER_WAIT_MS);
      }
    }
    await restartFollower(group, leader, keyOf(0));
    await restartGroup(group, keyOf(0));
  } finally {
    await group.close();
  }
}

async function readSaved(directory: string): Promise<SavedLoad | null> {
  try {
    return JSON.parse(await readFile(path.join(directory, SAVED_FILE), 'utf8')) as SavedLoad;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function copyMembers(from: string, to: string): Promise<void> {
  for (let id = 1; id <= GROUP_SIZE; id++) {
    await cp(path.join(from, `node-${id}`), path.join(to, `node-${id}`), { recursive: true });
  }
}

async function saveMembers(from: string, to: string, saved: SavedLoad): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await mkdir(to, { recursive: true });
  await copyMembers(from, to);
  await writeFile(path.join(to, SAVED_FILE), `${JSON.stringify(saved)}\n`);
}

await main();
