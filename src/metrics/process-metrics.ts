/**
 * The metrics of one raftkv server process (meta, shard or node), on a
 * prom-client Registry of its own, so that several servers in one test
 * process do not share (or collide on) counters. The server hands its hooks
 * to the parts that do the work: `raftNode` to the RaftNode, `syncObserver`
 * to the log and hard state stores, `peerSendObserver` to the peer
 * transport, `bucketMoveObserver` to the shard state machine, and the object
 * itself, a RequestObserver, to whatever serves clients (RESP, HTTP).
 *
 * Every hook only bumps a number: the Ready loop calls some of them after
 * each batch, so none may be slow. Gauges are read at scrape time from the
 * last state the node reported.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RaftNodeObserver, RaftNodeState, SnapshotKind } from '../node/raft-node-observer.js';
import type { NodeId, Term } from '../raft/index.js';
import type { BucketMove } from '../shard/bucket-state.js';
import type { SyncObserver } from '../storage/durable-io.js';
import type { MetricsSource, RecentStats } from './metrics-source.js';
import { RecentRequests } from './recent-requests.js';

export interface ProcessMetricsOptions {
  /** A monotonic clock in milliseconds for the recent window; performance.now() when absent. */
  readonly nowMs?: () => number;
  /** Node.js process metrics (CPU, memory, event-loop lag, GC); on by default. */
  readonly defaultMetrics?: boolean;
}

/**
 * Distinct operation names kept apart, at most; later ones are counted as
 * OTHER_OPERATION. Callers pass a fixed set (get, put, ...), so this only
 * guards against a bug that would make one label value per request.
 */
export const OPERATIONS_MAX = 32;
export const OTHER_OPERATION = 'other';

/** Seconds: from a local read (well under a millisecond) to a write that rode out an election. */
const REQUEST_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: from a fast SSD's fdatasync (~100 us) to a disk that stalls. */
const FSYNC_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const MS_PER_SECOND = 1000;

/** The children of the request metrics for one operation, made once: labels() costs a hash per call. */
interface OperationMetrics {
  readonly ok: Counter.Internal;
  readonly failed: Counter.Internal;
  readonly durationSeconds: Histogram.Internal<string>;
}

export class ProcessMetrics implements MetricsSource, RaftNodeObserver {
  private readonly registry = new Registry();
  private readonly recent: RecentRequests;
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly requestDuration: Histogram<'operation'>;
  private readonly operations = new Map<string, OperationMetrics>();
  private readonly proposals: Counter;
  private readonly commits: Counter;
  private readonly elections: Counter;
  private readonly leaderChanges: Counter;
  private readonly snapshots: Counter<'kind'>;
  private readonly fsyncDuration: Histogram;
  private readonly bytesSent: Counter;
  private readonly messagesSent: Counter;
  private readonly bucketMigrations: Counter<'direction'>;
  /** The node's last reported state, read by the gauges at scrape time. */
  private raftState: RaftNodeState = { term: 0, commitIndex: 0, appliedIndex: 0, isLeader: false };

  constructor(options: ProcessMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.recent = new RecentRequests({ nowMs: options.nowMs ?? (() => performance.now()) });
    this.requests = new Counter({
      name: 'raftkv_requests_total',
      help: 'Client requests served by this process, by operation and outcome (ok or error).',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'raftkv_request_duration_seconds',
      help: 'Time to serve a client request, from its arrival to its reply, errors included.',
      labelNames: ['operation'],
      buckets: REQUEST_BUCKETS_SECONDS,
      registers,
    });
    this.proposals = new Counter({
      name: 'raftkv_raft_proposals_total',
      help: 'Proposals this node took into its Raft log as leader.',
      registers,
    });
    this.commits = new Counter({
      name: 'raftkv_raft_commits_total',
      help: 'Raft log entries this node saw committed.',
      registers,
    });
    const gauge = (name: string, help: string, read: (state: RaftNodeState) => number): void => {
      const metric: Gauge = new Gauge({ name, help, registers, collect: () => metric.set(read(this.raftState)) });
    };
    gauge('raftkv_raft_term', 'The Raft term this node is in.', (state) => state.term);
    gauge('raftkv_raft_commit_index', 'The highest log index this node knows to be committed.', (s) => s.commitIndex);
    gauge(
      'raftkv_raft_applied_index',
      "The highest log index this node's state machine applied.",
      (s) => s.appliedIndex,
    );
    gauge('raftkv_raft_is_leader', '1 while this node leads its group, else 0.', (state) => (state.isLeader ? 1 : 0));
    this.elections = new Counter({
      name: 'raftkv_raft_elections_total',
      help: 'Elections this node started (it became a candidate for a new term).',
      registers,
    });
    this.leaderChanges = new Counter({
      name: 'raftkv_raft_leader_changes_total',
      help: 'Times the leader this node knows of changed to another node (the first leader seen included).',
      registers,
    });
    this.snapshots = new Counter({
      name: 'raftkv_snapshots_total',
      help: "Raft snapshots: taken from this node's own state machine, or installed from the leader's.",
      labelNames: ['kind'],
      registers,
    });
    this.fsyncDuration = new Histogram({
      name: 'raftkv_fsync_duration_seconds',
      help: 'Duration of each fsync of the Raft log (one per write batch) and of the hard state (one per save).',
      buckets: FSYNC_BUCKETS_SECONDS,
      registers,
    });
    this.bytesSent = new Counter({
      name: 'raftkv_transport_bytes_sent_total',
      help: 'Bytes of Raft messages written to peer connections, frame headers included.',
      registers,
    });
    this.messagesSent = new Counter({
      name: 'raftkv_transport_messages_sent_total',
      help: 'Raft messages written to peer connections.',
      registers,
    });
    this.bucketMigrations = new Counter({
      name: 'raftkv_bucket_migrations_total',
      help: 'Buckets this shard group installed from their previous owner (in) or handed off and deleted (out).',
      labelNames: ['direction'],
      registers,
    });
    // Labelled series exist from the start, so that a dashboard sees 0 rather than nothing.
    for (const kind of ['taken', 'installed'] satisfies SnapshotKind[]) this.snapshots.inc({ kind }, 0);
    for (const direction of ['in', 'out'] satisfies BucketMove['direction'][]) {
      this.bucketMigrations.inc({ direction }, 0);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  prometheusText(): Promise<string> {
    return this.registry.metrics();
  }

  recentStats(): RecentStats {
    return this.recent.stats();
  }

  observeRequest(operation: string, durationMs: number, ok: boolean): void {
    const name = this.operations.has(operation) || this.operations.size < OPERATIONS_MAX ? operation : OTHER_OPERATION;
    const metrics = this.operationMetrics(name);
    const seconds = Number.isFinite(durationMs) && durationMs > 0 ? durationMs / MS_PER_SECOND : 0;
    (ok ? metrics.ok : metrics.failed).inc();
    metrics.durationSeconds.observe(seconds);
    this.recent.record(name, seconds * MS_PER_SECOND, ok);
  }

  // RaftNodeObserver: given to the node as its observer.

  proposalAccepted(): void {
    this.proposals.inc();
  }

  entriesCommitted(count: number): void {
    this.commits.inc(count);
  }

  electionStarted(_term: Term): void {
    this.elections.inc();
  }

  leaderChanged(_leader: NodeId, _term: Term): void {
    this.leaderChanges.inc();
  }

  snapshot(kind: SnapshotKind): void {
    this.snapshots.inc({ kind });
  }

  stateSeen(state: RaftNodeState): void {
    this.raftState = state;
  }

  // Hooks of the other layers, as functions to hand over.

  /** For the log store and the hard state store. */
  readonly syncObserver: SyncObserver = (durationSeconds) => {
    this.fsyncDuration.observe(durationSeconds);
  };

  /** For the peer transport. */
  readonly peerSendObserver = (messageCount: number, sizeBytes: number): void => {
    this.messagesSent.inc(messageCount);
    this.bytesSent.inc(sizeBytes);
  };

  /** For the shard state machine. */
  readonly bucketMoveObserver = (move: BucketMove): void => {
    this.bucketMigrations.inc({ direction: move.direction });
  };

  private operationMetrics(operation: string): OperationMetrics {
    let metrics = this.operations.get(operation);
    if (metrics === undefined) {
      metrics = {
        ok: this.requests.labels({ operation, outcome: 'ok' }),
        failed: this.requests.labels({ operation, outcome: 'error' }),
        durationSeconds: this.requestDuration.labels({ operation }),
      };
      this.operations.set(operation, metrics);
    }
    return metrics;
  }
}
