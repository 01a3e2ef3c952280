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
import type { NodeId } from '../raft/index.js';
import type { PeerAddress } from '../transport/index.js';
import { routeServices, TcpPeerTransport, TcpServer } from '../transport/index.js';
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

export class MemberServer {
  private closing: Promise<void> | null = null;

  private constructor(
    readonly disk: DiskReplica,
    private readonly peers: TcpPeerTransport,
    private readonly server: TcpServer,
    private readonly channel: TcpGroupChannel,
    private readonly resp: RespServer | null,
  ) {}

  get respPort(): number | null {
    return this.resp?.port ?? null;
  }

  get peerPort(): number {
    return this.server.port;
  }

  static async start(options: MemberServerOptions): Promise<MemberServer> {
    const self = options.members.get(options.id);
    if (self === undefined) throw new Error(`member ${options.id} is not in the member list`);
    const logger = options.logger;
    const peers = new TcpPeerTransport({
      selfId: options.id,
      clusterId: options.clusterId,
      peers: new Map([...options.members].filter(([id]) => id !== options.id)),
      logger,
    });
    const disk = await openDiskReplica({
      directory: options.directory,
      id: options.id,
      voters: [...options.members.keys()],
      peers,
      ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
      ...(options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: options.snapshotEveryEntries }),
      ...(options.logKeepEntries === undefined ? {} : { raft: { snapshotCatchUpEntries: options.logKeepEntries } }),
    });
    const replica = disk.replica;
    // A client that asks this port for another service (meta, shard) learns that this node serves kv only.
    const services = routeServices({ kv: replica });
    const server = await TcpServer.start({
      host: self.host,
      port: self.port,
      clusterId: options.clusterId,
      selfId: options.id,
      logger,
      onPeerMessage: (message) => replica.node.receive(message),
      service: services,
    });
    const channel = new TcpGroupChannel({
      members: options.members,
      clusterId: options.clusterId,
      logger,
      local: { id: options.id, service: services },
    });
    let resp: RespServer | null = null;
    if (options.resp !== undefined) {
      resp = new RespServer({
        backend: new ClientBackend({ members: [...options.members.keys()], channel, clock: realClientClock }),
        logger,
      });
      await resp.listen(options.resp);
    }
    return new MemberServer(disk, peers, server, channel, resp);
  }

  /** Stops serving and closes every file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.resp?.close();
      await this.server.close();
      this.channel.close();
      this.peers.close();
      await this.disk.close();
    })();
    return this.closing;
  }
}
