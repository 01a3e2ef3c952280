/**
 * RaftNode drives one RaftCore with real effects: a log store, a hard state
 * file, snapshot files, a state machine, a peer sender and a ticker.
 *
 * Every input (a tick, a message, a proposal, a read) goes to the core at
 * once; one loop then takes the core's Ready batches one at a time and
 * handles each in the order its contract demands (see raft/ready.ts):
 * stage and install snapshots, make entries and hard state durable, only
 * then send, then hand the committed entries to the apply stage
 * (apply-stage.ts), which applies them in order beside the loop while the
 * loop goes on to the next Ready. Proposals and reads are promises that
 * settle when their entry is applied or their read index is reached.
 */
import type {
  ConfigChange,
  Entry,
  LogIndex,
  Membership,
  Message,
  NodeId,
  RaftOptions,
  Ready,
  ReadState,
  SnapshotMeta,
} from '../raft/index.js';
import { RaftCore, describeRaftError, isMember, isVoter, snapshotChunkMessage } from '../raft/index.js';
import type { LoadedLog, LogStore, StoredSnapshot } from '../storage/index.js';
import { ApplyStage } from './apply-stage.js';
import { NodeError, notLeader, outcomeUnknown } from './errors.js';
import type {
  HardStateFile,
  MembershipListener,
  PeerSender,
  ReplicatedStateMachine,
  SnapshotFiles,
  Ticker,
} from './ports.js';
import type { RaftNodeObserver, RaftNodeState } from './raft-node-observer.js';
import { guardObserver } from './raft-node-observer.js';
import { ByteSlab } from '../storage/byte-slab.js';

export interface RaftNodeOptions {
  readonly raft: RaftOptions;
  /** Members of a new group; ignored once the log or a snapshot exists. */
  readonly bootstrapVoters: readonly NodeId[];
  readonly tickMs: number;
  /**
   * Take a snapshot once the commands applied since the last one hold
   * snapshotEveryBytes (64 MiB by default): what the log grew by, which is
   * what a snapshot lets the node drop, and what a restart must read back.
   */
  readonly snapshotEveryBytes?: number;
  /** ... or once this many entries were applied since the last one (off by default; tests want frequent snapshots). */
  readonly snapshotEveryEntries?: number;
  /** Bytes per chunk when reading a snapshot back to restore the state machine. */
  readonly restoreChunkBytes?: number;
  /** A proposal or read not settled after this long is rejected with 'timeout'. */
  readonly requestTimeoutMs?: number;
  /** Told of proposals, commits, elections, leader changes and snapshots (metrics); none by default. */
  readonly observer?: RaftNodeObserver;
  /** Told of the membership changes in this node's log (peer addresses); none by default. */
  readonly membershipListener?: MembershipListener;
}

/**
 * The answer to a membership change: done (the membership now), or refused
 * for a reason the caller acts on: `pending` (another change is still being
 * committed: retry soon), `notCaughtUp` (the learner is behind: retry once it
 * has caught up), `invalid` (the change makes no sense here: do not retry).
 */
export type MembershipChangeResult =
  /** `changed`: this call made the change (false: it was in effect already). */
  | { readonly ok: true; readonly membership: Membership; readonly changed: boolean }
  | { readonly ok: false; readonly reason: 'pending' | 'notCaughtUp' | 'invalid'; readonly message: string };

export interface RaftNodeParts {
  readonly log: LogStore;
  readonly hardState: HardStateFile;
  readonly snapshots: SnapshotFiles;
  readonly machine: ReplicatedStateMachine;
  readonly peers: PeerSender;
  readonly ticker: Ticker;
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: NodeError) => void;
  /** The tick count past which it is rejected with 'timeout'. */
  readonly expiresAtTick: number;
}

interface PendingRead {
  readonly resolve: () => void;
  readonly reject: (error: NodeError) => void;
  index: LogIndex | null;
  readonly expiresAtTick: number;
}

const RESTORE_CHUNK_BYTES = 1 << 20;
/**
 * The apply stage's bounds: a machine slower than commits makes the Ready
 * loop wait past these, instead of queueing without end; one applyBatch takes
 * at most APPLY_BATCH_ENTRIES_MAX (one engine write of bounded size).
 */
const APPLY_BACKLOG_ENTRIES_MAX = 16_384;
const APPLY_BACKLOG_BYTES_MAX = 64 << 20;
const APPLY_BATCH_ENTRIES_MAX = 4096;
const SNAPSHOT_EVERY_BYTES_DEFAULT = 64 << 20;
const REQUEST_TIMEOUT_MS = 5000;
const OUTCOME_UNKNOWN_ADVICE = 'it may or may not be applied later: retry it with the same request id';

export class RaftNode {
  private readonly proposals = new Map<LogIndex, PendingProposal>();
  /** Proposals are copied into slabs before the log keeps them (byte-slab.ts says why). */
  private readonly proposalCopies = new ByteSlab();
  private readonly reads = new Map<string, PendingRead>();
  private readCounter = 0;
  /**
   * Differs on every start: a read context must never be reused, or a leader's
   * answer to a read from before a restart (still queued somewhere) could
   * release a new read with an old index. Drawn from the core's random
   * source, so simulations stay reproducible.
   */
  private readonly readNonce: string;
  private stopTicking: () => void = () => undefined;
  /**
   * Ticks seen since the start: requests expire by them. One timer per request
   * (5 s, never cleared) kept tens of thousands of timers and their closures
   * alive at a few thousand puts per second, which the GC then had to promote
   * and sweep; a sweep per tick costs a walk over what is pending.
   */
  private ticks = 0;
  private loopRunning = false;
  private stopped = false;
  private lastSnapshotIndex: LogIndex;
  private appliedBytesSinceSnapshot = 0;
  /** A snapshot being written in the background, while the node goes on serving. */
  private snapshotWrite: Promise<void> | null = null;
  /** A snapshot written in the background, for the Ready loop to take in (compact the log up to it). */
  private finishedSnapshot: StoredSnapshot | null = null;
  private lastRole: string;
  /** A failure of the disk or the state machine: the node stops rather than go on with unknown state. */
  private fatal: Error | null = null;
  private fatalHandler: (error: Error) => void = () => undefined;
  private readonly observer: RaftNodeObserver | null;
  /** The term and leader last told to the observer: an election or a leader change is a difference from them. */
  private observedTerm: number;
  private observedLeader: NodeId | null = null;
  /** True while persist installs a leader's snapshot: the machine is being replaced. */
  private installingSnapshot = false;
  /**
   * Whether the Ready in hand holds committed entries not yet given to the
   * apply stage (they wait for its writes): nothing after them may go first.
   */
  private committedWithheld = false;
  /** Applies committed entries in order, beside the Ready loop. */
  private readonly applyStage: ApplyStage;

  /**
   * Called once if the node stops after a failure. The node runs from the
   * moment start() returns (it may already be replaying its log), so a
   * handler set after a failure is called at once: none is ever missed.
   */
  set onFatal(handler: (error: Error) => void) {
    this.fatalHandler = handler;
    if (this.fatal !== null) handler(this.fatal);
  }

  private constructor(
    readonly core: RaftCore,
    private readonly options: RaftNodeOptions,
    private readonly parts: RaftNodeParts,
  ) {
    this.lastSnapshotIndex = core.snapshot.index;
    this.savedCommit = core.commitIndex;
    this.lastRole = core.role;
    this.readNonce = Math.floor(options.raft.random() * 2 ** 48).toString(36);
    this.observer = options.observer === undefined ? null : guardObserver(options.observer);
    this.observedTerm = core.term;
    this.applyStage = new ApplyStage(
      parts.machine,
      {
        backlogEntriesMax: APPLY_BACKLOG_ENTRIES_MAX,
        backlogBytesMax: APPLY_BACKLOG_BYTES_MAX,
        batchEntriesMax: APPLY_BATCH_ENTRIES_MAX,
      },
      {
        decided: (entries, replies) => this.decided(entries, replies),
        applied: (entries, replies) => this.applied(entries, replies),
        failed: (error) => this.fail(error),
      },
    );
  }

  /** Recovers from the stores and starts ticking. */
  static async start(options: RaftNodeOptions, parts: RaftNodeParts): Promise<RaftNode> {
    const hardState = await parts.hardState.load();
    const loaded = await parts.log.load();
    const latest = parts.snapshots.latest;
    let entries = loaded.entries;
    if (latest !== null) {
      const snapshot = latest.meta;
      if (parts.machine.appliedIndex < snapshot.index) {
        // Crashed after installing a snapshot but before the machine took it in.
        await parts.machine.restore(
          parts.snapshots.chunks(snapshot.index, options.restoreChunkBytes ?? RESTORE_CHUNK_BYTES),
          snapshot.index,
        );
      }
      entries = await RaftNode.logAfterSnapshot(parts.log, loaded, snapshot);
    }
    const core = new RaftCore(options.raft, {
      hardState,
      snapshot: latest?.meta ?? null,
      entries,
      bootstrap: { voters: [...options.bootstrapVoters], learners: [] },
    });
    const node = new RaftNode(core, options, parts);
    const listener = options.membershipListener;
    if (listener !== undefined) {
      for (const entry of entries) if (entry.kind === 'config') listener.appended(entry.change, entry.index);
    }
    node.stopTicking = parts.ticker.every(options.tickMs, () => node.tick());
    node.kick();
    return node;
  }

  /**
   * The log entries that continue a snapshot. A log that does not meet the
   * snapshot (it stops short of it, or holds another history at its index)
   * is from before a snapshot install that a crash interrupted: drop it.
   */
  private static async logAfterSnapshot(log: LogStore, loaded: LoadedLog, snapshot: SnapshotMeta): Promise<Entry[]> {
    const entries = loaded.entries;
    const atSnapshot = entries.find((entry) => entry.index === snapshot.index);
    const first = entries[0];
    const meets =
      first === undefined
        ? // An empty log meets the snapshot only if it starts right after it. One that starts
          // earlier (a new member's, or one compacted up to an older snapshot of its own) must be
          // reset too, or the store refuses the first append after the snapshot as a gap.
          loaded.firstIndex === snapshot.index + 1
        : first.index <= snapshot.index + 1 &&
          (atSnapshot === undefined ? first.index === snapshot.index + 1 : atSnapshot.term === snapshot.term);
    if (meets) return entries.filter((entry) => entry.index > snapshot.index);
    await log.reset(snapshot.index);
    return [];
  }

  get id(): NodeId {
    return this.core.id;
  }

  /**
   * The highest log index the state machine applied. The core's appliedIndex
   * counts entries handed to it instead, and starts again from the snapshot
   * after a restart, while the machine may hold far more already.
   */
  get appliedIndex(): LogIndex {
    return this.parts.machine.appliedIndex;
  }

  /** A message from a peer. */
  receive(message: Message): void {
    this.input((core) => core.step(message));
  }

  /**
   * Proposes `command`; resolves with the state machine's reply once it is
   * applied here. Rejects with notLeader (retry elsewhere), overloaded, or
   * outcomeUnknown (leadership was lost before the entry was applied:
   * retry with the same request id).
   */
  propose(command: Uint8Array): Promise<unknown> {
    if (this.fatal !== null || this.stopped) return Promise.reject(this.stoppedError());
    // Copied into a slab: the caller's bytes may be a slice of a larger buffer the log would keep alive (byte-slab.ts).
    const result = this.core.propose(this.proposalCopies.copyBytes(command));
    if (!result.ok) {
      const error = result.error;
      return Promise.reject(
        error.code === 'notLeader'
          ? notLeader(error.leader)
          : new NodeError(error.code === 'tooManyUncommitted' ? 'overloaded' : 'notLeader', describeRaftError(error)),
      );
    }
    this.observer?.proposalAccepted();
    return this.awaitApplied(result.index, result.term);
  }

  /** Settles with the machine's reply once the entry proposed at index, term is applied here. */
  private awaitApplied(index: LogIndex, term: number): Promise<unknown> {
    const expiresAtTick = this.expiryTick();
    const pending = new Promise<unknown>((resolve, reject) => {
      this.proposals.set(index, { term, resolve, reject, expiresAtTick });
    });
    this.kickAfterThisTurn();
    return pending;
  }

  /**
   * Makes one single-server membership change (raft/membership.ts) and
   * resolves once it is applied here, with the membership then. A change
   * already in effect is done at once, so that a caller can retry a step it
   * lost the answer to. Rejects like propose(): notLeader, outcomeUnknown
   * (retry: the retry finds it done or makes it), timeout, stopped.
   */
  async changeMembership(change: ConfigChange): Promise<MembershipChangeResult> {
    if (this.fatal !== null || this.stopped) throw this.stoppedError();
    if (this.core.role !== 'leader') throw notLeader(this.core.leader);
    // A new leader's commit index may be behind what an earlier leader committed: until it has
    // committed an entry of its own term, its membership may miss a change made already.
    if (this.core.termAt(this.core.commitIndex) !== this.core.term) {
      return { ok: false, reason: 'pending', message: 'a new leader has not committed an entry of its term yet' };
    }
    if (changeInEffect(this.core.membership, change)) {
      return { ok: true, membership: this.core.membership, changed: false };
    }
    const result = this.core.proposeConfigChange(change);
    if (!result.ok) {
      const error = result.error;
      switch (error.code) {
        case 'configChangePending':
        case 'transferInProgress':
          return { ok: false, reason: 'pending', message: describeRaftError(error) };
        case 'learnerNotCaughtUp':
          return { ok: false, reason: 'notCaughtUp', message: describeRaftError(error) };
        case 'invalidConfigChange':
          return { ok: false, reason: 'invalid', message: describeRaftError(error) };
        case 'notLeader':
          throw notLeader(error.leader);
        case 'tooManyUncommitted':
        case 'tooManyPendingReads':
        case 'duplicateReadContext':
          throw new NodeError('overloaded', describeRaftError(error));
      }
    }
    await this.awaitApplied(result.index, result.term);
    return { ok: true, membership: this.core.membership, changed: true };
  }

  /** Resolves once this node's state machine reflects every write acknowledged before the call (ReadIndex). */
  readBarrier(): Promise<void> {
    if (this.fatal !== null || this.stopped) return Promise.reject(this.stoppedError());
    const context = `${this.id}:${this.readNonce}:${++this.readCounter}`;
    const result = this.core.readIndex(context);
    if (!result.ok) {
      const error = result.error;
      if (error.code === 'notLeader') return Promise.reject(notLeader(error.leader));
      // Too many reads waiting for confirmation: this node leads, it is just busy.
      if (error.code === 'tooManyPendingReads') {
        return Promise.reject(new NodeError('overloaded', describeRaftError(error)));
      }
      return Promise.reject(notLeader(this.core.leader));
    }
    const expiresAtTick = this.expiryTick();
    const pending = new Promise<void>((resolve, reject) =>
      this.reads.set(context, { resolve, reject, index: null, expiresAtTick }),
    );
    this.kickAfterThisTurn();
    return pending;
  }

  /** The tick a request made now expires at: never before requestTimeoutMs, at most a tick after it. */
  private expiryTick(): number {
    const timeoutMs = this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    return this.ticks + Math.ceil(timeoutMs / this.options.tickMs) + 1;
  }

  private tick(): void {
    this.ticks += 1;
    this.input((core) => core.tick());
    if (this.proposals.size > 0 || this.reads.size > 0) this.expireRequests();
  }

  private expireRequests(): void {
    for (const [index, proposal] of this.proposals) {
      if (proposal.expiresAtTick > this.ticks) continue;
      this.proposals.delete(index);
      proposal.reject(new NodeError('timeout', `the request was not applied in time; ${OUTCOME_UNKNOWN_ADVICE}`));
    }
    for (const [context, read] of this.reads) {
      if (read.expiresAtTick > this.ticks) continue;
      this.reads.delete(context);
      read.reject(new NodeError('timeout', 'leadership could not be confirmed in time; retry the read'));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopTicking();
    this.failPending(new NodeError('stopped', 'the node is stopping'));
    const applyStopped = this.applyStage.stop();
    while (this.loopRunning) await new Promise((resolve) => setImmediate(resolve));
    await applyStopped;
    await this.snapshotWrite;
  }

  private input(action: (core: RaftCore) => void): void {
    if (this.stopped || this.fatal !== null) return;
    action(this.core);
    this.applyCommittedNow();
    this.noticeLeadershipChange();
    this.tellObserver();
    this.kick();
  }

  /**
   * Runs the Ready loop once this event-loop turn's I/O callbacks are done.
   * For reads: kicked at once, an idle loop would take each read into a Ready
   * of its own, with a heartbeat round (two messages out and two back) per
   * read; deferred, the reads of all the connections that had data this turn
   * share one round. Proposals likewise share a Ready, so one log write and
   * one message per follower. The Ready's messages are then written at once:
   * queued from here, at the end of the turn, they would wait for the next.
   */
  private kickAfterThisTurn(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.kick();
      this.parts.peers.flush?.();
    });
  }

  private kickScheduled = false;

  /** Runs the Ready loop unless it is running already (it will see the new work). */
  private kick(): void {
    if (this.loopRunning || this.stopped || this.fatal !== null) return;
    this.loopRunning = true;
    this.readyLoop()
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.loopRunning = false;
      });
  }

  private async readyLoop(): Promise<void> {
    while (!this.stopped && this.fatal === null) {
      if (this.core.hasReady()) {
        const ready = this.core.ready();
        if (this.options.membershipListener !== undefined) this.tellAppended(this.options.membershipListener, ready);
        const [early, afterPersist] = this.splitMessages(ready);
        for (const message of early) this.parts.peers.send(message);
        let durableHandedOver = 0;
        if (ready.snapshot === null) {
          // What is durable here already need not wait for this Ready's writes.
          durableHandedOver = this.handOverDurable(ready.committedEntries);
          this.committedWithheld = durableHandedOver < ready.committedEntries.length;
        } else {
          // A snapshot install replaces the machine's state: whatever is queued goes in first.
          this.committedWithheld = ready.committedEntries.length > 0;
          await this.applyStage.drained();
          this.installingSnapshot = true;
        }
        await this.persist(ready);
        this.installingSnapshot = false;
        await this.send(ready, afterPersist);
        this.handOver(ready, durableHandedOver);
        this.core.advance(ready);
        if (this.observer !== null) this.afterReadyObserved(this.observer, ready);
        await this.applyStage.belowLimit();
        // Let the requests and messages that arrived during the write in first: the next Ready
        // then takes them all, one write and one message per follower for more of them.
        await new Promise((resolve) => setImmediate(resolve));
      } else if (this.finishedSnapshot === null) {
        return;
      }
      await this.takeInFinishedSnapshot();
      if (this.applyStage.idle) this.maybeStartSnapshot();
      this.noticeLeadershipChange();
      this.tellObserver();
    }
  }

  /** Before any message of this Ready leaves: a leader sends to a new learner right after the commit. */
  private tellAppended(listener: MembershipListener, ready: Ready): void {
    for (const entry of ready.entries) if (entry.kind === 'config') listener.appended(entry.change, entry.index);
  }

  private afterReadyObserved(observer: RaftNodeObserver, ready: Ready): void {
    if (ready.committedEntries.length > 0) observer.entriesCommitted(ready.committedEntries.length);
    if (ready.snapshot !== null) observer.snapshot('installed');
    observer.stateSeen(this.observedState());
  }

  /**
   * Tells the observer of an election this node started or a new leader it
   * learnt of, derived from the core's term, role and leader: the term rises
   * only by campaigning (this node is then a candidate, or leader at once
   * when alone) or by hearing of a higher one (it is then a follower).
   */
  private tellObserver(): void {
    const observer = this.observer;
    if (observer === null) return;
    const { term, role, leader } = this.core;
    if (term === this.observedTerm && leader === this.observedLeader) return;
    if (term > this.observedTerm && (role === 'candidate' || role === 'leader')) observer.electionStarted(term);
    if (leader !== null && leader !== this.observedLeader) observer.leaderChanged(leader, term);
    this.observedTerm = term;
    this.observedLeader = leader;
    observer.stateSeen(this.observedState());
  }

  private observedState(): RaftNodeState {
    return {
      term: this.core.term,
      commitIndex: this.core.commitIndex,
      appliedIndex: this.parts.machine.appliedIndex,
      isLeader: this.core.role === 'leader',
    };
  }

  private async persist(ready: Ready): Promise<void> {
    const { snapshots, log, hardState, machine } = this.parts;
    for (const chunk of ready.snapshotChunksReceived) {
      await snapshots.receiveChunk(chunk.snapshot, chunk.offset, chunk.data);
    }
    if (ready.snapshot !== null) {
      // Our own snapshot in the making would land beside the leader's: let it finish first.
      if (this.snapshotWrite !== null) await this.snapshotWrite;
      const installed = await snapshots.installReceived(ready.snapshot);
      const chunkBytes = this.options.restoreChunkBytes ?? RESTORE_CHUNK_BYTES;
      await machine.restore(snapshots.chunks(installed.meta.index, chunkBytes), installed.meta.index);
      await log.reset(installed.meta.index);
      this.lastSnapshotIndex = installed.meta.index;
    }
    const writes: Promise<void>[] = [];
    if (ready.entries.length > 0) writes.push(log.append(ready.entries));
    // The commit index alone need not be durable (it is learnt again from the leader,
    // and the machine records what it applied): save only when the term or vote moved.
    // The commit index is saved too when it passes a membership change (see membershipUnsaved).
    const hard = ready.hardState;
    const termOrVoteMoved = hard !== null && (hard.term !== this.savedTerm || hard.votedFor !== this.savedVote);
    const saveCommit = hard !== null && this.core.membershipIndex > this.savedCommit;
    if (hard !== null && (termOrVoteMoved || saveCommit)) {
      writes.push(hardState.save(hard));
      this.savedTerm = hard.term;
      this.savedVote = hard.votedFor;
    }
    await Promise.all(writes);
    // Only now: until the write is durable, the new membership must not show (membershipUnsaved).
    if (hard !== null && (termOrVoteMoved || saveCommit)) this.savedCommit = Math.max(this.savedCommit, hard.commit);
  }

  private savedTerm = -1;
  private savedVote: NodeId | null = null;
  /** The commit index on disk, as far as membership needs it (see membershipUnsaved). */
  private savedCommit = 0;

  /**
   * Whether the core counts with a membership change that the saved commit
   * index does not cover yet. A restart finds the membership as of the saved
   * commit, so until it is saved nothing decided under the new membership may
   * leave this node (messages, replies): otherwise a crash now could bring the
   * node back under the old membership while others went on under the new
   * one, and two majorities that do not overlap could elect two leaders.
   */
  private membershipUnsaved(): boolean {
    return this.core.membershipIndex > this.savedCommit;
  }

  /**
   * Which of a Ready's messages may leave before its writes are durable, and which must wait.
   * A leader's appends and heartbeats may go first (Raft thesis, 10.2.1): followers write the
   * entries while the leader does, and the core counts the leader's own copy toward a commit only
   * once it is stable (advance), so a majority of durable copies still decides every commit.
   * Only while the term and vote they carry are already on disk: a message of a term this node
   * could forget in a crash must not go out. Votes and acks always wait: they promise what the
   * disk must already hold.
   */
  private splitMessages(ready: Ready): [early: readonly Message[], afterPersist: readonly Message[]] {
    const hard = ready.hardState;
    const termDurable = hard === null || (hard.term === this.savedTerm && hard.votedFor === this.savedVote);
    if (!termDurable || ready.messages.length === 0 || this.core.role !== 'leader' || this.membershipUnsaved()) {
      return [[], ready.messages];
    }
    const early: Message[] = [];
    const afterPersist: Message[] = [];
    for (const message of ready.messages) {
      const replication = message.type === 'append' || message.type === 'heartbeat';
      (replication && message.term === this.savedTerm ? early : afterPersist).push(message);
    }
    return [early, afterPersist];
  }

  private async send(ready: Ready, messages: readonly Message[]): Promise<void> {
    for (const message of messages) this.parts.peers.send(message);
    for (const chunk of ready.snapshotChunksToSend) {
      let data: Uint8Array;
      try {
        data = await this.parts.snapshots.readChunk(chunk.snapshot.index, chunk.offset, chunk.sizeBytesMax);
      } catch (error) {
        // The transfer ended since this chunk was queued, and its snapshot was pruned: nobody needs it.
        const index = chunk.snapshot.index;
        if (index !== this.core.snapshot.index && !this.core.snapshotsInTransfer().includes(index)) continue;
        throw error;
      }
      this.parts.peers.send(snapshotChunkMessage(chunk, data));
    }
  }

  /**
   * Hands the apply stage a commit learnt while a Ready's writes are in
   * flight (an acknowledgement that arrived meanwhile), when its entries are
   * durable here: the leader then answers without waiting for those writes.
   * Not while a snapshot is installed, nor past the stage's backlog bound.
   */
  private applyCommittedNow(): void {
    if (!this.loopRunning || this.installingSnapshot || this.applyStage.full || this.membershipUnsaved()) return;
    // Entries after a Ready's withheld ones would be applied before them.
    if (this.committedWithheld) return;
    const entries = this.core.takeCommittedEntries();
    if (entries.length === 0) return;
    this.applyStage.enqueue(entries);
    this.observer?.entriesCommitted(entries.length);
  }

  /** Hands over the leading committed entries that this node's log holds durably already; returns how many. */
  private handOverDurable(committed: readonly Entry[]): number {
    if (this.membershipUnsaved()) return 0;
    const stable = this.core.stableIndex;
    let count = 0;
    while (count < committed.length && committed[count]!.index <= stable) count++;
    this.applyStage.enqueue(count === committed.length ? committed : committed.slice(0, count));
    return count;
  }

  /**
   * Gives the rest of the Ready's committed entries, durable here now, to the
   * apply stage; its reads wait for the apply of their index (at once if the
   * machine is there).
   */
  private handOver(ready: Ready, handedOverAlready: number): void {
    const committed = ready.committedEntries;
    if (handedOverAlready < committed.length) this.applyStage.enqueue(committed.slice(handedOverAlready));
    this.committedWithheld = false;
    for (const read of ready.readStates) this.readIndexKnown(read);
    // Also after a snapshot install, which moves the machine without an apply.
    if (this.reads.size > 0) this.releaseReads();
  }

  /**
   * The machine decided its replies to these entries before its write is
   * done: answer the commands' proposers now (ports.ts says why that is
   * safe). Membership changes are answered in applied(), with the rest.
   */
  private decided(entries: readonly Entry[], replies: readonly unknown[]): void {
    if (this.proposals.size === 0) return;
    for (let position = 0; position < entries.length; position++) {
      const entry = entries[position]!;
      if (entry.kind === 'command') this.settleProposal(entry.index, entry.term, replies[position]);
    }
  }

  /** The apply stage's report: settle what waited for these entries, and snapshot if it is time. */
  private applied(entries: readonly Entry[], replies: readonly unknown[]): void {
    for (let position = 0; position < entries.length; position++) {
      const entry = entries[position]!;
      if (entry.kind === 'command') this.appliedBytesSinceSnapshot += entry.data.byteLength;
      else if (entry.kind === 'config') this.options.membershipListener?.applied(entry.change, entry.index);
      if (this.proposals.size > 0) this.settleProposal(entry.index, entry.term, replies[position]);
    }
    this.releaseReads();
    this.maybeStartSnapshot();
    if (this.observer !== null) this.observer.stateSeen(this.observedState());
  }

  private settleProposal(index: LogIndex, term: number, reply: unknown): void {
    const pending = this.proposals.get(index);
    if (pending === undefined) return;
    this.proposals.delete(index);
    if (pending.term === term) pending.resolve(reply);
    else pending.reject(outcomeUnknown(`another leader's entry took index ${index}`));
  }

  private readIndexKnown(read: ReadState): void {
    const pending = this.reads.get(read.context);
    if (pending !== undefined) pending.index = read.index;
  }

  private releaseReads(): void {
    const applied = this.parts.machine.appliedIndex;
    for (const [context, read] of this.reads) {
      if (read.index !== null && read.index <= applied) {
        this.reads.delete(context);
        read.resolve();
      }
    }
  }

  /** Takes in a snapshot that finished writing: the core and the log move up to it. */
  private async takeInFinishedSnapshot(): Promise<void> {
    const finished = this.finishedSnapshot;
    if (finished === null) return;
    this.finishedSnapshot = null;
    // A leader's newer snapshot may have been installed while ours was written.
    if (finished.meta.index > this.core.snapshot.index) {
      this.core.snapshotTaken(finished.meta.index, finished.meta.sizeBytes);
      await this.parts.log.compact(this.core.firstIndex - 1);
    }
    await this.parts.snapshots.prune(this.core.snapshotsInTransfer());
  }

  /**
   * Starts a snapshot when enough was applied since the last. Called only
   * while the machine is idle (between two applies). Writing streams the
   * whole state to a file, which can take seconds for a large store, so it
   * runs beside the Ready loop instead of inside it: heartbeats and
   * replication go on. The machine's snapshot() is a point-in-time view of
   * the moment it is called, so later applies do not leak into it.
   */
  private maybeStartSnapshot(): void {
    if (this.stopped || this.fatal !== null) return;
    const { machine, snapshots } = this.parts;
    const applied = machine.appliedIndex;
    const everyEntries = this.options.snapshotEveryEntries;
    const due =
      (everyEntries !== undefined && applied - this.lastSnapshotIndex >= everyEntries) ||
      this.appliedBytesSinceSnapshot >= (this.options.snapshotEveryBytes ?? SNAPSHOT_EVERY_BYTES_DEFAULT);
    if (this.snapshotWrite !== null || !due || applied <= this.lastSnapshotIndex || applied > this.core.appliedIndex) {
      return;
    }
    const position = this.core.snapshotPosition(applied);
    const chunks = machine.snapshot();
    this.lastSnapshotIndex = applied;
    this.appliedBytesSinceSnapshot = 0;
    this.snapshotWrite = snapshots
      .write(position, chunks)
      .then(
        (stored) => {
          this.finishedSnapshot = stored;
          this.observer?.snapshot('taken');
        },
        (error: unknown) => this.fail(error),
      )
      .finally(() => {
        this.snapshotWrite = null;
        this.kick();
      });
  }

  /** A leader that stepped down cannot tell what becomes of its pending requests. */
  private noticeLeadershipChange(): void {
    const role = this.core.role;
    if (role === this.lastRole) return;
    if (this.lastRole === 'leader') {
      for (const [index, proposal] of this.proposals) {
        this.proposals.delete(index);
        proposal.reject(outcomeUnknown('leadership was lost before the request was applied'));
      }
      for (const [context, read] of this.reads) {
        this.reads.delete(context);
        read.reject(notLeader(this.core.leader));
      }
    }
    this.lastRole = role;
  }

  /**
   * Stops the node as a failed write of its own does: for a failure of its
   * storage that none of its calls saw, such as the state machine's engine
   * failing to flush held writes in the background. Once only: a node that
   * already stopped after a failure keeps the first.
   */
  stopAfterFailure(error: unknown): void {
    if (this.stopped) return;
    this.fail(error);
  }

  /** Stops the node after a failure; the first failure is the one kept and told (onFatal is called once). */
  private fail(error: unknown): void {
    if (this.fatal !== null) return;
    const failure = error instanceof Error ? error : new Error(String(error));
    this.fatal = failure;
    this.stopTicking();
    this.failPending(new NodeError('stopped', `the node stopped after a failure: ${failure.message}`));
    this.fatalHandler(failure);
  }

  private failPending(error: NodeError): void {
    for (const proposal of this.proposals.values()) proposal.reject(error);
    this.proposals.clear();
    for (const read of this.reads.values()) read.reject(error);
    this.reads.clear();
  }

  private stoppedError(): NodeError {
    const why = this.fatal === null ? 'it was stopped' : `it failed: ${this.fatal.message}`;
    return new NodeError('stopped', `this node does not serve requests: ${why}`);
  }
}

/** Whether `change` has been made already: a retried step that finds it so is done. */
function changeInEffect(membership: Membership, change: ConfigChange): boolean {
  switch (change.type) {
    case 'addLearner':
      return isMember(membership, change.node);
    case 'promoteLearner':
      return isVoter(membership, change.node);
    case 'removeNode':
      return !isMember(membership, change.node);
    case 'bootstrap':
      return false;
  }
}
