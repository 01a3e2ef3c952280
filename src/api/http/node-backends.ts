/**
 * The HTTP backend of each kind of node: what it serves of the API and
 * what it sends elsewhere. Statuses of other members are asked over the
 * 'status' service; this node's own is read directly.
 */
import type { AskMember, ClusterView, GroupToAsk } from '../../client/cluster-status.js';
import { clusterView, groupsToAsk } from '../../client/cluster-status.js';
import type { MetaClient } from '../../client/meta-client.js';
import { askNodeStatus, parseAddress, STATUS_TIMEOUT_MS_DEFAULT } from '../../client/status-client.js';
import type { MemberInfo } from '../../meta/config.js';
import type { NodeStatus } from '../../node/node-status.js';
import type { NodeId } from '../../raft/index.js';
import type { ClientTls, PeerAddress } from '../../transport/index.js';
import { formatAddress } from '../../transport/index.js';
import type { HttpBackend, KvSession } from './http-backend.js';

/** How long /v1/cluster waits for the meta group's config: a page should not hang on a down meta group. */
export const CLUSTER_META_DEADLINE_MS = 2_000;
/** How long one key request keeps retrying through elections and moves before it answers 504. */
export const HTTP_KV_DEADLINE_MS = 5_000;
/** Admin commands wait out a meta election or two; `raftkv admin` waits as long by default. */
const ADMIN_DEADLINE_MS = 10_000;

export interface NodeIdentity {
  readonly id: NodeId;
  /** 0 for meta, the shard group's id, null for a lone KV group. */
  readonly gid: number | null;
  readonly clusterId: string;
  /** The cluster's auth token, to ask other members for their status. */
  readonly token?: string;
  readonly status: () => NodeStatus;
  /** How to reach the other members when they speak TLS. */
  readonly tls?: ClientTls;
}

/** Statuses of members: this node's own at once, the others' over the network. */
export function askMembers(self: NodeIdentity): AskMember {
  return (member, group) =>
    member.id === self.id && group.gid === self.gid
      ? Promise.resolve({ ok: true, status: self.status() })
      : askNodeStatus(parseAddress(member.address), {
          clusterId: self.clusterId,
          token: self.token,
          timeoutMs: STATUS_TIMEOUT_MS_DEFAULT,
          ...(self.tls === undefined ? {} : { tls: self.tls }),
        });
}

/** Members as configs write them: id and "host:port" (an IPv6 host in brackets). */
export function memberInfos(members: ReadonlyMap<NodeId, PeerAddress>): MemberInfo[] {
  return [...members].map(([id, address]) => ({ id, address: formatAddress(address) }));
}

/** A node of a sharded cluster (meta or shard): the cluster view comes from the meta group's latest config. */
export function shardedClusterBackend(options: {
  readonly self: NodeIdentity;
  readonly meta: ReadonlyMap<NodeId, PeerAddress>;
  /** A MetaClient of a fresh client id, with `deadlineMs`; closed after use. */
  readonly newMetaClient: (deadlineMs: number) => MetaClient;
  readonly kv: HttpBackend['kv'];
}): HttpBackend {
  const { self } = options;
  const withMeta = async <T>(deadlineMs: number, use: (client: MetaClient) => Promise<T>): Promise<T> => {
    const client = options.newMetaClient(deadlineMs);
    try {
      return await use(client);
    } finally {
      client.close();
    }
  };
  return {
    status: self.status,
    cluster: async (): Promise<ClusterView> => {
      const config = await withMeta(CLUSTER_META_DEADLINE_MS, (client) => client.query());
      return clusterView(config, groupsToAsk(config, memberInfos(options.meta)), askMembers(self));
    },
    kv: options.kv,
    admin: {
      join: (groups) => withMeta(ADMIN_DEADLINE_MS, (client) => client.join(groups)),
      leave: (gids) => withMeta(ADMIN_DEADLINE_MS, (client) => client.leave(gids)),
      move: (from, to, gid) => withMeta(ADMIN_DEADLINE_MS, (client) => client.move(from, to, gid)),
    },
  };
}

/** A member of a lone KV group (`raftkv node`): its group is the whole cluster, and there is no meta group. */
export function loneGroupBackend(options: {
  readonly self: NodeIdentity;
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  readonly newSession: () => KvSession;
}): HttpBackend {
  const group: GroupToAsk = { gid: null, name: 'kv group', members: memberInfos(options.members) };
  return {
    status: options.self.status,
    cluster: () => clusterView(null, [group], askMembers(options.self)),
    kv: { newSession: options.newSession },
    admin: {
      unavailable:
        'this node is a member of a lone KV group (raftkv node), which has no meta group: admin commands ' +
        'are for a sharded cluster (raftkv meta and raftkv shard)',
    },
  };
}

/** What a meta node answers for /v1/kv/: it holds no keys. */
export const META_HOLDS_NO_KEYS =
  'a meta node holds no keys: send /v1/kv/ requests to the HTTP address of a shard node (raftkv shard --http)';
