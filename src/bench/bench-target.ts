/**
 * The cluster a benchmark runs against, as a source of clients: one replica
 * group (KvClient) or a sharded cluster found through its meta group
 * (ShardedKvClient). Clients share the target's connections: one per member.
 */
import { randomUUID } from 'node:crypto';
import { realClientClock } from '../client/channel.js';
import { KvClient } from '../client/kv-client.js';
import { MetaClient } from '../client/meta-client.js';
import { ShardedKvClient } from '../client/sharded-client.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import type { TcpGroupChannelOptions } from '../client/tcp-channel.js';
import type { NodeId } from '../raft/index.js';
import type { ClientTls, PeerAddress } from '../transport/index.js';

/** What a benchmark needs of a client; one client runs one call at a time. */
export interface BenchClient {
  get(key: Uint8Array): Promise<Uint8Array | null>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  close(): void;
}

export interface BenchTarget {
  /** `group of 3 members` or `cluster with 3 meta members`, for the report. */
  readonly description: string;
  /** A client whose calls fail with deadlineExceeded after `deadlineMs`. */
  newClient(deadlineMs: number): BenchClient;
  /** Closes the connections; the clients made are the caller's to close first. */
  close(): void;
}

export type TargetAddresses =
  | { readonly kind: 'members'; readonly members: ReadonlyMap<NodeId, PeerAddress> }
  | { readonly kind: 'meta'; readonly meta: ReadonlyMap<NodeId, PeerAddress> };

/** Where the cluster is, which cluster it is, its auth token when its nodes ask for one, and TLS when they speak it. */
export interface TargetCluster {
  readonly clusterId: string;
  readonly token?: string | undefined;
  readonly tls?: ClientTls | undefined;
}

export function connectTarget(addresses: TargetAddresses, cluster: TargetCluster): BenchTarget {
  switch (addresses.kind) {
    case 'members':
      return groupTarget(addresses.members, cluster);
    case 'meta':
      return shardedTarget(addresses.meta, cluster);
    default: {
      const never: never = addresses;
      throw new Error(`connectTarget: unknown target ${JSON.stringify(never)}`);
    }
  }
}

function clientOptions(deadlineMs: number) {
  return { clock: realClientClock, clientId: `bench-${randomUUID()}`, random: Math.random, deadlineMs };
}

function groupTarget(members: ReadonlyMap<NodeId, PeerAddress>, cluster: TargetCluster): BenchTarget {
  const channel = new TcpGroupChannel({ members, ...channelOptions(cluster) });
  return {
    description: `group of ${plural(members.size, 'member')}`,
    newClient: (deadlineMs) => new KvClient({ ...clientOptions(deadlineMs), members: [...members.keys()], channel }),
    close: () => channel.close(),
  };
}

function shardedTarget(meta: ReadonlyMap<NodeId, PeerAddress>, cluster: TargetCluster): BenchTarget {
  const metaChannel = new TcpGroupChannel({ members: meta, ...channelOptions(cluster) });
  // Shard members are learnt from the configs the clients fetch.
  const shardChannel = new TcpGroupChannel({ members: new Map(), ...channelOptions(cluster) });
  return {
    description: `sharded cluster with ${plural(meta.size, 'meta member')}`,
    newClient: (deadlineMs) => {
      // A MetaClient is one session, whose calls queue: one per client, so that config refreshes do not wait on each other.
      const metaClient = new MetaClient({
        ...clientOptions(deadlineMs),
        members: [...meta.keys()],
        channel: metaChannel,
      });
      const client = new ShardedKvClient({
        ...clientOptions(deadlineMs),
        meta: metaClient,
        channel: shardChannel,
        learnAddresses: (learnt) => shardChannel.learn(learnt),
      });
      return {
        get: (key) => client.get(key),
        put: (key, value) => client.put(key, value),
        close: () => {
          client.close();
          metaClient.close();
        },
      };
    },
    close: () => {
      metaChannel.close();
      shardChannel.close();
    },
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** What every channel of a target is opened with (exactOptionalPropertyTypes: no undefined fields). */
function channelOptions(cluster: TargetCluster): Pick<TcpGroupChannelOptions, 'clusterId' | 'token' | 'tls'> {
  return {
    clusterId: cluster.clusterId,
    ...(cluster.token === undefined ? {} : { token: cluster.token }),
    ...(cluster.tls === undefined ? {} : { tls: cluster.tls }),
  };
}
