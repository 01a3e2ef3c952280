/**
 * One member of a shard group as a server process runs it: the Raft files
 * and the KV engine on disk (the ShardStateMachine over LevelDB), one TCP
 * port for peers, clients ('kv') and other groups ('shard'), the driver that
 * follows the meta group's configs and moves buckets, and the RESP and HTTP
 * listeners, whose sessions route every key to the group that serves it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ClientClock } from '../client/channel.js';
import { realClientClock } from '../client/channel.js';
import { MetaClient } from '../client/meta-client.js';
import type { MetaClientOptions } from '../client/meta-client.js';
import { ShardedKvClient } from '../client/sharded-client.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import type { KvEngine } from '../kv/engine.js';
import { LevelKvEngine } from '../kv/level-engine.js';
import { WriteBehindEngine } from '../kv/write-behind-engine.js';
import type { Logger } from '../log/logger.js';
import { ProcessMetrics } from '../metrics/process-metrics.js';
import type { GroupId, ShardConfig } from '../meta/config.js';
import type { DiskNode } from '../node/disk-node.js';
import type { BucketInTransit } from '../node/node-status.js';
import { openDiskNode } from '../node/disk-node.js';
import { realTicker } from '../node/ports.js';
import type { RaftNode } from '../node/raft-node.js';
import type { NodeId } from '../raft/index.js';
import { ShardDriver, UNEXPECTED_PREFIX } from '../shard/shard-driver.js';
import { ShardReplica } from '../shard/shard-replica.js';
import { ShardStateMachine } from '../shard/state-machine.js';
import type { ClientConnectionLimits, NodeTls, PeerAddress } from '../transport/index.js';
import { ClientBackend } from './client-backend.js';
import type { GroupEndpoint } from './group-endpoint.js';
import { foundingVoters, startGroupEndpoint } from './group-endpoint.js';
import { HttpApiServer } from './http/http-server.js';
import { HTTP_KV_DEADLINE_MS, shardedClusterBackend } from './http/node-backends.js';
import { RespServer } from './resp/resp-server.js';

export interface ShardServerOptions {
  readonly id: NodeId;
  readonly gid: GroupId;
  /** Every member of this shard group (this one included) with its address. */
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  /** The meta group's members. */
  readonly meta: ReadonlyMap<NodeId, PeerAddress>;
  readonly directory: string;
  /** Joins an existing group instead of founding one with --members (see group-endpoint.ts foundingVoters). */
  readonly join?: boolean;
  readonly resp?: PeerAddress;
  readonly clusterId: string;
  /** The cluster's auth token: asked of peers and clients on every port (binary, RESP, HTTP) when set. */
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

const DRIVER_META_DEADLINE_MS = 1_000;
/** Bytes per pulled part: fewer, larger parts move a big bucket faster (1 MiB is the most a pull may ask). */
const PULL_PART_BYTES = 1 << 20;
const PULL_DEADLINE_MS = 10_000;
const PULL_ATTEMPT_TIMEOUT_MS = 5_000;

/** The buckets this group is moving, with what it is doing with each, for its status. */
function transitOf(machine: ShardStateMachine): BucketInTransit[] {
  const moving: BucketInTransit[] = [];
  for (const [bucket, state] of machine.bucketStates()) {
    if (state.type === 'pulling') moving.push({ bucket, state: `pulling from group ${state.fromGid}` });
    if (state.type === 'handingOff') moving.push({ bucket, state: `handing off to group ${state.toGid}` });
  }
  return moving.sort((a, b) => a.bucket - b.bucket);
}

/** A MetaClient that hands every config it reads to `learn` (where every member listens). */
class LearningMetaClient extends MetaClient {
  constructor(
    options: MetaClientOptions,
    private readonly learn: (config: ShardConfig) => void,
  ) {
    super(options);
  }

  override async query(version: number | null = null, options: { stale?: boolean } = {}): Promise<ShardConfig> {
    const config = await super.query(version, options);
    this.learn(config);
    return config;
  }
}

interface ShardMember {
  readonly node: RaftNode;
  readonly disk: DiskNode;
  readonly engine: KvEngine;
  readonly replica: ShardReplica;
}

export class ShardServer {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly endpoint: GroupEndpoint<ShardMember>,
    private readonly driver: ShardDriver,
    private readonly channels: readonly TcpGroupChannel[],
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

  get node(): RaftNode {
    return this.endpoint.member.node;
  }

  get port(): number {
    return this.endpoint.port;
  }

  get respPort(): number | null {
    return this.resp?.port ?? null;
  }

  static async start(options: ShardServerOptions): Promise<ShardServer> {
    const { logger, clusterId, authToken } = options;
    const clock: ClientClock = realClientClock;
    const metrics = new ProcessMetrics();
    const endpoint = await startGroupEndpoint(
      { ...options, onPeerSent: metrics.peerSendObserver },
      async (peers, membership): Promise<ShardMember> => {
        // LevelDB creates its own directory, not the ones above it.
        await mkdir(options.directory, { recursive: true });
        const engine = new WriteBehindEngine(await LevelKvEngine.open(path.join(options.directory, 'kv')));
        const machine = await ShardStateMachine.open(engine, {
          gid: options.gid,
          onBucketMoved: metrics.bucketMoveObserver,
        });
        const disk = await openDiskNode({
          directory: options.directory,
          id: options.id,
          voters: foundingVoters(options),
          membershipListener: membership,
          peers,
          machine,
          observer: metrics,
          onSync: metrics.syncObserver,
          logger: options.logger,
          ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
          ...(options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: options.snapshotEveryEntries }),
        });
        engine.onBackgroundFailure = (error) => disk.node.stopAfterFailure(error);
        return { node: disk.node, disk, engine, replica: new ShardReplica(disk.node, machine) };
      },
      (member) => member.replica,
      (member) => ({
        gid: options.gid,
        logBytes: member.disk.logBytes(),
        configVersion: member.replica.machine.currentConfig.version,
        bucketsInTransit: transitOf(member.replica.machine),
      }),
    );
    const tls = options.tls === undefined ? {} : { tls: options.tls };
    const metaChannel = new TcpGroupChannel({ members: options.meta, clusterId, token: authToken, logger, ...tls });
    // Reaches any node of any group: this group's members from the start, the others as configs name them.
    const groupsChannel = new TcpGroupChannel({
      members: options.members,
      clusterId,
      token: authToken,
      logger,
      local: { id: options.id, service: endpoint.member.replica },
      ...tls,
    });
    // Clients reach every group's members; this member's Raft peers also learn, from the configs, a
    // member of its own group that it never saw added (the addLearner came inside a snapshot).
    const learn = (config: ShardConfig): void => {
      groupsChannel.learn(config.groups.flatMap((group) => group.members));
      const own = config.groups.find((group) => group.gid === options.gid);
      for (const member of own?.members ?? []) endpoint.addresses.learn(member.id, member.address);
    };
    const newMetaClient = (clientId: string, deadlineMs?: number): MetaClient =>
      new LearningMetaClient(
        {
          members: [...options.meta.keys()],
          channel: metaChannel,
          clock,
          clientId,
          random: Math.random,
          ...(deadlineMs === undefined ? {} : { deadlineMs }),
        },
        learn,
      );
    const { node, replica } = endpoint.member;
    const driver = new ShardDriver({
      gid: options.gid,
      node,
      machine: replica.machine,
      // Short: a pass that cannot reach the meta group gives up and the next poll tries again.
      meta: newMetaClient(`driver-${options.gid}-${options.id}-${randomUUID()}`, DRIVER_META_DEADLINE_MS),
      channel: groupsChannel,
      clock,
      ticker: realTicker,
      random: Math.random,
      // A part of a big bucket takes a while to export and ship on a busy machine: give it time
      // rather than retry it from scratch (measured with npm run bench:move).
      partBytesMax: PULL_PART_BYTES,
      rpcDeadlineMs: PULL_DEADLINE_MS,
      attemptTimeoutMs: PULL_ATTEMPT_TIMEOUT_MS,
      onProblem: (problem) =>
        problem.startsWith(UNEXPECTED_PREFIX)
          ? logger.error({ problem }, 'a bucket move step failed in a way that is a bug')
          : logger.debug({ problem }, 'a bucket move step will be retried'),
    });
    driver.start();
    // RESP and HTTP sessions route every key to its group, forwarding to other groups' nodes.
    const newShardedClient = (clientId: string, deadlineMs: number): ShardedKvClient =>
      new ShardedKvClient({
        meta: newMetaClient(`${clientId}-meta`, deadlineMs),
        channel: groupsChannel,
        clock,
        clientId,
        random: Math.random,
        deadlineMs,
        learnAddresses: (members) => groupsChannel.learn(members),
      });
    let resp: RespServer | null = null;
    if (options.resp !== undefined) {
      resp = new RespServer({
        backend: new ClientBackend(newShardedClient, { observer: metrics }),
        logger,
        role: 'shard member',
        authToken,
        ...tls,
      });
      await resp.listen(options.resp);
    }
    let http: HttpApiServer | null = null;
    if (options.http !== undefined) {
      const backend = shardedClusterBackend({
        self: {
          id: options.id,
          gid: options.gid,
          clusterId,
          token: authToken,
          status: () => endpoint.status(),
          ...tls,
        },
        meta: options.meta,
        newMetaClient: (deadlineMs) => newMetaClient(`http-${randomUUID()}`, deadlineMs),
        kv: { newSession: () => newShardedClient(`http-${randomUUID()}`, HTTP_KV_DEADLINE_MS) },
      });
      http = new HttpApiServer({
        backend,
        logger,
        metrics,
        authToken,
        ...tls,
      });
      await http.listen(options.http);
    }
    return new ShardServer(endpoint, driver, [metaChannel, groupsChannel], resp, http, metrics);
  }

  /** Stops serving and closes every file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.driver.stop();
      await this.http?.close();
      await this.resp?.close();
      await this.endpoint.close();
      for (const channel of this.channels) channel.close();
      await this.endpoint.member.disk.close();
      await this.endpoint.member.engine.close();
    })();
    return this.closing;
  }
}
