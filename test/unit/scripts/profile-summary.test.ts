import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CpuProfile } from '../../../scripts/profile/cpu-profile.js';
import { areaOf, summarizeProfile } from '../../../scripts/profile/cpu-profile.js';
import { formatProfileSummary } from '../../../scripts/profile/profile-report.js';

const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, url, lineNumber });

/**
 * root -> (idle); root -> apply (src/kv) -> batch (abstract-level); apply recurses into itself.
 * Samples 1 ms apart: idle, batch, batch, apply, apply(inner), idle, batch, idle.
 */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('apply', 'file:///r/src/kv/state-machine.ts', 9), children: [4, 5] },
    { id: 4, callFrame: frame('batch', 'file:///r/node_modules/abstract-level/abstract-level.js', 693) },
    { id: 5, callFrame: frame('apply', 'file:///r/src/kv/state-machine.ts', 9) },
  ],
  startTime: 1_000_000,
  endTime: 1_009_000,
  samples: [2, 4, 4, 3, 5, 2, 4, 2],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('the CPU profile summary', () => {
  it('counts self time at the leaf, inclusive time once per function on the stack, and idle apart', () => {
    const summary = summarizeProfile(PROFILE, null);
    // Each sample stands for the time to the next one; the last has no next and counts for nothing.
    assert.equal(summary.windowMs, 7);
    assert.equal(summary.idleMs, 2);
    const self = new Map(summary.selfByFunction.map((row) => [row.name, row.ms]));
    assert.equal(self.get('batch node_modules/abstract-level/abstract-level.js:694'), 3);
    assert.equal(self.get('apply src/kv/state-machine.ts:10'), 2);
    const inclusive = new Map(summary.inclusiveByFunction.map((row) => [row.name, row.ms]));
    assert.equal(inclusive.get('apply src/kv/state-machine.ts:10'), 5);
    const areas = new Map(summary.inclusiveByArea.map((row) => [row.name, row.ms]));
    assert.equal(areas.get('src/kv'), 5);
    assert.equal(areas.get('node_modules/abstract-level'), 3);
  });

  it('measures the stretches the event loop was busy without an idle sample', () => {
    assert.deepEqual(summarizeProfile(PROFILE, null).busyStretchesMs, [4, 1]);
  });

  it('keeps only the samples of a window in microseconds of the profile clock', () => {
    const summary = summarizeProfile(PROFILE, { startUs: 1_002_000, endUs: 1_003_500 });
    assert.equal(summary.samples, 2);
    assert.equal(summary.idleMs, 0);
    assert.match(formatProfileSummary(summary), /idle 0\.0%, busy 100\.0%/);
  });

  it('names areas by source folder or package', () => {
    assert.equal(areaOf('file:///w/src/raft/raft.ts', 'step'), 'src/raft');
    assert.equal(areaOf('file:///w/node_modules/@scope/pkg/x.js', 'f'), 'node_modules/@scope/pkg');
    assert.equal(areaOf('node:net', 'f'), 'node: (core library)');
    assert.equal(areaOf('', 'writev'), 'native (V8 builtins, C++)');
  });
});
