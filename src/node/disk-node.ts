/**
 * A RaftNode on disk: opens (or creates) the Raft part of a member's data
 * directory and starts the node over it with the state machine given.
 *
 *   DIR/raft/log/         the Raft log: CRC'd segment files (storage/segmented-log-store)
 *   DIR/raft/hard-state   term and vote, replaced atomically
 *   DIR/raft/snapshots/   snapshot files of the state machine
 *
 * The state machine keeps its own files (or none: an in-memory machine is
 * rebuilt from the latest snapshot and the log after it).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { NodeId, RaftOptions } from '../raft/index.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { SyncObserver, TornTail } from '../storage/index.js';
import { HardStateStore, SegmentedLogStore, SnapshotStore } from '../storage/index.js';
import type { MembershipListener, PeerSender, ReplicatedStateMachine, Ticker } from './ports.js';
import type { RaftNodeObserver } from './raft-node-observer.js';
import { realTicker } from './ports.js';
import { RaftNode } from './raft-node.js';

export interface DiskNodeOptions {
  readonly directory: string;
  readonly id: NodeId;
  /** The founding members; used only when the directory is new. Empty for a member that joins an existing group. */
  readonly voters: readonly NodeId[];
  /** Told of membership changes in the log (peer addresses); none by default. */
  readonly membershipListener?: MembershipListener;
  readonly peers: PeerSender;
  readonly machine: ReplicatedStateMachine;
  readonly ticker?: Ticker;
  /** One Raft tick. Elections time out after 10 to 20 ticks; the leader heartbeats every 2. */
  readonly tickMs?: number;
  /** Take a snapshot and compact the log after this many applied entries; by default after 64 MiB of applied commands only. */
  readonly snapshotEveryEntries?: number;
  /** Overrides of the core's options (all but id and random). */
  readonly raft?: Partial<Omit<RaftOptions, 'id' | 'random'>>;
  /** Told what the node does (metrics); none by default. */
  readonly observer?: RaftNodeObserver;
  /** Told how long each fsync of the log and the hard state took (metrics); none by default. */
  readonly onSync?: SyncObserver;
  /** Where recovery says what it repaired (a torn write cut off the log); silent by default. */
  readonly logger?: Logger;
}

export const TICK_MS_DEFAULT = 50;

export interface DiskNode {
  readonly node: RaftNode;
  /** Bytes of the Raft log files on disk (snapshots not included). */
  logBytes(): number;
  /** Stops the node and closes the Raft files (not the machine's). */
  close(): Promise<void>;
}

export async function openDiskNode(options: DiskNodeOptions): Promise<DiskNode> {
  const raftDirectory = path.join(options.directory, 'raft');
  const snapshotDirectory = path.join(raftDirectory, 'snapshots');
  await mkdir(snapshotDirectory, { recursive: true });
  const log = await SegmentedLogStore.open(path.join(raftDirectory, 'log'), { onSync: options.onSync });
  const snapshots = await SnapshotStore.open(snapshotDirectory);
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
      ...(options.snapshotEveryEntries === undefined ? {} : { snapshotEveryEntries: options.snapshotEveryEntries }),
      observer: options.observer,
      ...(options.membershipListener === undefined ? {} : { membershipListener: options.membershipListener }),
    },
    {
      log,
      hardState: new HardStateStore(path.join(raftDirectory, 'hard-state'), options.onSync),
      snapshots,
      machine: options.machine,
      peers: options.peers,
      ticker: options.ticker ?? realTicker,
    },
  );
  if (log.tornTail !== null) logTornTail(options.logger ?? silentLogger, log.tornTail);
  return {
    node,
    logBytes: () => log.sizeBytes,
    async close() {
      await node.stop();
      await log.close();
    },
  };
}

/**
 * A torn tail is the write a crash (or a failed write) interrupted: never
 * acknowledged, so cutting it loses nothing. Worth one line all the same, so
 * that an operator who sees it after every restart looks at the disk.
 */
function logTornTail(logger: Logger, tail: TornTail): void {
  logger.warn(
    { path: tail.path, offsetBytes: tail.offsetBytes, bytesDropped: tail.bytesDropped, problem: tail.problem },
    'recovery cut a torn write off the end of the raft log (an interrupted write that was never acknowledged); ' +
      'nothing acknowledged is lost',
  );
}
