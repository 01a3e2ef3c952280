import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runDemo } from '../../../src/sim/demo.js';

const run = promisify(execFile);

describe('raftkv sim', () => {
  for (const seed of [1, 2, 3]) {
    it(`narrates a stormy run and ends with a safety verdict (seed ${seed})`, () => {
      const lines: string[] = [];
      const verdict = runDemo({ seed, nodes: 5, durationMs: 8000, snapshotEveryEntries: 20, verbose: false }, (line) =>
        lines.push(line),
      );
      assert.ok(verdict.safe, verdict.message);
      assert.match(lines[lines.length - 1]!, /^SAFE: at most one leader in each of \d+ terms/);
      assert.ok(
        lines.some((line) => line.includes('elected leader of term')),
        'no election in the timeline',
      );
      assert.ok(verdict.faults > 0, 'no fault was injected');
    });
  }

  it('replays the same run from the same seed', () => {
    const record = (): string[] => {
      const lines: string[] = [];
      runDemo({ seed: 7, nodes: 3, durationMs: 5000, snapshotEveryEntries: 10, verbose: true }, (l) => lines.push(l));
      return lines;
    };
    assert.deepEqual(record(), record());
  });

  it('runs as a command, and refuses a bad flag with one clear line', async () => {
    const { stdout } = await run(process.execPath, ['bin/raftkv.js', 'sim', '--duration', '3', '--nodes', '3']);
    assert.match(stdout.trim().split('\n').pop()!, /^SAFE:/);
    await assert.rejects(
      run(process.execPath, ['bin/raftkv.js', 'sim', '--nodes', 'many']),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /--nodes takes a whole number from 3 to 9, got "many"/);
        return true;
      },
    );
  });
});
