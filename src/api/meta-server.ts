/**
 * One member of the meta (config) group as a server process runs it: the
 * Raft files on disk, the config table in memory (rebuilt on start from the
 * latest snapshot and the log after it: it is small), and one TCP port for
 * peers and for the admin and shard clients of the 'meta' service.
 */
import type { Logger } from '../log/logger.js';
import { MetaReplica } from '../meta/meta-replica.js';
import { MetaStateMachine } from '../meta/state-machine.js';
import type { DiskNode } from '../node/disk-node.js';
import { openDiskNode } from '../node/disk-node.js';
import type { NodeId } from '../raft/index.js';
import type { PeerAddress } from '../transport/index.js';
import { routeServices, TcpPeerTransport, TcpServer } from '../transport/index.js';

export interface MetaServerOptions {
  readonly id: NodeId;
  /** Every member of the meta group (this one included) with its address. */
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  readonly directory: string;
  readonly clusterId: string;
  readonly logger: Logger;
  readonly tickMs?: number;
  readonly snapshotEveryEntries?: number;
}

/** Admin commands are rare: a snapshot every thousand keeps a restart's replay short. */
const META_SNAPSHOT_EVERY_ENTRIES_DEFAULT = 1_000;

export class MetaServer {
  private closing: Promise<void> | null = null;

  private constructor(
    readonly replica: MetaReplica,
    private readonly disk: DiskNode,
    private readonly peers: TcpPeerTransport,
    private readonly server: TcpServer,
  ) {}

  get port(): number {
    return this.server.port;
  }

  static async start(options: MetaServerOptions): Promise<MetaServer> {
    const self = options.members.get(options.id);
    if (self === undefined) throw new Error(`member ${options.id} is not in the member list`);
    const logger = options.logger;
    const peers = new TcpPeerTransport({
      selfId: options.id,
      clusterId: options.clusterId,
      peers: new Map([...options.members].filter(([id]) => id !== options.id)),
      logger,
    });
    const machine = new MetaStateMachine();
    const disk = await openDiskNode({
      directory: options.directory,
      id: options.id,
      voters: [...options.members.keys()],
      peers,
      machine,
      snapshotEveryEntries: options.snapshotEveryEntries ?? META_SNAPSHOT_EVERY_ENTRIES_DEFAULT,
      ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
    });
    const replica = new MetaReplica(disk.node, machine);
    const server = await TcpServer.start({
      host: self.host,
      port: self.port,
      clusterId: options.clusterId,
      selfId: options.id,
      logger,
      onPeerMessage: (message) => disk.node.receive(message),
      // A KV client pointed here learns that this node serves the meta group only.
      service: routeServices({ meta: replica }),
    });
    return new MetaServer(replica, disk, peers, server);
  }

  /** Stops serving and closes every file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.server.close();
      this.peers.close();
      await this.disk.close();
    })();
    return this.closing;
  }
}
