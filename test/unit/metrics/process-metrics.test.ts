import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPERATIONS_MAX, OTHER_OPERATION, ProcessMetrics } from '../../../src/metrics/process-metrics.js';
import type { Exposition } from './prometheus-text.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';

const RAFTKV_METRICS: Record<string, string> = {
  raftkv_requests_total: 'counter',
  raftkv_request_duration_seconds: 'histogram',
  raftkv_raft_proposals_total: 'counter',
  raftkv_raft_commits_total: 'counter',
  raftkv_raft_term: 'gauge',
  raftkv_raft_commit_index: 'gauge',
  raftkv_raft_applied_index: 'gauge',
  raftkv_raft_is_leader: 'gauge',
  raftkv_raft_elections_total: 'counter',
  raftkv_raft_leader_changes_total: 'counter',
  raftkv_snapshots_total: 'counter',
  raftkv_fsync_duration_seconds: 'histogram',
  raftkv_transport_bytes_sent_total: 'counter',
  raftkv_transport_messages_sent_total: 'counter',
  raftkv_bucket_migrations_total: 'counter',
};

async function scrape(metrics: ProcessMetrics): Promise<Exposition> {
  return parsePrometheusText(await metrics.prometheusText());
}

describe('ProcessMetrics', () => {
  it('a new process exposes every raftkv metric with its type, at zero', async () => {
    const metrics = new ProcessMetrics({ defaultMetrics: false });
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
    const exposition = await scrape(metrics);
    for (const [name, type] of Object.entries(RAFTKV_METRICS)) assert.equal(exposition.types.get(name), type, name);
    for (const name of ['raftkv_raft_proposals_total', 'raftkv_raft_term', 'raftkv_raft_is_leader']) {
      assert.equal(valueOf(exposition, name), 0, name);
    }
    // Labelled series a dashboard plots exist before their first event.
    assert.equal(valueOf(exposition, 'raftkv_snapshots_total', { kind: 'taken' }), 0);
    assert.equal(valueOf(exposition, 'raftkv_snapshots_total', { kind: 'installed' }), 0);
    assert.equal(valueOf(exposition, 'raftkv_bucket_migrations_total', { direction: 'in' }), 0);
    assert.equal(valueOf(exposition, 'raftkv_bucket_migrations_total', { direction: 'out' }), 0);
    assert.equal(valueOf(exposition, 'raftkv_fsync_duration_seconds_count'), 0);
  });

  it('counts requests by operation and outcome, and times them in seconds', async () => {
    const metrics = new ProcessMetrics({ defaultMetrics: false });
    for (const durationMs of [0.3, 2, 2]) metrics.observeRequest('get', durationMs, true);
    metrics.observeRequest('put', 30, false);
    metrics.observeRequest('put', 4, true);
    const exposition = await scrape(metrics);
    assert.equal(valueOf(exposition, 'raftkv_requests_total', { operation: 'get', outcome: 'ok' }), 3);
    assert.equal(valueOf(exposition, 'raftkv_requests_total', { operation: 'put', outcome: 'ok' }), 1);
    assert.equal(valueOf(exposition, 'raftkv_requests_total', { operation: 'put', outcome: 'error' }), 1);
    const getDuration = { operation: 'get' };
    assert.equal(valueOf(exposition, 'raftkv_request_duration_seconds_count', getDuration), 3);
    assert.ok(Math.abs(valueOf(exposition, 'raftkv_request_duration_seconds_sum', getDuration) - 0.0043) < 1e-9);
    const bucket = (le: string, operation = 'get'): number =>
      valueOf(exposition, 'raftkv_request_duration_seconds_bucket', { operation, le });
    assert.equal(bucket('0.0005'), 1);
    assert.equal(bucket('0.001'), 1);
    assert.equal(bucket('0.0025'), 3);
    assert.equal(bucket('+Inf'), 3);
    assert.equal(bucket('0.025', 'put'), 1);
    assert.equal(bucket('0.05', 'put'), 2);
  });

  it("Raft events move the counters, and the node's last state is what the gauges show", async () => {
    const metrics = new ProcessMetrics({ defaultMetrics: false });
    metrics.electionStarted(3);
    metrics.leaderChanged(1, 3);
    metrics.proposalAccepted();
    metrics.proposalAccepted();
    metrics.entriesCommitted(2);
    metrics.entriesCommitted(5);
    metrics.snapshot('taken');
    metrics.stateSeen({ term: 3, commitIndex: 9, appliedIndex: 8, isLeader: true });
    metrics.stateSeen({ term: 4, commitIndex: 12, appliedIndex: 11, isLeader: false });
    const exposition = await scrape(metrics);
    assert.equal(valueOf(exposition, 'raftkv_raft_elections_total'), 1);
    assert.equal(valueOf(exposition, 'raftkv_raft_leader_changes_total'), 1);
    assert.equal(valueOf(exposition, 'raftkv_raft_proposals_total'), 2);
    assert.equal(valueOf(exposition, 'raftkv_raft_commits_total'), 7);
    assert.equal(valueOf(exposition, 'raftkv_snapshots_total', { kind: 'taken' }), 1);
    assert.equal(valueOf(exposition, 'raftkv_raft_term'), 4);
    assert.equal(valueOf(exposition, 'raftkv_raft_commit_index'), 12);
    assert.equal(valueOf(exposition, 'raftkv_raft_applied_index'), 11);
    assert.equal(valueOf(exposition, 'raftkv_raft_is_leader'), 0);
  });

  it('times fsyncs, counts peer traffic and bucket moves through the hooks handed to other layers', async () => {
    const metrics = new ProcessMetrics({ defaultMetrics: false });
    // Hooks are passed around as bare functions: they must not need their object.
    const { syncObserver, peerSendObserver, bucketMoveObserver } = metrics;
    syncObserver(0.0002);
    syncObserver(0.003);
    peerSendObserver(3, 300);
    peerSendObserver(1, 45);
    bucketMoveObserver({ bucket: 4, direction: 'in' });
    bucketMoveObserver({ bucket: 5, direction: 'in' });
    bucketMoveObserver({ bucket: 1, direction: 'out' });
    const exposition = await scrape(metrics);
    assert.equal(valueOf(exposition, 'raftkv_fsync_duration_seconds_count'), 2);
    assert.equal(valueOf(exposition, 'raftkv_fsync_duration_seconds_bucket', { le: '0.00025' }), 1);
    assert.equal(valueOf(exposition, 'raftkv_fsync_duration_seconds_bucket', { le: '0.005' }), 2);
    assert.equal(valueOf(exposition, 'raftkv_transport_messages_sent_total'), 4);
    assert.equal(valueOf(exposition, 'raftkv_transport_bytes_sent_total'), 345);
    assert.equal(valueOf(exposition, 'raftkv_bucket_migrations_total', { direction: 'in' }), 2);
    assert.equal(valueOf(exposition, 'raftkv_bucket_migrations_total', { direction: 'out' }), 1);
  });

  it('keeps at most OPERATIONS_MAX operation names apart and counts the rest as other', async () => {
    const metrics = new ProcessMetrics({ defaultMetrics: false });
    for (let n = 0; n < OPERATIONS_MAX + 5; n++) metrics.observeRequest(`op${n}`, 1, true);
    metrics.observeRequest('op0', 1, true);
    const exposition = await scrape(metrics);
    const operations = new Set(
      exposition.samples.filter((s) => s.name === 'raftkv_requests_total').map((s) => s.labels.operation),
    );
    assert.equal(operations.size, OPERATIONS_MAX + 1);
    assert.equal(valueOf(exposition, 'raftkv_requests_total', { operation: OTHER_OPERATION }), 5);
    assert.equal(valueOf(exposition, 'raftkv_requests_total', { operation: 'op0' }), 2);
    assert.deepEqual(Object.keys(metrics.recentStats().operations).length, OPERATIONS_MAX + 1);
  });

  it('two servers in one process keep their own counts', async () => {
    const first = new ProcessMetrics({ defaultMetrics: false });
    const second = new ProcessMetrics({ defaultMetrics: false });
    first.proposalAccepted();
    assert.equal(valueOf(await scrape(first), 'raftkv_raft_proposals_total'), 1);
    assert.equal(valueOf(await scrape(second), 'raftkv_raft_proposals_total'), 0);
  });

  it("includes Node.js process metrics, event-loop lag among them, in every server's registry", async () => {
    const first = await scrape(new ProcessMetrics());
    const second = await scrape(new ProcessMetrics());
    for (const exposition of [first, second]) {
      assert.equal(exposition.types.get('nodejs_eventloop_lag_seconds'), 'gauge');
      assert.equal(exposition.types.get('process_cpu_seconds_total'), 'counter');
      assert.ok(valueOf(exposition, 'nodejs_heap_size_used_bytes') > 0);
    }
  });

  it('feeds the recent window with the same requests', () => {
    let nowMs = 50_000;
    const metrics = new ProcessMetrics({ defaultMetrics: false, nowMs: () => nowMs });
    metrics.observeRequest('get', 1, true);
    metrics.observeRequest('get', 1, false);
    nowMs += 2_000;
    const stats = metrics.recentStats();
    assert.equal(stats.windowSeconds, 10);
    assert.deepEqual(Object.keys(stats.operations), ['get']);
    assert.equal(stats.operations.get?.count, 2);
    assert.equal(stats.operations.get?.errors, 1);
    assert.equal(stats.operations.get?.perSecond, 1);
  });
});
