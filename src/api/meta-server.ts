/**
 * One member of the meta (config) group as a server process runs it: the
 * Raft files on disk, the config table in memory (rebuilt on start from the
 * latest snapshot and the log after it: it is small), one TCP port for
 * peers and for the admin and shard clients of the 'meta' service, and the
 * HTTP API when asked for.
 */
import { randomUUID } from 'node:crypto';
import { realClientClock } from '../client/channel.js';
import { MetaClient } from '../client/meta-client.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import type { Logger } from '../log/logger.js';
import { ProcessMetrics } from '../metrics/process-metrics.js';
import { MetaReplica } from '../meta/meta-replica.js';
import { MetaStateMachine } from '../meta/state-machine.js';
import type { DiskNode } from '../node/disk-node.js';
import { openDiskNode } from '../node/disk-node.js';
import type { RaftNode } from '../node/raft-node.js';
import type { NodeId } from '../raft/index.js';
import type { ClientConnectionLimits, GroupService, NodeTls, PeerAddress } from '../transport/index.js';
import { routeServices } from '../transport/index.js';
import type { GroupEndpoint } from './group-endpoint.js';
import { foundingVoters, startGroupEndpoint } from './group-endpoint.js';
import { HttpApiServer } from './http/http-server.js';
import { META_HOLDS_NO_KEYS, shardedClusterBackend } from './http/node-backends.js';

export interface MetaServerOptions {
  readonly id: NodeId;
  /** Every member of the meta group (this one included) with its address. */
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  readonly directory: string;
  /** Joins an existing group instead of founding one with --members (see group-endpoint.ts foundingVoters). */
  readonly join?: boolean;
  readonly clusterId: string;
  /** The cluster's auth token: asked of peers and clients on every port (binary, HTTP) when set. */
  readonly authToken?: string;
  readonly logger: Logger;
  readonly tickMs?: number;
  readonly snapshotEveryEntries?: number;
  /** Where to serve the HTTP API; none when absent. */
  readonly http?: PeerAddress;
  /** Client connections to the member's port: how many, and how long one may idle. */
  readonly clientLimits?: ClientConnectionLimits;
  /** TLS on every port and to peers; plaintext when absent. */
  readonly tls?: NodeTls;
}

/** Admin commands are rare: a snapshot every thousand keeps a restart's replay short. */
const META_SNAPSHOT_EVERY_ENTRIES_DEFAULT = 1_000;

interface MetaMember {
  readonly node: RaftNode;
  readonly disk: DiskNode;
  readonly replica: MetaReplica;
  readonly services: GroupService;
}

export class MetaServer {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly endpoint: GroupEndpoint<MetaMember>,
    private readonly channel: TcpGroupChannel,
    private readonly http: HttpApiServer | null,
    private readonly processMetrics: ProcessMetrics,
  ) {}

  get httpPort(): number | null {
    return this.http?.port ?? null;
  }

  /** This process's metrics, for /metrics and the dashboard. */
  get metrics(): ProcessMetrics {
    return this.processMetrics;
  }

  get replica(): MetaReplica {
    return this.endpoint.member.replica;
  }

  get port(): number {
    return this.endpoint.port;
  }

  static async start(options: MetaServerOptions): Promise<MetaServer> {
    const metrics = new ProcessMetrics();
    const endpoint = await startGroupEndpoint(
      { ...options, onPeerSent: metrics.peerSendObserver },
      async (peers, membership): Promise<MetaMember> => {
        const machine = new MetaStateMachine();
        const disk = await openDiskNode({
          directory: options.directory,
          id: options.id,
          voters: foundingVoters(options),
          membershipListener: membership,
          peers,
          machine,
          snapshotEveryEntries: options.snapshotEveryEntries ?? META_SNAPSHOT_EVERY_ENTRIES_DEFAULT,
          observer: metrics,
          onSync: metrics.syncObserver,
          logger: options.logger,
          ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
        });
        const replica = new MetaReplica(disk.node, machine);
        return { node: disk.node, disk, replica, services: routeServices({ meta: replica }) };
      },
      // A KV client pointed here learns that this node serves the meta group only.
      (member) => member.services,
      (member) => ({ gid: 0, logBytes: member.disk.logBytes(), configVersion: null, bucketsInTransit: [] }),
    );
    // The HTTP API's admin commands and config reads go through the meta group like any client's.
    const channel = new TcpGroupChannel({
      members: options.members,
      clusterId: options.clusterId,
      token: options.authToken,
      logger: options.logger,
      local: { id: options.id, service: endpoint.member.services },
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
    let http: HttpApiServer | null = null;
    if (options.http !== undefined) {
      const backend = shardedClusterBackend({
        self: {
          id: options.id,
          gid: 0,
          clusterId: options.clusterId,
          token: options.authToken,
          status: () => endpoint.status(),
          ...(options.tls === undefined ? {} : { tls: options.tls }),
        },
        meta: options.members,
        newMetaClient: (deadlineMs) =>
          new MetaClient({
            members: [...options.members.keys()],
            channel,
            clock: realClientClock,
            clientId: `http-${randomUUID()}`,
            random: Math.random,
            deadlineMs,
          }),
        kv: { unavailable: META_HOLDS_NO_KEYS },
      });
      http = new HttpApiServer({
        backend,
        logger: options.logger,
        metrics,
        authToken: options.authToken,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      });
      await http.listen(options.http);
    }
    return new MetaServer(endpoint, channel, http, metrics);
  }

  /** Stops serving and closes every file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.http?.close();
      await this.endpoint.close();
      this.channel.close();
      await this.endpoint.member.disk.close();
    })();
    return this.closing;
  }
}
