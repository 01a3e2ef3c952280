/**
 * Messages between the members of a group. Every message carries the sender's
 * term; a receiver that sees a higher term adopts it before anything else
 * (except for pre-votes, which must not disturb anybody).
 */
import { entrySizeBytes } from './types.js';
import type { Entry, LogIndex, NodeId, SnapshotMeta, Term } from './types.js';

interface Envelope {
  readonly term: Term;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** Leader -> follower: append `entries` after (prevIndex, prevTerm). */
export interface AppendEntries extends Envelope {
  readonly type: 'append';
  readonly prevIndex: LogIndex;
  readonly prevTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
}

/**
 * Follower -> leader. On success, `matchIndex` is the last index known to
 * match the leader's log. On rejection, (hintIndex, hintTerm) is the follower's
 * last entry at or before the rejected position whose term is not above the
 * leader's prevTerm: the leader skips straight past every entry that cannot match.
 */
export interface AppendResponse extends Envelope {
  readonly type: 'appendResponse';
  readonly success: boolean;
  readonly matchIndex: LogIndex;
  readonly rejectedIndex: LogIndex;
  readonly hintIndex: LogIndex;
  readonly hintTerm: Term;
}

/** Leader -> follower: "I am still here". Carries the read context of a pending ReadIndex round. */
export interface Heartbeat extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: LogIndex;
  readonly readContext: string | null;
  /** Numbers the leader's heartbeat rounds, so that an answer tells which round it confirms (leader lease). */
  readonly round: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: 'heartbeatResponse';
  readonly readContext: string | null;
  readonly round: number;
}

/**
 * Candidate -> voter. A pre-vote asks "would you vote for me at `term`?"
 * without anyone changing term. `leadershipTransfer` tells the voter that the
 * old leader asked for this election, so a recent leader is no reason to refuse.
 */
export interface RequestVote extends Envelope {
  readonly type: 'requestVote';
  readonly preVote: boolean;
  readonly lastIndex: LogIndex;
  readonly lastTerm: Term;
  readonly leadershipTransfer: boolean;
}

export interface VoteResponse extends Envelope {
  readonly type: 'voteResponse';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** Leader -> follower: one chunk of a snapshot, at byte `offset`. */
export interface InstallSnapshot extends Envelope {
  readonly type: 'installSnapshot';
  readonly snapshot: SnapshotMeta;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

/**
 * Follower -> leader: the byte offset it expects next for the snapshot at
 * `snapshotIndex`; `installed` once the whole snapshot is in place.
 */
export interface SnapshotResponse extends Envelope {
  readonly type: 'snapshotResponse';
  readonly snapshotIndex: LogIndex;
  readonly nextOffset: number;
  readonly installed: boolean;
}

/** Leader -> chosen successor: start an election now (leadership transfer). */
export interface TimeoutNow extends Envelope {
  readonly type: 'timeoutNow';
}

/** Follower -> leader: confirm leadership and tell me the read index for `context`. */
export interface ReadIndexRequest extends Envelope {
  readonly type: 'readIndexRequest';
  readonly context: string;
}

/** Leader -> follower: answer to a ReadIndexRequest; `index` null when the leader could not serve it. */
export interface ReadIndexResponse extends Envelope {
  readonly type: 'readIndexResponse';
  readonly context: string;
  readonly index: LogIndex | null;
}

export type Message =
  | AppendEntries
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | RequestVote
  | VoteResponse
  | InstallSnapshot
  | SnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

/** Approximate size on the wire, for byte-count tests and flow control. */
export function messageSizeBytes(message: Message): number {
  const envelopeBytes = 24;
  switch (message.type) {
    case 'append': {
      let bytes = envelopeBytes + 24;
      for (const entry of message.entries) bytes += entrySizeBytes(entry);
      return bytes;
    }
    case 'installSnapshot':
      return envelopeBytes + 48 + message.data.byteLength;
    case 'heartbeat':
    case 'heartbeatResponse':
    case 'readIndexRequest':
    case 'readIndexResponse':
      return envelopeBytes + 16 + ('readContext' in message ? (message.readContext?.length ?? 0) : 0);
    case 'appendResponse':
    case 'requestVote':
    case 'voteResponse':
    case 'snapshotResponse':
    case 'timeoutNow':
      return envelopeBytes + 24;
  }
}
