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
    memberExits: [],
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
    assert.deepEqual(parseFaultKinds('disk'), ['disk-fsync', 'disk-full', 'torn-tail']);
    assert.ok(FAULT_KINDS.includes('torn-tail') && FAULT_KINDS.includes('replace'));
    assert.throws(
      () => parseFaultKinds('kill,disk-slow'),
      /unknown fault 'disk-slow': choose among all, kills, network, disk, kill,.*torn-tail, replace, comma separated/,
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

  it('fails a run whose history the checker could not finish: not known to be linearizable is not a pass', () => {
    const result: ChaosResult = { ...passingRun(), linearizability: { ok: true, timedOut: true } };
    assert.deepEqual(violations(result), ['the linearizability check ran out of steps on a key']);
    const report = formatReport(result);
    assert.match(report, /linearizable\s+unknown \(a key's search ran out of budget\), 24 keys checked/);
    assert.match(report, /verdict\s+FAIL: 1 violations/);
  });

  it('passes a node that exits with 74 on a broken disk, and fails one that exits any other way', () => {
    const onBrokenDisk = { node: 'group 1 node 12', id: 12, code: 74, signal: null, expected: true, atSeconds: 30 };
    const passed: ChaosResult = { ...passingRun(), memberExits: [onBrokenDisk] };
    assert.deepEqual(violations(passed), []);
    assert.match(formatReport(passed), /nodes exited\s+1 \(1 with code 74 on a broken disk, as they should\)/);

    const crashed = { node: 'group 2 node 21', id: 21, code: 70, signal: null, expected: false, atSeconds: 41.5 };
    const killed = { node: 'meta node 2', id: 2, code: null, signal: 'SIGABRT', expected: false, atSeconds: 50 };
    const failed: ChaosResult = { ...passingRun(), memberExits: [onBrokenDisk, crashed, killed] };
    assert.deepEqual(violations(failed), [
      'group 2 node 21 exited by itself with code 70 at 41.5 s (only code 74 while a disk fault broke its disk is expected)',
      'meta node 2 exited by itself with signal SIGABRT at 50.0 s (only code 74 while a disk fault broke its disk is expected)',
    ]);
  });

  it('fails a run in which the cluster hardly served', () => {
    assert.match(violations({ ...passingRun(), acknowledgedAppends: 3 }).join(), /only 3 appends were acknowledged/);
  });
});
