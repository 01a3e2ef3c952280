/**
 * What a chaos run reports and when it fails: the --faults names, the
 * violations that turn a run red, and a failed report that carries the seed
 * and the nodes' logs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAULT_KINDS, parseFaultKinds } from '../../e2e/chaos/chaos-faults.js';
import { formatReport, violations } from '../../e2e/chaos/chaos-report.js';
import type { ChaosResult } from '../../e2e/chaos/chaos-run.js';

function passingRun(): ChaosResult {
  return {
    options: { seed: 42, durationMs: 60_000, kinds: FAULT_KINDS, roundsMin: 0, clients: 4, log: () => undefined },
    elapsedSeconds: 80,
    counts: { operations: 1000, acknowledged: 990, gaveUp: { writes: 6, reads: 4 } },
    faults: [
      {
        kind: 'partition-leader',
        atSeconds: 3,
        description: 'leader isolated in group 1',
        servedDuring: { recovered: true, ms: 1_200 },
        recovery: { recovered: true, ms: 40 },
      },
      {
        kind: 'kill',
        atSeconds: 12,
        description: 'SIGKILL meta node 2',
        servedDuring: { recovered: false, stillDown: ['meta'] },
        recovery: { recovered: true, ms: 310 },
      },
    ],
    linearizability: { ok: true },
    keysChecked: 24,
    acknowledgedAppends: 400,
    lostOrDuplicated: [],
    unexpectedErrors: [],
    aborted: null,
    logsTail: '[node 1] {"msg":"the last line"}\n',
  };
}

describe('chaos report', () => {
  it('--faults takes kinds and set names, and names the choices when it meets an unknown one', () => {
    assert.deepEqual(parseFaultKinds('network,kill'), [
      'partition-majority',
      'partition-bridge',
      'partition-leader',
      'kill',
    ]);
    assert.deepEqual(parseFaultKinds('all'), [...FAULT_KINDS]);
    assert.throws(
      () => parseFaultKinds('kill,torn-tail'),
      /unknown fault 'torn-tail': choose among all, kills, network, kill,/,
    );
  });

  it('passes a clean run, with the slowest recovery and one row per fault kind', () => {
    const result = passingRun();
    assert.deepEqual(violations(result), []);
    const report = formatReport(result);
    assert.match(report, /verdict\s+PASS/);
    assert.match(report, /slowest recovery\s+0\.31 s \(kill: SIGKILL meta node 2\)/);
    assert.match(report, /partition-leader\s+1\s+1 of 1, 1\.20 s\s+0\.04 s\s+0\.04 s/);
    assert.doesNotMatch(report, /the last line/);
  });

  it('fails a run that lost a write, broke linearizability or did not recover, and prints the seed and the logs', () => {
    const clean = passingRun();
    const result: ChaosResult = {
      ...clean,
      linearizability: { ok: false, key: 'chaos-shared-3' },
      lostOrDuplicated: ['acknowledged [1.7] on chaos-own-1-0 found 0 times'],
      faults: [
        ...clean.faults,
        {
          kind: 'pause',
          atSeconds: 20,
          description: 'SIGSTOP group 2 node 21',
          servedDuring: { recovered: false, stillDown: ['group 2'] },
          recovery: { recovered: false, stillDown: ['group 2'] },
        },
      ],
    };
    const found = violations(result);
    assert.equal(found.length, 3, found.join('\n'));
    const report = formatReport(result);
    assert.match(report, /verdict\s+FAIL: 3 violations/);
    assert.match(report, /lost writes\s+1 /);
    assert.match(report, /key chaos-shared-3 is not linearizable/);
    assert.match(report, /pause at 20\.0 s: group 2 did not serve again/);
    assert.match(report, /--seed 42/);
    assert.match(report, /the last line/);
  });

  it('fails a run in which the cluster hardly served', () => {
    assert.match(violations({ ...passingRun(), acknowledgedAppends: 3 }).join(), /only 3 appends were acknowledged/);
  });
});
