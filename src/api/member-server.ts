/**
 * One member of a KV replica group as a server process runs it: the replica
 * on disk, the peer transport, the TCP listener that serves peers and
 * binary-protocol clients on one port, the RESP listener for Redis
 * clients and the HTTP API. Requests that reach a follower are forwarded to the leader by the
 * client library, which talks to this process's own replica directly.
 */
import { randomUUID } from 'node:crypto';
import { ClientBackend } from './client-backend.js';
import { KvClient } from '../client/kv-client.js';
import { realClientClock } from '../client/channel.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import type { DiskReplica } from '../kv/disk-replica.js';
import { openDiskReplica } from '../kv/disk-replica.js';
import type { Logger } from '../log/logger.js';
import { ProcessMetrics } from '../metrics/process-metrics.js';
import type { RaftNode } from '../node/raft-node.js';
import type { NodeId } from '../raft/index.js';
import type { ClientConnectionLimits, NodeTls, PeerAddress } from '../transport/index.js';
import type { GroupService } from '../transport/index.js';
import { routeServices } from '../transport/index.js';
import type { GroupEndpoint } from './group-endpoint.js';
import { foundingVoters, startGroupEndpoint } from './group-endpoint.js';
import { HttpApiServer } from './http/http-server.js';
import { HTTP_KV_DEADLINE_MS, loneGroupBackend } from './http/node-backends.js';
import { RespServer } from './resp/resp-server.js';

export interface MemberServerOptions {
  readonly id: NodeId;
  /** Every member of the group (this one included) with its peer address. */
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  readonly directory: string;
  /** Joins an existing group instead of founding one with --members (see group-endpoint.ts foundingVoters). */
  readonly join?: boolean;
  /** Where to serve the Redis protocol; none when absent. */
  readonly resp?: PeerAddress;
  /** Peers and clients must present it: it keeps two clusters on one network apart. */
  readonly clusterId: string;
  /** The cluster's auth token: asked of peers and clients on every port (binary, RESP, HTTP) when set. */
  readonly authToken?: string;
  readonly logger: Logger;
  readonly tickMs?: number;
  readonly snapshotEveryEntries?: number;
  /** Log entries kept behind a snapshot, so that a member a little behind catches up without one. */
  readonly logKeepEntries?: number;
  /** Where to serve the HTTP API; none when absent. */
  readonly http?: PeerAddress;
  /** Client connections to the member's port: how many, and how long one may idle. */
  readonly clientLimits?: ClientConnectionLimits;
  /** TLS on every port and to peers; plaintext when absent. */
  readonly tls?: NodeTls;
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
    const metrics = new ProcessMetrics();
    const endpoint = await startGroupEndpoint(
      { ...options, onPeerSent: metrics.peerSendObserver },
      async (peers, membership): Promise<KvMember> => {
        const disk = await openDiskReplica({
          directory: options.directory,
          id: options.id,
          voters: foundingVoters(options),
          membershipListener: membership,
          peers,
          observer: metrics,
          onSync: metrics.syncObserver,
          logger: options.logger,
          ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
          ...(options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: options.snapshotEveryEntries }),
          ...(options.logKeepEntries === undefined ? {} : { raft: { snapshotCatchUpEntries: options.logKeepEntries } }),
        });
        // A client that asks this port for another service (meta, shard) learns that this node serves kv only.
        return { node: disk.replica.node, disk, services: routeServices({ kv: disk.replica }) };
      },
      (member) => member.services,
      (member) => ({ gid: null, logBytes: member.disk.logBytes(), configVersion: null, bucketsInTransit: [] }),
    );
    const channel = new TcpGroupChannel({
      members: options.members,
      clusterId: options.clusterId,
      token: options.authToken,
      logger,
      local: { id: options.id, service: endpoint.member.services },
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
    // Sessions of this process's servers call the replica directly while it leads (src/client/local-member.ts).
    const local = { id: options.id, serve: endpoint.member.disk.replica.serve.bind(endpoint.member.disk.replica) };
    let resp: RespServer | null = null;
    if (options.resp !== undefined) {
      resp = new RespServer({
        backend: ClientBackend.forGroup([...options.members.keys()], channel, realClientClock, {
          observer: metrics,
          local,
        }),
        logger,
        role: 'kv group member',
        authToken: options.authToken,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      });
      await resp.listen(options.resp);
    }
    let http: HttpApiServer | null = null;
    if (options.http !== undefined) {
      const members = [...options.members.keys()];
      const backend = loneGroupBackend({
        self: {
          id: options.id,
          gid: null,
          clusterId: options.clusterId,
          token: options.authToken,
          status: () => endpoint.status(),
          ...(options.tls === undefined ? {} : { tls: options.tls }),
        },
        members: options.members,
        newSession: () =>
          new KvClient({
            members,
            channel,
            clock: realClientClock,
            clientId: `http-${randomUUID()}`,
            random: Math.random,
            deadlineMs: HTTP_KV_DEADLINE_MS,
            local,
          }),
      });
      http = new HttpApiServer({
        backend,
        logger,
        metrics,
        authToken: options.authToken,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      });
      await http.listen(options.http);
    }
    return new MemberServer(endpoint, channel, resp, http, metrics);
  }

  /** Stops serving and closes every file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.http?.close();
      await this.resp?.close();
      await this.endpoint.close();
      this.channel.close();
      await this.endpoint.member.disk.close();
    })();
    return this.closing;
  }
}
