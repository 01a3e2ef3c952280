/**
 * The benchmark engine against an in-memory target: the load phase, the
 * order of workloads, how failures are counted, and stopping early. (Against
 * real processes: test/e2e/bench.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchClient, BenchTarget } from '../../../src/bench/bench-target.js';
import { LoadFailedError } from '../../../src/bench/load-phase.js';
import type { ProgressDisplay } from '../../../src/bench/progress.js';
import { silentProgress } from '../../../src/bench/progress.js';
import type { BenchPlan } from '../../../src/bench/report.js';
import { probeTarget, runBench } from '../../../src/bench/run-bench.js';
import { ClientError } from '../../../src/client/errors.js';

/** A store in a Map; each call answers on the next turn of the event loop, as a socket would. */
class MemoryTarget implements BenchTarget {
  readonly description = 'memory';
  readonly values = new Map<string, Uint8Array>();
  clientsOpen = 0;

  constructor(private readonly behaviour: { dropPuts?: boolean; failPuts?: boolean; failGets?: boolean } = {}) {}

  newClient(): BenchClient {
    this.clientsOpen += 1;
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    return {
      get: async (key) => {
        await turn();
        if (this.behaviour.failGets === true) throw new ClientError('deadlineExceeded', 'no member answered');
        return this.values.get(Buffer.from(key).toString('latin1')) ?? null;
      },
      put: async (key, value) => {
        await turn();
        if (this.behaviour.failPuts === true) throw new ClientError('deadlineExceeded', 'no member answered');
        if (this.behaviour.dropPuts !== true) this.values.set(Buffer.from(key).toString('latin1'), value);
      },
      close: () => {
        this.clientsOpen -= 1;
      },
    };
  }

  close(): void {}
}

function plan(workloads: BenchPlan['workloads'], keys = 40): BenchPlan {
  return { workloads, clients: 3, keys, valueBytes: 16, durationSeconds: 1, seed: 1 };
}

void describe('runBench', () => {
  void it('puts every key once before the first workload that reads, and the reads find them all', async () => {
    const target = new MemoryTarget();
    const report = await runBench({
      target,
      plan: plan(['put', 'ycsb-c', 'mixed']),
      callDeadlineMs: 1000,
      progress: silentProgress,
      stop: { stopped: false },
    });
    assert.equal(report.load?.keys, 40);
    assert.equal(target.values.size, 40);
    assert.ok([...target.values.keys()].every((key) => /^bench:000000[0-3]\d$/.test(key)));
    assert.deepEqual(
      report.results.map((result) => result.workload),
      ['put', 'ycsb-c', 'mixed'],
    );
    for (const result of report.results) {
      assert.equal(result.errors, 0, `${result.workload}: ${JSON.stringify(result.errorsByCode)}`);
      assert.ok(result.ops > 0);
      assert.equal(result.clients, 3);
    }
    assert.equal(report.results[1]!.puts, 0, 'ycsb-c only reads');
    assert.equal(report.interrupted, false);
    assert.equal(target.clientsOpen, 0, 'every client was closed');
  });

  void it('loads nothing when no workload reads', async () => {
    const report = await runBench({
      target: new MemoryTarget(),
      plan: plan(['put']),
      callDeadlineMs: 1000,
      progress: silentProgress,
      stop: { stopped: false },
    });
    assert.equal(report.load, null);
  });

  void it('counts a read that finds no value as a missingValue error, not as an op', async () => {
    const report = await runBench({
      target: new MemoryTarget({ dropPuts: true }),
      plan: plan(['get']),
      callDeadlineMs: 1000,
      progress: silentProgress,
      stop: { stopped: false },
    });
    const [get] = report.results;
    assert.equal(get!.ops, 0);
    assert.ok(get!.errors > 0);
    assert.deepEqual(Object.keys(get!.errorsByCode), ['missingValue']);
    assert.equal(get!.latencyMs, null);
  });

  void it('counts failed calls by code and goes on', async () => {
    const report = await runBench({
      target: new MemoryTarget({ failPuts: true }),
      plan: plan(['put']),
      callDeadlineMs: 1000,
      progress: silentProgress,
      stop: { stopped: false },
    });
    assert.equal(report.results[0]!.ops, 0);
    assert.equal(report.results[0]!.errorsByCode['deadlineExceeded'], report.results[0]!.errors);
  });

  void it('gives up with a reason when the keys cannot be loaded', async () => {
    await assert.rejects(
      runBench({
        target: new MemoryTarget({ failPuts: true }),
        plan: plan(['ycsb-a']),
        callDeadlineMs: 1000,
        progress: silentProgress,
        stop: { stopped: false },
      }),
      (error: Error) =>
        error instanceof LoadFailedError &&
        /^loading key \d+ of 40 failed 3 times \(last: no member answered\); is the cluster healthy\?$/.test(
          error.message,
        ),
    );
  });

  void it('stops after the workload running when stopped (Ctrl-C), and says the report is partial', async () => {
    const stop = { stopped: false };
    const labels: string[] = [];
    const progress: ProgressDisplay = (phase) => {
      labels.push(phase.label);
      if (phase.label.startsWith('get')) stop.stopped = true;
      return () => {};
    };
    const report = await runBench({
      target: new MemoryTarget(),
      plan: plan(['put', 'get', 'ycsb-a']),
      callDeadlineMs: 1000,
      progress,
      stop,
    });
    assert.deepEqual(labels, ['put, 3 clients', 'load 40 keys', 'get, 3 clients']);
    assert.deepEqual(
      report.results.map((result) => result.workload),
      ['put', 'get'],
    );
    assert.equal(report.interrupted, true);
  });
});

void describe('probeTarget', () => {
  void it('answers null when a read succeeds, else the client’s reason', async () => {
    assert.equal(await probeTarget(new MemoryTarget(), 1000), null);
    assert.equal(await probeTarget(new MemoryTarget({ failGets: true }), 1000), 'no member answered');
  });
});
