/**
 * A KV replica on disk: the member's Raft files (node/disk-node) plus the KV
 * engine in DIR/kv/ (LevelDB through classic-level, its writes held for up
 * to 100 ms and handed down together: write-behind-engine.ts). The engine
 * records the applied index with every batch, so a restart resumes from
 * there and replays only the log after it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DiskNodeOptions } from '../node/disk-node.js';
import { openDiskNode } from '../node/disk-node.js';
import { KvReplica } from './kv-replica.js';
import { LevelKvEngine } from './level-engine.js';
import { KvStateMachine } from './state-machine.js';
import { WriteBehindEngine } from './write-behind-engine.js';

export type DiskReplicaOptions = Omit<DiskNodeOptions, 'machine'>;

export interface DiskReplica {
  readonly replica: KvReplica;
  /** Bytes of the Raft log files on disk. */
  logBytes(): number;
  /** Stops the node and closes every file. */
  close(): Promise<void>;
}

export async function openDiskReplica(options: DiskReplicaOptions): Promise<DiskReplica> {
  // LevelDB creates its own directory, not the ones above it.
  await mkdir(options.directory, { recursive: true });
  const engine = new WriteBehindEngine(await LevelKvEngine.open(path.join(options.directory, 'kv')));
  const machine = await KvStateMachine.open(engine);
  const disk = await openDiskNode({ ...options, machine });
  engine.onBackgroundFailure = (error) => disk.node.stopAfterFailure(error);
  return {
    replica: new KvReplica(disk.node, machine),
    logBytes: () => disk.logBytes(),
    async close() {
      await disk.close();
      await engine.close();
    },
  };
}
