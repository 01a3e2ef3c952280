/**
 * One member of a KV replica group as a server process runs it: the replica
 * on disk, the peer transport, the TCP listener that serves peers and
 * binary-protocol clients on one port, and the RESP listener for Redis
 * clients. Requests that reach a follower are forwarded to the leader by the
 * client library, which talks to this process's own replica directly.
 */
import { ClientBackend } from './client-backend.js';
import { realClientClock } from '../client/channel.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import type { DiskReplica } from '../kv/disk-replica.js';
import { openDiskReplica } from '../kv/disk-replica.js';
import type { Logger } from '../log/logger.js';
import type { RaftNode } from '../node/raft-node.js';
import type { NodeId } from '../raft/index.js';
import type { PeerAddress } from '../transport/index.js';
import type { GroupService } from '../transport/index.js';
import { routeServices } from '../transport/index.js';
import type { GroupEndpoint } from './group-endpoint.js';
import { startGroupEndpoint } from './group-endpoint.js';
import { RespServer } from './resp/resp-server.js';

export interface MemberServerOptions {
  readonly id: NodeId;
  /** Every member of the group (this one included) with its peer address. */
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  readonly directory: string;
  /** Where to serve the Redis protocol; none when absent. */
  readonly resp?: PeerAddress;
  /** Peers and clients must present it: it keeps two clusters on one network apart. */
  readonly clusterId: string;
  readonly logger: Logger;
  readonly tickMs?: number;
  readonly snapshotEveryEntries?: number;
  /** Log entries kept behind a snapshot, so that a member a little behind catches up without one. */
  readonly logKeepEntries?: number;
}

interface KvMember {
  readonly node: RaftNode;
  readonly disk: DiskReplica;
  readonly services: GroupService;
}

export class MemberServer {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly endpoint: GroupEndpoint<KvMember>,
    private readonly channel: TcpGroupChannel,
    private readonly resp: RespServer | null,
  ) {}

  get disk(): DiskReplica {
    return this.endpoint.member.disk;
  }

  get respPort(): number | null {
    return this.resp?.port ?? null;
  }

  get peerPort(): number {
    return this.endpoint.port;
  }

  static async start(options: MemberServerOptions): Promise<MemberServer> {
    const logger = options.logger;
    const endpoint = await startGroupEndpoint(
      options,
      async (peers): Promise<KvMember> => {
        const disk = await openDiskReplica({
          directory: options.directory,
          id: options.id,
          voters: [...options.members.keys()],
          peers,
          ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
          ...(options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: options.snapshotEveryEntries }),
          ...(options.logKeepEntries === undefined ? {} : { raft: { snapshotCatchUpEntries: options.logKeepEntries } }),
        });
        // A client that asks this port for another service (meta, shard) learns that this node serves kv only.
        return { node: disk.replica.node, disk, services: routeServices({ kv: disk.replica }) };
      },
      (member) => member.services,
    );
    const channel = new TcpGroupChannel({
      members: options.members,
      clusterId: options.clusterId,
      logger,
      local: { id: options.id, service: endpoint.member.services },
    });
    let resp: RespServer | null = null;
    if (options.resp !== undefined) {
      resp = new RespServer({
        backend: ClientBackend.forGroup([...options.members.keys()], channel, realClientClock),
        logger,
        role: 'kv group member',
      });
      await resp.listen(options.resp);
    }
    return new MemberServer(endpoint, channel, resp);
  }

  /** Stops serving and closes every file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.resp?.close();
      await this.endpoint.close();
      this.channel.close();
      await this.endpoint.member.disk.close();
    })();
    return this.closing;
  }
}
