/**
 * What the HTTP server needs of the process it runs in, so that routing,
 * limits and errors are tested over fakes and each kind of node (meta,
 * shard, lone KV group) supplies its own: its status, the cluster view, the
 * keys (through the client library) and the admin commands (through the
 * meta group), or why it has none of them.
 */
import type { ClusterView } from '../../client/cluster-status.js';
import type { GetOptions } from '../../client/kv-operations.js';
import type { GroupId, GroupInfo, ShardConfig } from '../../meta/config.js';
import type { NodeStatus } from '../../node/node-status.js';

/** One client session: KvClient and ShardedKvClient both are one. Calls throw ClientError. */
export interface KvSession {
  get(key: Uint8Array, options?: GetOptions): Promise<Uint8Array | null>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  delete(key: Uint8Array): Promise<boolean>;
  close(): void;
}

/** The meta group's config commands, as MetaClient has them; they throw MetaRefusedError or ClientError. */
export interface MetaAdmin {
  join(groups: readonly GroupInfo[]): Promise<ShardConfig>;
  leave(gids: readonly GroupId[]): Promise<ShardConfig>;
  move(fromBucket: number, toBucket: number, gid: GroupId): Promise<ShardConfig>;
}

/** A part of the API this node does not offer, and where to go for it instead. */
export interface Unavailable {
  readonly unavailable: string;
}

export interface HttpBackend {
  /** This node's Raft state now. */
  status(): NodeStatus;
  /** The config and every member's status; throws ClientError when the meta group does not answer. */
  cluster(): Promise<ClusterView>;
  /** Makes a new client session (with a client id of its own). */
  readonly kv: { newSession(): KvSession } | Unavailable;
  readonly admin: MetaAdmin | Unavailable;
}

export function isUnavailable(part: object): part is Unavailable {
  return 'unavailable' in part;
}
