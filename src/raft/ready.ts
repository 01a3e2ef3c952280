/**
 * The Ready batch: everything the core wants done to the outside world since
 * the last batch. The caller handles it in this order, then calls advance():
 *
 *  1. write `snapshotChunksReceived` to the staging area of their snapshot
 *     (a chunk at offset 0 starts the staging over);
 *  2. if `snapshot` is set, install that staged snapshot: replace the state
 *     machine with it and drop every log entry it covers (or the whole log,
 *     when the snapshot does not match an entry of it);
 *  3. append `entries` durably (an entry at index i replaces i and all after it)
 *     and write `hardState` durably;
 *  4. only now send `messages` and `snapshotChunksToSend`: a vote or an
 *     acknowledgement must never leave before what it promises is on disk;
 *  5. apply `committedEntries` in order and serve `readStates` once applied.
 *     This step may run on beside later Readys (advance() may come first):
 *     the core's appliedIndex then counts entries handed out, and a snapshot
 *     must be taken of what the application really applied.
 *
 * A leader's snapshot chunks name the snapshot they come from: keep it until
 * RaftCore.snapshotsInTransfer() no longer lists it.
 */
import type { InstallSnapshot, Message } from './messages.js';
import type { Entry, HardState, NodeId, ReadState, SnapshotMeta, SoftState, Term } from './types.js';

/** A chunk of the leader's current snapshot that the application must read and send. */
export interface SnapshotChunkToSend {
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: Term;
  readonly snapshot: SnapshotMeta;
  readonly offset: number;
  readonly sizeBytesMax: number;
}

/** A chunk received from the leader that the application must stage durably. */
export interface SnapshotChunkReceived {
  readonly snapshot: SnapshotMeta;
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly snapshotChunksReceived: readonly SnapshotChunkReceived[];
  readonly snapshot: SnapshotMeta | null;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly snapshotChunksToSend: readonly SnapshotChunkToSend[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
}

/** Turns a chunk request into the message that carries `data`, read by the application at chunk.offset. */
export function snapshotChunkMessage(chunk: SnapshotChunkToSend, data: Uint8Array): InstallSnapshot {
  return {
    type: 'installSnapshot',
    term: chunk.term,
    from: chunk.from,
    to: chunk.to,
    snapshot: chunk.snapshot,
    offset: chunk.offset,
    data,
    done: chunk.offset + data.byteLength >= chunk.snapshot.sizeBytes,
  };
}
