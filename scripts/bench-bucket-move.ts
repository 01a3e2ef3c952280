/**
 * `npm run bench:move`: how long one bucket of N keys (100k by default) takes
 * to move between two shard groups while clients keep writing. Not part of
 * npm test.
 *
 * A real cluster on loopback: three meta members and two shard groups of
 * three. The cluster has 2 buckets, both on group 1; N keys of bucket 0 are
 * loaded; then clients write to both buckets while `move 0 2` runs, and a
 * probe reads a key of bucket 0 until group 2 answers it. Prints a table:
 * the move's time until group 2 serves the bucket, and the load's throughput
 * and errors during the move.
 *
 *   npm run bench:move                     100k keys of 100 bytes
 *   npm run bench:move -- --keys 20000     a smaller bucket
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { realClientClock } from '../src/client/channel.js';
import { ClientError } from '../src/client/errors.js';
import { MetaClient } from '../src/client/meta-client.js';
import { ShardedKvClient } from '../src/client/sharded-client.js';
import { TcpGroupChannel } from '../src/client/tcp-channel.js';
import { bucketOf } from '../src/shard/bucket.js';
import { ProcessGroup } from '../test/e2e/support/process-group.js';

const run = promisify(execFile);
const RAFTKV_BIN = path.resolve(import.meta.dirname, '../bin/raftkv.js');
const BUCKETS = 2;
const LOADERS = 64;
const WRITERS_DURING_MOVE = 8;
const VALUE = 'v'.repeat(100);

const { values } = parseArgs({ options: { keys: { type: 'string', default: '100000' } } });
const KEYS = Number(values.keys);
if (!Number.isInteger(KEYS) || KEYS < 1) {
  console.error(`bench:move: --keys takes a positive whole number, got "${values.keys}"`);
  process.exit(2);
}

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

/** Keys k0, k1, ... whose bucket is `bucket`, `count` of them. */
function keysOfBucket(bucket: number, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let n = 0; keys.length < count; n++) {
    const key = `${prefix}${n}`;
    if (bucketOf(Buffer.from(key), BUCKETS) === bucket) keys.push(key);
  }
  return keys;
}

async function main(): Promise<void> {
  const groups: ProcessGroup[] = [];
  const channels: TcpGroupChannel[] = [];
  const cleanup = async (): Promise<void> => {
    for (const channel of channels) channel.close();
    await Promise.all(groups.map((group) => group.close()));
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const meta = await ProcessGroup.create(3, [], 'meta');
    groups.push(meta);
    const clusterId = meta.clusterId;
    for (const gid of [1, 2]) {
      groups.push(
        await ProcessGroup.create(3, ['--gid', String(gid), '--meta', meta.membersFlag], 'shard', {
          idBase: gid * 10,
          clusterId,
        }),
      );
    }
    const [one, two] = [groups[1]!, groups[2]!];
    await Promise.all(groups.map((group) => group.startAll()));
    const admin = async (...args: string[]): Promise<void> => {
      await run(process.execPath, [
        RAFTKV_BIN,
        'admin',
        '--meta',
        meta.membersFlag,
        '--cluster-id',
        clusterId,
        ...args,
      ]);
    };
    await admin('join', '1', one.membersFlag, '--buckets', String(BUCKETS));
    await admin('join', '2', two.membersFlag);
    await admin('move', `0-${BUCKETS - 1}`, '1');

    const metaAddresses = new Map(meta.ids.map((id) => [id, { host: '127.0.0.1', port: meta.member(id).peerPort }]));
    const newClient = (): ShardedKvClient => {
      const metaChannel = new TcpGroupChannel({ members: metaAddresses, clusterId });
      const shardChannel = new TcpGroupChannel({ members: new Map(), clusterId });
      channels.push(metaChannel, shardChannel);
      const common = { clock: realClientClock, random: Math.random, deadlineMs: 60_000 };
      return new ShardedKvClient({
        ...common,
        clientId: `bench-${randomUUID()}`,
        meta: new MetaClient({ ...common, members: meta.ids, channel: metaChannel, clientId: `bench-${randomUUID()}` }),
        channel: shardChannel,
        learnAddresses: (members) => shardChannel.learn(members),
      });
    };

    const moving = keysOfBucket(0, KEYS, 'k');
    const loadStartMs = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: LOADERS }, async () => {
        const client = newClient();
        while (next < moving.length) {
          const key = moving[next++]!;
          await client.put(key, VALUE);
        }
      }),
    );
    const loadSeconds = (performance.now() - loadStartMs) / 1000;
    process.stderr.write(`bench:move: loaded ${KEYS} keys of bucket 0 in ${loadSeconds.toFixed(1)} s\n`);

    // Load during the move: writers on both buckets (bucket 0's wait while it moves).
    const staying = keysOfBucket(1, 1000, 's');
    let writes = 0;
    let errors = 0;
    let stop = false;
    const writers = Array.from({ length: WRITERS_DURING_MOVE }, async (_, index) => {
      const client = newClient();
      for (let n = 0; !stop; n++) {
        const key = index % 2 === 0 ? staying[n % staying.length]! : moving[n % moving.length]!;
        try {
          await client.put(key, `w${n}`);
          writes++;
        } catch (error) {
          if (!(error instanceof ClientError)) throw error;
          errors++;
        }
      }
    });
    await sleep(1_000);
    const probe = newClient();
    const moveStartMs = performance.now();
    const writesBefore = writes;
    await admin('move', '0', '2');
    const configSeconds = (performance.now() - moveStartMs) / 1000;
    // The probe's read is answered only once a group serves bucket 0: after the move, group 2.
    await probe.get(moving[0]!);
    const servedSeconds = (performance.now() - moveStartMs) / 1000;
    const writesDuring = writes - writesBefore;
    stop = true;
    await Promise.all(writers);

    console.table([
      {
        'keys in the bucket': KEYS,
        'value bytes': VALUE.length,
        'config change (s)': Number(configSeconds.toFixed(2)),
        'served by the new group after (s)': Number(servedSeconds.toFixed(2)),
        'writes during the move': writesDuring,
        'writes/s during the move': Math.round(writesDuring / servedSeconds),
        'write errors': errors,
      },
    ]);
  } finally {
    await cleanup();
  }
}

await main();
