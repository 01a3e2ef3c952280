/**
 * One member of a Raft group, as a pure state machine.
 *
 * Inputs: tick(), step(message), propose(), proposeConfigChange(),
 * readIndex(), transferLeadership(), snapshotTaken(). Output: ready(), a
 * batch of things to persist, send and apply, acknowledged by advance().
 * Nothing here touches a disk, a socket or a clock, so every behaviour can be
 * replayed exactly from its inputs.
 *
 * Every reaction to a message lives in step() and the handlers it calls,
 * grouped by who receives the message: anyone, a follower, a candidate, the leader.
 */
import type { ProposeResult, RaftError, RequestResult } from './errors.js';
import { ConfigLog } from './config-log.js';
import { LeaderLease } from './leader-lease.js';
import { RaftLog } from './log.js';
import { allMembers, invalidChangeReason, isMember, isVoter, quorumMatch, quorumSize } from './membership.js';
import type {
  AppendEntries,
  AppendResponse,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  Message,
  ReadIndexRequest,
  ReadIndexResponse,
  RequestVote,
  SnapshotResponse,
  VoteResponse,
} from './messages.js';
import type { RaftOptions, ResolvedOptions, RestoredState } from './options.js';
import { resolveOptions } from './options.js';
import { Progress } from './progress.js';
import { ReadOnlyQueue } from './read-only.js';
import type { Ready, SnapshotChunkReceived, SnapshotChunkToSend } from './ready.js';
import type {
  ConfigChange,
  Entry,
  HardState,
  LogIndex,
  Membership,
  NodeId,
  ReadState,
  Role,
  SnapshotMeta,
  SoftState,
  Term,
} from './types.js';
import { entrySizeBytes } from './types.js';

type CampaignKind = 'preVote' | 'election' | 'transfer';

/** Reads waiting for the leader to commit its first entry; beyond this, reads are refused. */
const READS_PENDING_MAX = 4096;

/** A snapshot transfer being received from the leader, chunk by chunk. */
interface IncomingSnapshot {
  readonly snapshot: SnapshotMeta;
  nextOffset: number;
}

export class RaftCore {
  readonly id: NodeId;
  private readonly options: ResolvedOptions;
  private readonly log: RaftLog;

  private currentTerm: Term;
  private vote: NodeId | null;
  private currentRole: Role = 'follower';
  private currentLeader: NodeId | null = null;

  /** Config entries in the log after the snapshot, with the membership each one produces. */
  private readonly configLog: ConfigLog;
  /** Membership as of the commit index: the one in force on this member. */
  private activeMembership: Membership;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private ticksSinceStart = 0;
  private randomizedElectionTicks = 0;
  private votes = new Map<NodeId, boolean>();

  // Leader state.
  private progress = new Map<NodeId, Progress>();
  private transferTarget: NodeId | null = null;
  private transferElapsed = 0;

  private uncommittedBytes = 0;
  private readOnly: ReadOnlyQueue;
  private readsBeforeFirstCommit: { context: string; requester: NodeId }[] = [];
  private lease: LeaderLease;
  private appendsPending = false;
  private readHeartbeatPending = false;

  // Follower state.
  private incomingSnapshot: IncomingSnapshot | null = null;

  // The Ready under construction.
  private outbox: Message[] = [];
  private chunksToSend: SnapshotChunkToSend[] = [];
  private chunksReceived: SnapshotChunkReceived[] = [];
  private snapshotToInstall: SnapshotMeta | null = null;
  private readStates: ReadState[] = [];
  private lastSoftState: SoftState;
  private lastHardState: HardState;
  private readyOutstanding = false;

  constructor(options: RaftOptions, restored: RestoredState) {
    this.options = resolveOptions(options);
    this.id = options.id;
    this.log = new RaftLog(restored.snapshot, restored.entries, restored.hardState.commit, restored.bootstrap);
    this.currentTerm = restored.hardState.term;
    this.vote = restored.hardState.votedFor;
    this.readOnly = new ReadOnlyQueue(READS_PENDING_MAX);
    this.lease = new LeaderLease(this.options.electionTicks);
    this.configLog = new ConfigLog(this.log);
    for (const entry of restored.entries) this.configLog.track(entry);
    this.activeMembership = this.configLog.membershipAt(this.log.committed);
    this.lastSoftState = this.softState();
    this.lastHardState = this.hardState();
    this.resetElectionTimer();
  }

  // ---------------------------------------------------------------- inspection

  get term(): Term {
    return this.currentTerm;
  }
  get role(): Role {
    return this.currentRole;
  }
  get leader(): NodeId | null {
    return this.currentLeader;
  }
  get votedFor(): NodeId | null {
    return this.vote;
  }
  get commitIndex(): LogIndex {
    return this.log.committed;
  }
  /** The last entry handed to the application (in a Ready or by takeCommittedEntries), applied or not yet. */
  get appliedIndex(): LogIndex {
    return this.log.applied;
  }
  get firstIndex(): LogIndex {
    return this.log.firstIndex();
  }
  get lastIndex(): LogIndex {
    return this.log.lastIndex();
  }
  get stableIndex(): LogIndex {
    return this.log.stable;
  }
  get snapshot(): SnapshotMeta {
    return this.log.snapshot;
  }
  get membership(): Membership {
    return this.activeMembership;
  }
  /**
   * The index of the membership change in force: the last config entry at or
   * before the commit index (0 when the snapshot's membership holds). Changes
   * take effect once committed, and a restart finds the membership as of the
   * commit index it saved: the application must save a commit index at least
   * this high before it acts on what the new membership decided.
   */
  get membershipIndex(): LogIndex {
    return this.configLog.lastIndexAtOrBefore(this.log.committed);
  }
  get leadershipTransferTarget(): NodeId | null {
    return this.transferTarget;
  }
  /**
   * Indexes of older snapshots that transfers to followers still read from.
   * The application must keep these (as well as the latest) until they no longer appear here.
   */
  snapshotsInTransfer(): LogIndex[] {
    const indexes = new Set<LogIndex>();
    for (const pr of this.progress.values()) {
      if (pr.state === 'snapshot' && pr.snapshot !== null && pr.snapshot.index !== this.log.snapshot.index) {
        indexes.add(pr.snapshot.index);
      }
    }
    return [...indexes];
  }
  entryAt(index: LogIndex): Entry | undefined {
    return this.log.entryAt(index);
  }
  termAt(index: LogIndex): Term | null {
    return this.log.termAt(index);
  }
  /** The leader's view of a follower's log; undefined on non-leaders. */
  progressOf(id: NodeId): { match: LogIndex; next: LogIndex; state: string } | undefined {
    const pr = this.progress.get(id);
    return pr === undefined ? undefined : { match: pr.match, next: pr.next, state: pr.state };
  }
  softState(): SoftState {
    return { role: this.currentRole, leader: this.currentLeader, term: this.currentTerm };
  }
  hardState(): HardState {
    return { term: this.currentTerm, votedFor: this.vote, commit: this.log.committed };
  }

  // -------------------------------------------------------------------- inputs

  /** Advances the logical clock by one tick. */
  tick(): void {
    if (this.ticksSinceStart < this.options.electionTicks) this.ticksSinceStart++;
    if (this.currentRole === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /** Starts an election now, as if the election timer had fired. */
  campaign(): void {
    if (this.currentRole !== 'leader' && this.isPromotable()) {
      this.startCampaign(this.options.preVote ? 'preVote' : 'election');
    }
  }

  propose(data: Uint8Array): ProposeResult {
    const refusal = this.refuseProposal(entrySizeBytes({ kind: 'command', term: 0, index: 0, data }));
    if (refusal !== null) return { ok: false, error: refusal };
    return this.appendAsLeader({ kind: 'command', term: this.currentTerm, index: this.log.lastIndex() + 1, data });
  }

  proposeConfigChange(change: ConfigChange): ProposeResult {
    const refusal = this.refuseProposal(0) ?? this.refuseConfigChange(change);
    if (refusal !== null) return { ok: false, error: refusal };
    return this.appendAsLeader({ kind: 'config', term: this.currentTerm, index: this.log.lastIndex() + 1, change });
  }

  /**
   * Asks for a linearizable read. When it is safe, a ReadState with the same
   * context appears in a later Ready: serve the read once `index` is applied.
   */
  readIndex(context: string): RequestResult {
    if (this.currentRole === 'leader') {
      const error = this.leaderRead(context, this.id);
      return error === null ? { ok: true } : { ok: false, error };
    }
    if (this.currentLeader === null) return { ok: false, error: { code: 'notLeader', leader: null } };
    this.send({ type: 'readIndexRequest', term: this.currentTerm, from: this.id, to: this.currentLeader, context });
    return { ok: true };
  }

  /** Hands leadership to `target` once its log is caught up; proposals are refused meanwhile. */
  transferLeadership(target: NodeId): RequestResult {
    if (this.currentRole !== 'leader') return { ok: false, error: { code: 'notLeader', leader: this.currentLeader } };
    if (target === this.id) return { ok: true };
    if (!isVoter(this.activeMembership, target)) {
      return { ok: false, error: { code: 'invalidConfigChange', reason: `node ${target} is not a voter` } };
    }
    this.transferTarget = target;
    this.transferElapsed = 0;
    const pr = this.progress.get(target)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.sendAppend(target, true);
    return { ok: true };
  }

  /** What a snapshot at `index` (applied already) records of the log: its term and the membership then. */
  snapshotPosition(index: LogIndex): { index: LogIndex; term: Term; membership: Membership } {
    if (index > this.log.applied) throw new Error(`raft: snapshot at ${index} beyond applied ${this.log.applied}`);
    const term = this.log.termAt(index);
    if (term === null) throw new Error(`raft: no term known at ${index}; the log starts at ${this.log.firstIndex()}`);
    return { index, term, membership: this.configLog.membershipAt(index) };
  }

  /**
   * The application has a snapshot of its state machine at `index` (applied
   * already), `sizeBytes` long. The log before it is dropped; followers that
   * need it from now on get this snapshot.
   */
  snapshotTaken(index: LogIndex, sizeBytes: number): SnapshotMeta {
    if (index > this.log.applied) throw new Error(`raft: snapshot at ${index} beyond applied ${this.log.applied}`);
    if (index <= this.log.snapshot.index) return this.log.snapshot;
    const snapshot: SnapshotMeta = {
      index,
      term: this.log.termAt(index)!,
      membership: this.configLog.membershipAt(index),
      sizeBytes,
    };
    this.log.compact(snapshot, this.options.snapshotCatchUpEntries);
    this.configLog.compactTo(index);
    // Transfers under way go on with the snapshot they started with: restarting
    // them at every new snapshot would starve a follower while writes keep coming.
    return snapshot;
  }

  step(m: Message): void {
    if (m.to !== this.id) throw new Error(`raft ${this.id}: got a message for ${m.to}`);
    if (m.term > this.currentTerm) {
      if (m.type === 'requestVote' && !m.leadershipTransfer && this.inLeaderLease()) {
        // A leader was heard from within the election timeout: this candidate
        // is out of touch, and must not depose a working leader (§4.2.3).
        return;
      }
      // Pre-votes and granted answers to ours are about term+1 and must not move anybody's term.
      const isPreVoteTraffic =
        (m.type === 'requestVote' && m.preVote) || (m.type === 'voteResponse' && m.preVote && m.granted);
      if (!isPreVoteTraffic) {
        const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'installSnapshot';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.currentTerm) {
      this.answerStale(m);
      return;
    }

    switch (m.type) {
      case 'requestVote':
        return this.handleVoteRequest(m);
      case 'voteResponse':
        return this.handleVoteResponse(m);
      case 'append':
      case 'heartbeat':
      case 'installSnapshot':
        return this.handleLeaderTraffic(m);
      case 'appendResponse':
        return this.handleAppendResponse(m);
      case 'heartbeatResponse':
        return this.handleHeartbeatResponse(m);
      case 'snapshotResponse':
        return this.handleSnapshotResponse(m);
      case 'timeoutNow':
        if (this.currentRole !== 'leader' && this.isPromotable()) this.startCampaign('transfer');
        return;
      case 'readIndexRequest':
        return this.handleReadIndexRequest(m);
      case 'readIndexResponse':
        return this.handleReadIndexResponse(m);
    }
  }

  // ------------------------------------------------------------- ready/advance

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    this.flushLeaderBroadcasts();
    const soft = this.lastSoftState;
    const hard = this.lastHardState;
    return (
      soft.role !== this.currentRole ||
      soft.leader !== this.currentLeader ||
      soft.term !== this.currentTerm ||
      hard.term !== this.currentTerm ||
      hard.votedFor !== this.vote ||
      hard.commit !== this.log.committed ||
      this.log.stable < this.log.lastIndex() ||
      this.outbox.length > 0 ||
      this.chunksToSend.length > 0 ||
      this.chunksReceived.length > 0 ||
      this.snapshotToInstall !== null ||
      this.readStates.length > 0 ||
      this.log.committed > this.log.applied
    );
  }

  /** Takes the pending batch. The caller must handle it (see ready.ts) and call advance() before the next one. */
  ready(): Ready {
    if (this.readyOutstanding) throw new Error('raft: ready() called again before advance()');
    this.flushLeaderBroadcasts();
    const soft = this.softState();
    const hard = this.hardState();
    const softChanged =
      soft.role !== this.lastSoftState.role ||
      soft.leader !== this.lastSoftState.leader ||
      soft.term !== this.lastSoftState.term;
    const hardChanged =
      hard.term !== this.lastHardState.term ||
      hard.votedFor !== this.lastHardState.votedFor ||
      hard.commit !== this.lastHardState.commit;
    const ready: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      snapshotChunksReceived: this.chunksReceived,
      snapshot: this.snapshotToInstall,
      entries: this.log.unstableEntries(),
      messages: dropSupersededAcks(this.outbox),
      snapshotChunksToSend: this.chunksToSend,
      committedEntries: this.log.nextToApply(this.options.applyBytesMax),
      readStates: this.readStates,
    };
    this.lastSoftState = soft;
    this.lastHardState = hard;
    this.outbox = [];
    this.chunksToSend = [];
    this.chunksReceived = [];
    this.snapshotToInstall = null;
    this.readStates = [];
    this.readyOutstanding = true;
    // Handed out now: a takeCommittedEntries() before advance() starts after them.
    const lastCommitted = ready.committedEntries.at(-1);
    if (lastCommitted !== undefined) this.log.applied = lastCommitted.index;
    return ready;
  }

  /**
   * Committed entries, durable here already, that no Ready has handed out:
   * for an application that applies beside its Ready handling. Callable while
   * a Ready is outstanding (its writes in flight), so that a commit learnt
   * meanwhile is applied without waiting for those writes. Each entry is
   * handed out once, in order: the next Ready's committedEntries start after.
   */
  takeCommittedEntries(): Entry[] {
    const entries = this.log.nextDurableToApply(this.options.applyBytesMax);
    const last = entries.at(-1);
    if (last !== undefined) this.log.applied = last.index;
    return entries;
  }

  /** The batch from ready() is persisted and sent, and its committed entries applied or handed to the applier. */
  advance(ready: Ready): void {
    if (!this.readyOutstanding) throw new Error('raft: advance() without ready()');
    this.readyOutstanding = false;
    // A conflicting append may have replaced the Ready's tail meanwhile; what was
    // written and still matches is durable all the same.
    for (let k = ready.entries.length - 1; k >= 0; k--) {
      const entry = ready.entries[k]!;
      if (this.log.matchTerm(entry.index, entry.term)) {
        this.log.stableTo(entry.index, entry.term);
        break;
      }
    }
    if (this.currentRole === 'leader' && this.maybeCommit()) this.appendsPending = true;
  }

  // ---------------------------------------------------------- any role: votes

  private handleVoteRequest(m: RequestVote): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.currentLeader === null) ||
      (m.preVote && m.term > this.currentTerm);
    const granted = canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm);
    this.send({
      type: 'voteResponse',
      term: granted && m.preVote ? m.term : this.currentTerm,
      from: this.id,
      to: m.from,
      preVote: m.preVote,
      granted,
    });
    if (granted && !m.preVote) {
      this.vote = m.from;
      this.electionElapsed = 0;
    }
  }

  private handleVoteResponse(m: VoteResponse): void {
    const expectedRole: Role = m.preVote ? 'preCandidate' : 'candidate';
    if (this.currentRole !== expectedRole || !isVoter(this.activeMembership, m.from)) return;
    this.votes.set(m.from, m.granted);
    let granted = 0;
    for (const [voter, yes] of this.votes) if (yes && isVoter(this.activeMembership, voter)) granted++;
    const rejected = this.votes.size - granted;
    const quorum = quorumSize(this.activeMembership);
    if (granted >= quorum) {
      if (m.preVote) this.startCampaign('election');
      else this.becomeLeader();
    } else if (rejected > this.activeMembership.voters.length - quorum) {
      this.becomeFollower(this.currentTerm, null);
    }
  }

  /** A message from an older term: tell its sender the news where that unblocks it, else drop it. */
  private answerStale(m: Message): void {
    if (m.type === 'append' || m.type === 'heartbeat') {
      // An old leader that we ignore would never learn it was deposed; with
      // check-quorum or pre-vote we may have refused the votes that would tell it.
      this.send({
        type: 'appendResponse',
        term: this.currentTerm,
        from: this.id,
        to: m.from,
        success: false,
        matchIndex: 0,
        rejectedIndex: 0,
        hintIndex: 0,
        hintTerm: 0,
      });
    } else if (m.type === 'requestVote' && m.preVote) {
      this.send({
        type: 'voteResponse',
        term: this.currentTerm,
        from: this.id,
        to: m.from,
        preVote: true,
        granted: false,
      });
    }
  }

  // ------------------------------------------------------- follower: the log

  private handleLeaderTraffic(m: AppendEntries | Heartbeat | InstallSnapshot): void {
    if (this.currentRole === 'leader') {
      throw new Error(`raft ${this.id}: two leaders in term ${this.currentTerm} (${this.id} and ${m.from})`);
    }
    if (this.currentRole !== 'follower' || this.currentLeader !== m.from) this.becomeFollower(m.term, m.from);
    this.electionElapsed = 0;
    switch (m.type) {
      case 'append':
        return this.handleAppend(m);
      case 'heartbeat':
        return this.handleHeartbeat(m);
      case 'installSnapshot':
        return this.handleSnapshotChunk(m);
    }
  }

  private handleAppend(m: AppendEntries): void {
    const reply = { type: 'appendResponse', term: this.currentTerm, from: this.id, to: m.from } as const;
    if (m.prevIndex < this.log.committed) {
      // Everything up to our commit index is already equal to the leader's log.
      this.send({
        ...reply,
        success: true,
        matchIndex: this.log.committed,
        rejectedIndex: 0,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    const matched = this.log.appendFromLeader(m.prevIndex, m.prevTerm, m.entries);
    if (matched === null) {
      const hintIndex = this.log.lastIndexWithTermAtMost(m.prevIndex, m.prevTerm);
      const hintTerm = this.log.termAt(hintIndex) ?? 0;
      this.send({ ...reply, success: false, matchIndex: 0, rejectedIndex: m.prevIndex, hintIndex, hintTerm });
      return;
    }
    this.configLog.syncAfterAppend(m.entries);
    this.commitTo(Math.min(m.commit, matched));
    this.send({ ...reply, success: true, matchIndex: matched, rejectedIndex: 0, hintIndex: 0, hintTerm: 0 });
  }

  private handleHeartbeat(m: Heartbeat): void {
    // The leader sends min(our match, its commit), so this never commits an entry we do not share.
    this.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({
      type: 'heartbeatResponse',
      term: this.currentTerm,
      from: this.id,
      to: m.from,
      readContext: m.readContext,
      round: m.round,
    });
  }

  private handleSnapshotChunk(m: InstallSnapshot): void {
    const reply = {
      type: 'snapshotResponse',
      term: this.currentTerm,
      from: this.id,
      to: m.from,
      snapshotIndex: m.snapshot.index,
    } as const;
    if (m.snapshot.index <= this.log.committed) {
      this.incomingSnapshot = null;
      this.send({ ...reply, nextOffset: m.snapshot.sizeBytes, installed: true });
      return;
    }
    const incoming = this.incomingSnapshot;
    const sameTransfer =
      incoming !== null && incoming.snapshot.index === m.snapshot.index && incoming.snapshot.term === m.snapshot.term;
    if (m.offset === 0 && !sameTransfer) {
      this.incomingSnapshot = { snapshot: m.snapshot, nextOffset: 0 };
    } else if (!sameTransfer || m.offset !== incoming.nextOffset) {
      // Out of order, a duplicate, or a transfer we know nothing of: say where we are.
      this.send({ ...reply, nextOffset: sameTransfer ? incoming.nextOffset : 0, installed: false });
      return;
    }
    const transfer = this.incomingSnapshot!;
    this.chunksReceived.push({ snapshot: m.snapshot, offset: m.offset, data: m.data });
    transfer.nextOffset += m.data.byteLength;
    if (transfer.nextOffset < m.snapshot.sizeBytes) {
      this.send({ ...reply, nextOffset: transfer.nextOffset, installed: false });
      return;
    }
    this.incomingSnapshot = null;
    this.installSnapshot(m.snapshot);
    this.send({ ...reply, nextOffset: transfer.nextOffset, installed: true });
  }

  private installSnapshot(snapshot: SnapshotMeta): void {
    if (this.log.matchTerm(snapshot.index, snapshot.term)) {
      // We hold the entry the snapshot ends at, hence the whole prefix: just commit it.
      this.commitTo(snapshot.index);
      return;
    }
    this.log.restore(snapshot);
    this.configLog.clear();
    this.snapshotToInstall = snapshot;
    this.setMembership(snapshot.membership);
  }

  private handleReadIndexResponse(m: ReadIndexResponse): void {
    if (m.index !== null) this.readStates.push({ context: m.context, index: m.index });
  }

  // -------------------------------------------------------------- elections

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTicks && this.isPromotable()) {
      this.startCampaign(this.options.preVote ? 'preVote' : 'election');
    }
  }

  private isPromotable(): boolean {
    // A snapshot being received does not stop a campaign: the log stays intact until it is installed.
    return isVoter(this.activeMembership, this.id);
  }

  /**
   * Has this member heard from a live leader within the election timeout?
   * A member that just (re)started counts as having heard from one: it may
   * have acknowledged a leader's heartbeat just before it went down, and that
   * leader's lease counts on the promise.
   */
  private inLeaderLease(): boolean {
    if (!this.options.checkQuorum) return false;
    if (this.ticksSinceStart < this.options.electionTicks) return true;
    return this.currentLeader !== null && this.electionElapsed < this.options.electionTicks;
  }

  private startCampaign(kind: CampaignKind): void {
    let voteTerm: Term;
    if (kind === 'preVote') {
      this.currentRole = 'preCandidate';
      voteTerm = this.currentTerm + 1;
    } else {
      this.leaveLeadership();
      this.currentRole = 'candidate';
      this.currentTerm += 1;
      this.vote = this.id;
      voteTerm = this.currentTerm;
    }
    this.currentLeader = null;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer();
    if (quorumSize(this.activeMembership) <= 1) {
      if (kind === 'preVote') this.startCampaign('election');
      else this.becomeLeader();
      return;
    }
    for (const voter of this.activeMembership.voters) {
      if (voter === this.id) continue;
      this.send({
        type: 'requestVote',
        term: voteTerm,
        from: this.id,
        to: voter,
        preVote: kind === 'preVote',
        lastIndex: this.log.lastIndex(),
        lastTerm: this.log.lastTerm(),
        leadershipTransfer: kind === 'transfer',
      });
    }
  }

  private becomeFollower(term: Term, leader: NodeId | null): void {
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.vote = null;
    }
    // A transfer from another leader will not resume where it stopped.
    if (leader !== this.currentLeader || leader === null) this.incomingSnapshot = null;
    this.leaveLeadership();
    this.currentRole = 'follower';
    this.currentLeader = leader;
    this.resetElectionTimer();
  }

  private becomeLeader(): void {
    if (this.currentRole !== 'candidate') throw new Error(`raft ${this.id}: becomeLeader from ${this.currentRole}`);
    this.currentRole = 'leader';
    this.currentLeader = this.id;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.lease = new LeaderLease(this.options.electionTicks);
    this.uncommittedBytes = 0;
    this.progress = new Map();
    for (const id of allMembers(this.activeMembership)) this.addProgress(id);
    // The first entry of a new cluster records its founders, so that nodes added later learn them from the log.
    const index = this.log.lastIndex() + 1;
    const firstEntry: Entry =
      index === 1
        ? {
            kind: 'config',
            term: this.currentTerm,
            index,
            change: { type: 'bootstrap', membership: this.activeMembership },
          }
        : { kind: 'noop', term: this.currentTerm, index };
    this.appendAsLeader(firstEntry);
  }

  /** Drops everything that only a leader keeps. */
  private leaveLeadership(): void {
    this.progress.clear();
    this.transferTarget = null;
    this.uncommittedBytes = 0;
    this.readOnly.clear();
    this.readsBeforeFirstCommit = [];
    this.appendsPending = false;
    this.readHeartbeatPending = false;
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const spread = this.options.electionTicks;
    this.randomizedElectionTicks = spread + Math.floor(this.options.random() * spread);
  }

  // ------------------------------------------------------ leader: replication

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    this.lease.tick();
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0;
      if (this.options.checkQuorum && !this.quorumRecentlyActive()) {
        this.becomeFollower(this.currentTerm, null);
        return;
      }
      for (const pr of this.progress.values()) pr.recentActive = false;
    }
    if (this.transferTarget !== null && ++this.transferElapsed >= this.options.electionTicks) {
      this.transferTarget = null;
    }
    // A chunk or its answer was lost: send it again after two heartbeats without news.
    const resendTicks = 2 * this.options.heartbeatTicks;
    for (const [id, pr] of this.progress) {
      if (pr.state === 'snapshot' && ++pr.snapshotIdleTicks >= resendTicks) this.sendSnapshotChunk(id, pr);
    }
    if (this.heartbeatElapsed >= this.options.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.readOnly.lastContext());
    }
  }

  private quorumRecentlyActive(): boolean {
    let active = 0;
    for (const voter of this.activeMembership.voters) {
      if (voter === this.id || this.progress.get(voter)?.recentActive) active++;
    }
    return active >= quorumSize(this.activeMembership);
  }

  private refuseProposal(sizeBytes: number): RaftError | null {
    if (this.currentRole !== 'leader') return { code: 'notLeader', leader: this.currentLeader };
    if (this.transferTarget !== null) return { code: 'transferInProgress', target: this.transferTarget };
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + sizeBytes > this.options.uncommittedBytesMax) {
      return { code: 'tooManyUncommitted', uncommittedBytes: this.uncommittedBytes };
    }
    return null;
  }

  private refuseConfigChange(change: ConfigChange): RaftError | null {
    // One change at a time, and only after this leader committed an entry of
    // its own term: the fix for the single-server change bug (Ongaro, raft-dev 2015).
    if (this.configLog.lastIndex() > this.log.committed || this.log.termAt(this.log.committed) !== this.currentTerm) {
      return { code: 'configChangePending' };
    }
    const reason = invalidChangeReason(this.activeMembership, change);
    if (reason !== null) return { code: 'invalidConfigChange', reason };
    if (change.type === 'promoteLearner') {
      const match = this.progress.get(change.node)?.match ?? 0;
      const last = this.log.lastIndex();
      if (last - match > this.options.learnerCatchUpEntries) {
        return { code: 'learnerNotCaughtUp', node: change.node, match, last };
      }
    }
    return null;
  }

  private appendAsLeader(entry: Entry): ProposeResult {
    this.log.append([entry]);
    this.configLog.track(entry);
    this.uncommittedBytes += entrySizeBytes(entry);
    // Sent at the next ready(): every proposal of one event-loop turn shares a message.
    // (A lone voter commits in advance(), once its own disk has the entry.)
    this.appendsPending = true;
    return { ok: true, index: entry.index, term: entry.term };
  }

  private flushLeaderBroadcasts(): void {
    if (this.currentRole !== 'leader') return;
    if (this.appendsPending) {
      this.appendsPending = false;
      // A follower with no new entries hears of a new commit with the next append or heartbeat
      // (a tick at most), not in a message of its own: that would cost it a whole turn (take it
      // in, apply, answer) for news nobody waits on. A read it serves asks for a ReadIndex round,
      // whose heartbeats carry the commit.
      for (const id of this.progress.keys()) this.sendAppends(id);
    }
    if (this.readHeartbeatPending) {
      this.readHeartbeatPending = false;
      this.broadcastHeartbeat(this.readOnly.lastContext());
    }
  }

  /** Sends as much as the follower's window allows; returns whether anything went out. */
  private sendAppends(to: NodeId): boolean {
    let sent = false;
    while (this.sendAppend(to, false)) sent = true;
    return sent;
  }

  /** Sends one append (or starts a snapshot); returns whether a message went out. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === null) {
      this.startSnapshotTransfer(to, pr);
      return false;
    }
    const entries =
      pr.next <= this.log.lastIndex()
        ? this.log.slice(pr.next, this.log.lastIndex(), this.options.messageBytesMax)
        : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: 'append',
      term: this.currentTerm,
      from: this.id,
      to,
      prevIndex,
      prevTerm,
      entries,
      commit: this.log.committed,
    });
    const last = entries[entries.length - 1];
    if (pr.state === 'replicate' && last !== undefined) {
      pr.next = last.index + 1;
      let bytes = 0;
      for (const entry of entries) bytes += entrySizeBytes(entry);
      pr.inflights.add(last.index, bytes);
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
    return true;
  }

  private handleAppendResponse(m: AppendResponse): void {
    if (this.currentRole !== 'leader') return;
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (!m.success) {
      const guess = this.log.lastIndexWithTermAtMost(m.hintIndex, m.hintTerm) + 1;
      if (pr.rejectedAt(m.rejectedIndex, guess)) this.sendAppend(m.from, true);
      return;
    }
    const news = pr.acknowledge(m.matchIndex);
    // A probe that succeeds tells where the logs meet, even when it brings no new entries.
    const probeAnswered = pr.state === 'probe' && m.matchIndex === pr.match;
    if (!news && !probeAnswered) return;
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate();
        break;
      case 'snapshot':
        if (pr.snapshot !== null && pr.match >= pr.snapshot.index) pr.becomeProbe();
        break;
      case 'replicate':
        pr.inflights.freeUpTo(pr.match);
        break;
    }
    // What this acknowledgement lets the leader send (the new commit index, entries the window
    // now has room for) goes out at the next ready(), which is when any message leaves: by then
    // the other followers' acknowledgements and the proposals of this event-loop turn are in,
    // and each follower gets one message carrying all of it instead of one per acknowledgement.
    this.maybeCommit();
    this.appendsPending = true;
    if (m.from === this.transferTarget && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    if (this.currentRole !== 'leader') return;
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    this.lease.confirm(m.from, m.round);
    if (pr.match < this.log.lastIndex()) {
      // A response without progress may mean appends were lost: make room and probe again.
      if (pr.state === 'replicate' && pr.inflights.isFull()) pr.inflights.freeOldest();
      if (pr.state === 'probe') pr.probeSent = false;
      this.sendAppend(m.from, true);
    }
    if (m.readContext !== null) this.confirmRead(m.readContext, m.from);
  }

  /** Commits the highest index a quorum holds, if it is of this term (§5.4.2). */
  private maybeCommit(): boolean {
    const candidate = quorumMatch(this.activeMembership, (id) =>
      id === this.id ? this.log.stable : (this.progress.get(id)?.match ?? 0),
    );
    if (candidate <= this.log.committed || this.log.termAt(candidate) !== this.currentTerm) return false;
    this.commitTo(candidate);
    return true;
  }

  private broadcastHeartbeat(readContext: string | null): void {
    const round = this.lease.startRound();
    for (const [id, pr] of this.progress) {
      this.send({
        type: 'heartbeat',
        term: this.currentTerm,
        from: this.id,
        to: id,
        commit: Math.min(pr.match, this.log.committed),
        readContext,
        round,
      });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.lease.revoke();
    this.send({ type: 'timeoutNow', term: this.currentTerm, from: this.id, to });
  }

  private addProgress(id: NodeId): void {
    if (id === this.id || this.progress.has(id)) return;
    const pr = new Progress(this.log.lastIndex() + 1, this.options.inflightMessagesMax, this.options.inflightBytesMax);
    pr.recentActive = true;
    this.progress.set(id, pr);
  }

  // --------------------------------------------------------- leader: snapshots

  private startSnapshotTransfer(to: NodeId, pr: Progress): void {
    pr.becomeSnapshot(this.log.snapshot);
    this.sendSnapshotChunk(to, pr);
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    pr.snapshotIdleTicks = 0;
    this.chunksToSend.push({
      to,
      from: this.id,
      term: this.currentTerm,
      snapshot: pr.snapshot!,
      offset: pr.snapshotOffset,
      sizeBytesMax: this.options.snapshotChunkBytes,
    });
  }

  private handleSnapshotResponse(m: SnapshotResponse): void {
    if (this.currentRole !== 'leader') return;
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || pr.snapshot === null || m.snapshotIndex !== pr.snapshot.index) return;
    if (m.installed) {
      pr.acknowledge(pr.snapshot.index);
      pr.becomeProbe();
      this.sendAppend(m.from, true);
      return;
    }
    if (m.nextOffset === pr.snapshotOffset) return; // a duplicate answer
    pr.snapshotOffset = m.nextOffset;
    this.sendSnapshotChunk(m.from, pr);
  }

  // ------------------------------------------------------------ leader: reads

  private leaderRead(context: string, requester: NodeId): RaftError | null {
    if (this.transferTarget !== null) return { code: 'transferInProgress', target: this.transferTarget };
    if (this.log.termAt(this.log.committed) !== this.currentTerm) {
      // Until an entry of this term commits, our commit index may lag the true one.
      if (this.readsBeforeFirstCommit.length >= READS_PENDING_MAX) return { code: 'tooManyPendingReads' };
      this.readsBeforeFirstCommit.push({ context, requester });
      return null;
    }
    if (this.activeMembership.voters.length === 1) {
      this.answerRead(context, this.log.committed, requester);
      return null;
    }
    const quorum = quorumSize(this.activeMembership);
    if (this.options.readMode === 'lease' && this.lease.isValid(this.id, this.activeMembership.voters, quorum)) {
      this.answerRead(context, this.log.committed, requester);
      return null;
    }
    if (this.readOnly.has(context)) return { code: 'duplicateReadContext', context };
    if (this.readOnly.isFull()) return { code: 'tooManyPendingReads' };
    this.readOnly.add(context, this.log.committed, requester, this.id);
    this.readHeartbeatPending = true;
    return null;
  }

  private handleReadIndexRequest(m: ReadIndexRequest): void {
    const error: RaftError | null =
      this.currentRole === 'leader'
        ? this.leaderRead(m.context, m.from)
        : { code: 'notLeader', leader: this.currentLeader };
    if (error !== null) this.refuseForwardedRead(m.from, m.context);
  }

  private refuseForwardedRead(to: NodeId, context: string): void {
    this.send({ type: 'readIndexResponse', term: this.currentTerm, from: this.id, to, context, index: null });
  }

  private confirmRead(context: string, from: NodeId): void {
    if (!isVoter(this.activeMembership, from)) return;
    const acks = this.readOnly.acknowledge(context, from);
    if (countVoters(acks, this.activeMembership) < quorumSize(this.activeMembership)) return;
    for (const read of this.readOnly.releaseThrough(context)) this.answerRead(read.context, read.index, read.requester);
  }

  private answerRead(context: string, index: LogIndex, requester: NodeId): void {
    if (requester === this.id) {
      this.readStates.push({ context, index });
    } else {
      this.send({ type: 'readIndexResponse', term: this.currentTerm, from: this.id, to: requester, context, index });
    }
  }

  // ------------------------------------------------------ commit and membership

  private commitTo(index: LogIndex): void {
    if (index <= this.log.committed) return;
    const before = this.log.committed;
    if (this.currentRole === 'leader') {
      for (let i = before + 1; i <= index; i++) {
        const entry = this.log.entryAt(i);
        if (entry !== undefined && entry.term === this.currentTerm) this.uncommittedBytes -= entrySizeBytes(entry);
      }
      this.uncommittedBytes = Math.max(0, this.uncommittedBytes);
    }
    this.log.committed = index;
    // Appends got us past the snapshot being received: it is of no use any more.
    if (this.incomingSnapshot !== null && index >= this.incomingSnapshot.snapshot.index) this.incomingSnapshot = null;
    const membership = this.configLog.membershipAt(index);
    if (membership !== this.activeMembership) this.setMembership(membership);
    if (this.currentRole === 'leader' && this.log.termAt(index) === this.currentTerm) {
      const waiting = this.readsBeforeFirstCommit;
      this.readsBeforeFirstCommit = [];
      for (const read of waiting) {
        const error = this.leaderRead(read.context, read.requester);
        if (error !== null && read.requester !== this.id) this.refuseForwardedRead(read.requester, read.context);
      }
    }
  }

  private setMembership(membership: Membership): void {
    this.activeMembership = membership;
    if (this.currentRole !== 'leader') return;
    for (const id of allMembers(membership)) this.addProgress(id);
    for (const id of [...this.progress.keys()]) if (!isMember(membership, id)) this.progress.delete(id);
    if (this.transferTarget !== null && !isVoter(membership, this.transferTarget)) this.transferTarget = null;
    if (!isVoter(membership, this.id)) {
      this.handOffAfterRemoval();
      return;
    }
    // Fewer voters may make a quorum of what is already replicated.
    if (this.maybeCommit()) this.appendsPending = true;
  }

  /** This leader was removed: nudge the most caught-up voter to take over, then step down. */
  private handOffAfterRemoval(): void {
    let successor: NodeId | null = null;
    let best = -1;
    for (const voter of this.activeMembership.voters) {
      const match = this.progress.get(voter)?.match ?? -1;
      if (match > best) {
        best = match;
        successor = voter;
      }
    }
    if (successor !== null && best === this.log.lastIndex()) this.sendTimeoutNow(successor);
    this.becomeFollower(this.currentTerm, null);
  }

  private send(m: Message): void {
    this.outbox.push(m);
  }
}

function countVoters(ids: ReadonlySet<NodeId>, membership: Membership): number {
  let count = 0;
  for (const id of ids) if (isVoter(membership, id)) count++;
  return count;
}

/**
 * A follower acknowledges every append it takes, and under load several
 * arrive while its log write is in flight: their acknowledgements leave
 * together, after the write. Of the successful ones to one leader in one term
 * only the highest says anything, since a success promises the log up to its
 * matchIndex and the leader keeps the highest it has heard; the others are
 * dropped, so the leader reads one message instead of several. Refusals stay.
 */
function dropSupersededAcks(messages: Message[]): Message[] {
  let acks = 0;
  for (const m of messages) if (m.type === 'appendResponse' && m.success) acks++;
  if (acks < 2) return messages;
  const highest = new Map<string, AppendResponse>();
  const keyOf = (m: AppendResponse): string => `${m.to}/${m.term}`;
  for (const m of messages) {
    if (m.type !== 'appendResponse' || !m.success) continue;
    const best = highest.get(keyOf(m));
    if (best === undefined || m.matchIndex >= best.matchIndex) highest.set(keyOf(m), m);
  }
  return messages.filter((m) => m.type !== 'appendResponse' || !m.success || highest.get(keyOf(m)) === m);
}
