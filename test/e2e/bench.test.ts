/**
 * `raftkv bench` as a user runs it: a child process against a real
 * three-member group, printing JSON; and the one-line refusals of a bad flag
 * and of a group that is not there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, ProcessGroup } from './support/process-group.js';

const run = promisify(execFile);
const RAFTKV_BIN = path.resolve(import.meta.dirname, '../../bin/raftkv.js');

interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

async function bench(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [RAFTKV_BIN, 'bench', ...args]);
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

interface JsonResult {
  readonly workload: string;
  readonly clients: number;
  readonly ops: number;
  readonly reads: number;
  readonly puts: number;
  readonly errors: number;
  readonly opsPerSecond: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

describe('raftkv bench against a three-member group', { timeout: 60_000 }, () => {
  let group: ProcessGroup;
  before(async () => {
    group = await ProcessGroup.create(3);
    await group.startAll();
  });
  after(async () => {
    await group.close();
  });

  it('runs put and ycsb-b for a second each and prints their numbers as JSON', async () => {
    const result = await bench(
      ...['--members', group.membersFlag, '--cluster-id', group.clusterId, '--timeout-ms', '10000'],
      ...['--workload', 'put,ycsb-b', '--clients', '4', '--keys', '200', '--duration', '1', '--json'],
    );
    assert.equal(result.code, 0, `${result.stderr}\n${group.output.join('')}`);
    const report = JSON.parse(result.stdout) as {
      target: string;
      plan: { clients: number; keys: number };
      load: { keys: number } | null;
      results: JsonResult[];
      interrupted: boolean;
    };
    assert.equal(report.target, 'group of 3 members');
    assert.equal(report.interrupted, false);
    assert.deepEqual(report.load?.keys, 200, 'ycsb-b reads, so every key was put first');
    assert.deepEqual(
      report.results.map((row) => [row.workload, row.clients]),
      [
        ['put', 4],
        ['ycsb-b', 4],
      ],
    );
    for (const row of report.results) {
      assert.ok(row.ops > 0 && row.opsPerSecond > 0, `${row.workload}: ${row.ops} ops`);
      assert.equal(row.errors, 0, `${row.workload}: ${row.errors} errors`);
      assert.equal(row.reads + row.puts, row.ops);
      const { p50, p90, p99, p999, max } = row.latencyMs;
      assert.ok(0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, JSON.stringify(row.latencyMs));
    }
    assert.equal(report.results[0]!.reads, 0, 'put only puts');
    assert.ok(report.results[1]!.reads > report.results[1]!.puts, 'ycsb-b mostly reads');
  });

  it('refuses a bad flag in one line, before connecting', async () => {
    const result = await bench('--members', group.membersFlag, '--workload', 'ycsb-z');
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error: .*there is no workload "ycsb-z"; choose from put, get, mixed/);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  });

  it('exits with 2 and one line when nothing answers at the addresses', async () => {
    const nobody = await freePort();
    const result = await bench('--members', `1=127.0.0.1:${nobody}`, '--timeout-ms', '500');
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^raftkv bench: the group of 1 member did not answer within 500 ms; check that it is running/,
    );
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  });
});
