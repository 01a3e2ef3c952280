/**
 * A KV replica on disk: opens (or creates) a member's data directory and
 * starts its RaftNode and KvStateMachine over it.
 *
 *   DIR/raft/log/         the Raft log: CRC'd segment files (storage/segmented-log-store)
 *   DIR/raft/hard-state   term and vote, replaced atomically
 *   DIR/raft/snapshots/   snapshot files of the state machine
 *   DIR/kv/               the KV engine (LevelDB through classic-level)
 *
 * The engine records the applied index with every batch, so a restart
 * resumes from there and replays only the log after it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { PeerSender, Ticker } from '../node/ports.js';
import { realTicker } from '../node/ports.js';
import { RaftNode } from '../node/raft-node.js';
import type { NodeId, RaftOptions } from '../raft/index.js';
import { HardStateStore, SegmentedLogStore, SnapshotStore } from '../storage/index.js';
import { KvReplica } from './kv-replica.js';
import { LevelKvEngine } from './level-engine.js';
import { KvStateMachine } from './state-machine.js';

export interface DiskReplicaOptions {
  readonly directory: string;
  readonly id: NodeId;
  /** The founding members; used only when the directory is new. */
  readonly voters: readonly NodeId[];
  readonly peers: PeerSender;
  readonly ticker?: Ticker;
  /** One Raft tick. Elections time out after 10 to 20 ticks; the leader heartbeats every 2. */
  readonly tickMs?: number;
  /** Take a snapshot and compact the log after this many applied entries. */
  readonly snapshotEveryEntries?: number;
  /** Overrides of the core's options (all but id and random). */
  readonly raft?: Partial<Omit<RaftOptions, 'id' | 'random'>>;
}

export const TICK_MS_DEFAULT = 50;
export const SNAPSHOT_EVERY_ENTRIES_DEFAULT = 10_000;

export interface DiskReplica {
  readonly replica: KvReplica;
  /** Stops the node and closes every file. */
  close(): Promise<void>;
}

export async function openDiskReplica(options: DiskReplicaOptions): Promise<DiskReplica> {
  const raftDirectory = path.join(options.directory, 'raft');
  const snapshotDirectory = path.join(raftDirectory, 'snapshots');
  await mkdir(snapshotDirectory, { recursive: true });
  const log = await SegmentedLogStore.open(path.join(raftDirectory, 'log'));
  const snapshots = await SnapshotStore.open(snapshotDirectory);
  const engine = await LevelKvEngine.open(path.join(options.directory, 'kv'));
  const machine = await KvStateMachine.open(engine);
  const node = await RaftNode.start(
    {
      raft: {
        electionTicks: 10,
        heartbeatTicks: 2,
        preVote: true,
        checkQuorum: true,
        ...options.raft,
        id: options.id,
        random: Math.random,
      },
      bootstrapVoters: options.voters,
      tickMs: options.tickMs ?? TICK_MS_DEFAULT,
      snapshotEveryEntries: options.snapshotEveryEntries ?? SNAPSHOT_EVERY_ENTRIES_DEFAULT,
    },
    {
      log,
      hardState: new HardStateStore(path.join(raftDirectory, 'hard-state')),
      snapshots,
      machine,
      peers: options.peers,
      ticker: options.ticker ?? realTicker,
    },
  );
  return {
    replica: new KvReplica(node, machine),
    async close() {
      await node.stop();
      await log.close();
      await engine.close();
    },
  };
}
