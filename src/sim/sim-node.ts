/**
 * One simulated member: a RaftCore driven the way the real node drives it,
 * with an in-memory "disk" that survives crashes and everything else that
 * does not. Persisting a Ready takes simulated time, and the core keeps
 * receiving messages meanwhile, so the persistence contract is exercised:
 * a crash before the fsync completes loses that Ready, and nothing that
 * depended on it was sent.
 */
import type { Entry, HardState, Message, RaftOptions, Ready, SnapshotMeta } from '../raft/index.js';
import { EMPTY_HARD_STATE, RaftCore, snapshotChunkMessage } from '../raft/index.js';
import type { Membership, NodeId, ReadState } from '../raft/index.js';
import { AppliedValues, decodeCommand } from './state-machine.js';

/** What a member has on disk. */
export interface SimDisk {
  hardState: HardState;
  snapshot: SnapshotMeta | null;
  snapshotData: Uint8Array | null;
  /** Durable entries, contiguous; they may begin before the snapshot's index (a kept tail). */
  entries: Entry[];
}

export function emptyDisk(): SimDisk {
  return { hardState: EMPTY_HARD_STATE, snapshot: null, snapshotData: null, entries: [] };
}

/** How a simulated member reaches the rest of the simulation. */
export interface SimNodeHost {
  nowMs(): number;
  after(delayMs: number, action: () => void): void;
  fsyncDelayMs(): number;
  send(message: Message): void;
  /** Called after every input the member handled, for invariant checks and the timeline. */
  observe(node: SimNode): void;
  applied(node: SimNode, entry: Entry): void;
  readReady(node: SimNode, read: ReadState): void;
  /** The member took a snapshot of its own (`installed` false) or installed the leader's. */
  snapshot(node: SimNode, snapshot: SnapshotMeta, installed: boolean): void;
}

export interface SimNodeOptions {
  readonly raft: Omit<RaftOptions, 'id' | 'random'>;
  readonly random: () => number;
  readonly bootstrap: Membership;
  /** Take a snapshot once this many entries were applied since the last one; 0 = never. */
  readonly snapshotEveryEntries: number;
}

export class SimNode {
  readonly disk: SimDisk = emptyDisk();
  core: RaftCore | null = null;
  machine = new AppliedValues();
  /** Bumped by every crash, so that work scheduled before it is dropped. */
  private generation = 0;
  private persisting = false;
  private staging: { key: string; chunks: Uint8Array[]; bytes: number } | null = null;
  /** Snapshots older than the latest that transfers to followers still read from. */
  private readonly olderSnapshots = new Map<number, Uint8Array>();
  snapshotsTaken = 0;
  snapshotsInstalled = 0;

  constructor(
    readonly id: NodeId,
    private readonly options: SimNodeOptions,
    private readonly host: SimNodeHost,
  ) {}

  get alive(): boolean {
    return this.core !== null;
  }

  /** (Re)starts from what is on disk. */
  start(): void {
    if (this.core !== null) throw new Error(`sim node ${this.id}: already running`);
    this.core = new RaftCore(
      { ...this.options.raft, id: this.id, random: this.options.random },
      {
        hardState: this.disk.hardState,
        snapshot: this.disk.snapshot,
        entries: this.disk.entries,
        bootstrap: this.options.bootstrap,
      },
    );
    this.machine =
      this.disk.snapshotData === null ? new AppliedValues() : AppliedValues.restore(this.disk.snapshotData);
    this.staging = null;
    this.persisting = false;
    this.host.observe(this);
    this.pump();
  }

  /** Loses everything not on disk. */
  crash(): void {
    this.core = null;
    this.olderSnapshots.clear();
    this.generation++;
    this.persisting = false;
    this.staging = null;
  }

  /** Runs `input` against the core, then lets the core's output flow. */
  handle(input: (core: RaftCore) => void): void {
    const core = this.core;
    if (core === null) return;
    input(core);
    this.host.observe(this);
    this.pump();
  }

  private pump(): void {
    const core = this.core;
    if (core === null || this.persisting || !core.hasReady()) return;
    const ready = core.ready();
    this.host.observe(this);
    this.persisting = true;
    const generation = this.generation;
    this.host.after(this.host.fsyncDelayMs(), () => {
      if (generation !== this.generation) return; // crashed before the write completed
      this.persist(ready);
      this.persisting = false;
      this.sendAndApply(ready);
      core.advance(ready);
      this.maybeTakeSnapshot(core);
      this.forgetUnusedSnapshots(core);
      this.host.observe(this);
      this.pump();
    });
  }

  private persist(ready: Ready): void {
    for (const chunk of ready.snapshotChunksReceived) {
      const key = `${chunk.snapshot.index}/${chunk.snapshot.term}`;
      if (chunk.offset === 0 || this.staging === null || this.staging.key !== key) {
        this.staging = { key, chunks: [], bytes: 0 };
      }
      if (chunk.offset !== this.staging.bytes) throw new Error(`sim node ${this.id}: snapshot chunk out of order`);
      this.staging.chunks.push(chunk.data);
      this.staging.bytes += chunk.data.byteLength;
    }
    if (ready.snapshot !== null) this.installSnapshot(ready.snapshot);
    const first = ready.entries[0];
    if (first !== undefined) {
      const kept = this.disk.entries.filter((entry) => entry.index < first.index);
      const before = kept[kept.length - 1]?.index ?? this.disk.snapshot?.index ?? 0;
      if (before < first.index - 1) {
        throw new Error(`sim node ${this.id}: entries from ${first.index} leave a gap after ${before} on disk`);
      }
      this.disk.entries = [...kept, ...ready.entries];
    }
    if (ready.hardState !== null) this.disk.hardState = ready.hardState;
  }

  private installSnapshot(snapshot: SnapshotMeta): void {
    const key = `${snapshot.index}/${snapshot.term}`;
    if (this.staging === null || this.staging.key !== key || this.staging.bytes !== snapshot.sizeBytes) {
      throw new Error(`sim node ${this.id}: asked to install snapshot ${key} that was not fully staged`);
    }
    const data = concat(this.staging.chunks, this.staging.bytes);
    this.staging = null;
    this.disk.snapshot = snapshot;
    this.disk.snapshotData = data;
    this.disk.entries = [];
    this.machine = AppliedValues.restore(data);
    this.snapshotsInstalled++;
    this.host.snapshot(this, snapshot, true);
  }

  private sendAndApply(ready: Ready): void {
    for (const message of ready.messages) this.host.send(message);
    for (const chunk of ready.snapshotChunksToSend) {
      const source = this.snapshotBytes(chunk.snapshot.index);
      if (source === null)
        throw new Error(`sim node ${this.id}: asked for chunks of snapshot ${chunk.snapshot.index}, which is gone`);
      this.host.send(snapshotChunkMessage(chunk, source.subarray(chunk.offset, chunk.offset + chunk.sizeBytesMax)));
    }
    for (const entry of ready.committedEntries) {
      if (entry.index <= this.machine.lastApplied) continue; // covered by an installed snapshot
      this.machine.apply(entry.index, entry.kind === 'command' ? decodeCommand(entry.data) : null);
      this.host.applied(this, entry);
    }
    for (const read of ready.readStates) this.host.readReady(this, read);
  }

  private maybeTakeSnapshot(core: RaftCore): void {
    const every = this.options.snapshotEveryEntries;
    if (every <= 0) return;
    const applied = this.machine.lastApplied;
    if (applied - core.snapshot.index < every || applied > core.appliedIndex) return;
    const data = this.machine.snapshot();
    if (this.disk.snapshot !== null && this.disk.snapshotData !== null) {
      this.olderSnapshots.set(this.disk.snapshot.index, this.disk.snapshotData);
    }
    const snapshot = core.snapshotTaken(applied, data.byteLength);
    this.disk.entries = this.disk.entries.filter((entry) => entry.index >= core.firstIndex);
    this.disk.snapshot = snapshot;
    this.disk.snapshotData = data;
    this.snapshotsTaken++;
    this.host.snapshot(this, snapshot, false);
    this.forgetUnusedSnapshots(core);
  }

  /** The bytes of the latest snapshot, or of an older one a transfer still reads. */
  private snapshotBytes(index: number): Uint8Array | null {
    if (this.disk.snapshot?.index === index) return this.disk.snapshotData;
    return this.olderSnapshots.get(index) ?? null;
  }

  private forgetUnusedSnapshots(core: RaftCore): void {
    const inUse = new Set(core.snapshotsInTransfer());
    for (const index of this.olderSnapshots.keys()) if (!inUse.has(index)) this.olderSnapshots.delete(index);
  }

  /** Bytes this member has on disk: the snapshot and the log. */
  diskSizeBytes(): number {
    let bytes = this.disk.snapshotData?.byteLength ?? 0;
    for (const entry of this.disk.entries) bytes += entry.kind === 'command' ? entry.data.byteLength + 24 : 32;
    return bytes;
  }
}

function concat(chunks: readonly Uint8Array[], totalBytes: number): Uint8Array {
  const out = new Uint8Array(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
