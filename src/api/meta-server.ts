/**
 * One member of the meta (config) group as a server process runs it: the
 * Raft files on disk, the config table in memory (rebuilt on start from the
 * latest snapshot and the log after it: it is small), and one TCP port for
 * peers and for the admin and shard clients of the 'meta' service.
 */
import type { Logger } from '../log/logger.js';
import { ProcessMetrics } from '../metrics/process-metrics.js';
import { MetaReplica } from '../meta/meta-replica.js';
import { MetaStateMachine } from '../meta/state-machine.js';
import type { DiskNode } from '../node/disk-node.js';
import { openDiskNode } from '../node/disk-node.js';
import type { RaftNode } from '../node/raft-node.js';
import type { NodeId } from '../raft/index.js';
import type { PeerAddress } from '../transport/index.js';
import { routeServices } from '../transport/index.js';
import type { GroupEndpoint } from './group-endpoint.js';
import { startGroupEndpoint } from './group-endpoint.js';

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

interface MetaMember {
  readonly node: RaftNode;
  readonly disk: DiskNode;
  readonly replica: MetaReplica;
}

export class MetaServer {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly endpoint: GroupEndpoint<MetaMember>,
    private readonly processMetrics: ProcessMetrics,
  ) {}

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
      async (peers): Promise<MetaMember> => {
        const machine = new MetaStateMachine();
        const disk = await openDiskNode({
          directory: options.directory,
          id: options.id,
          voters: [...options.members.keys()],
          peers,
          machine,
          snapshotEveryEntries: options.snapshotEveryEntries ?? META_SNAPSHOT_EVERY_ENTRIES_DEFAULT,
          observer: metrics,
          onSync: metrics.syncObserver,
          ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
        });
        return { node: disk.node, disk, replica: new MetaReplica(disk.node, machine) };
      },
      // A KV client pointed here learns that this node serves the meta group only.
      (member) => routeServices({ meta: member.replica }),
    );
    return new MetaServer(endpoint, metrics);
  }

  /** Stops serving and closes every file; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.endpoint.close();
      await this.endpoint.member.disk.close();
    })();
    return this.closing;
  }
}
