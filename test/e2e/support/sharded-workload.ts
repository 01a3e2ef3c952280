/** What the end-to-end tests of a sharded cluster share: workload clients, and `raftkv admin` run as a user runs it. */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { realClientClock } from '../../../src/client/channel.js';
import { MetaClient } from '../../../src/client/meta-client.js';
import { ShardedKvClient } from '../../../src/client/sharded-client.js';
import { TcpGroupChannel } from '../../../src/client/tcp-channel.js';
import type { WorkloadClient } from './e2e-workload.js';
import type { ProcessGroup } from './process-group.js';

/** For E2eWorkload's makeClient: the channels it makes go into `channels`, which the workload closes. */
export function shardedWorkloadClient(meta: ProcessGroup): (channels: TcpGroupChannel[]) => WorkloadClient {
  const metaAddresses = new Map(meta.ids.map((id) => [id, { host: '127.0.0.1', port: meta.member(id).peerPort }]));
  return (channels) => {
    const metaChannel = new TcpGroupChannel({ members: metaAddresses, clusterId: meta.clusterId });
    const shardChannel = new TcpGroupChannel({ members: new Map(), clusterId: meta.clusterId });
    channels.push(metaChannel, shardChannel);
    const common = { clock: realClientClock, random: Math.random, deadlineMs: 30_000 };
    return new ShardedKvClient({
      ...common,
      clientId: `e2e-${randomUUID()}`,
      meta: new MetaClient({
        ...common,
        members: meta.ids,
        channel: metaChannel,
        clientId: `e2e-meta-${randomUUID()}`,
      }),
      channel: shardChannel,
      learnAddresses: (members) => shardChannel.learn(members),
    });
  };
}

const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../../bin/raftkv.js');
const run = promisify(execFile);

/** Runs `raftkv admin ARGS` against the meta group (20 s deadline); rejects with the exit code on a failure. */
export function adminCommand(meta: ProcessGroup): (...args: string[]) => Promise<{ stdout: string; stderr: string }> {
  return (...args) => {
    const flags = ['--meta', meta.membersFlag, '--cluster-id', meta.clusterId, '--timeout-ms', '20000'];
    return run(process.execPath, [RAFTKV_BIN, 'admin', ...flags, ...args]);
  };
}
