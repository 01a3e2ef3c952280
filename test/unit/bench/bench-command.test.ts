/**
 * `raftkv bench` flag errors: each is one line saying what to change, before
 * anything is connected. (A run against a real group is test/e2e/bench.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { addBenchCommand } from '../../../src/cli/bench-command.js';

const MEMBERS = '1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003';

/** What `raftkv bench ARGS` writes to stderr, when commander refuses the flags. */
async function refusal(...args: string[]): Promise<string> {
  let stderr = '';
  // As src/cli/main.ts builds it: the bench command must turn the help hint off to stay on one line.
  const program = new Command()
    .name('raftkv')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => {} });
  addBenchCommand(program);
  await assert.rejects(program.parseAsync(['bench', ...args], { from: 'user' }), CommanderError);
  return stderr;
}

void describe('raftkv bench flags', () => {
  const cases: [string, string[], RegExp][] = [
    ['no target', ['--clients', '4'], /^error: say where the cluster is: --meta for a sharded cluster, or --members/],
    ['both targets', ['--members', MEMBERS, '--meta', MEMBERS], /^error: say where the cluster is/],
    [
      'zero clients',
      ['--members', MEMBERS, '--clients', '0'],
      /--clients takes a whole number from 1 to 1024, got "0"/,
    ],
    ['too many keys', ['--members', MEMBERS, '--keys', '20000000'], /--keys takes a whole number from 1 to 10000000/],
    ['a fractional duration', ['--members', MEMBERS, '--duration', '0.5'], /--duration takes a whole number/],
    [
      'an unknown workload',
      ['--members', MEMBERS, '--workload', 'put,scan'],
      /there is no workload "scan"; choose from/,
    ],
    ['a malformed member', ['--members', '1=localhost'], /--members takes host:port \(like 127\.0\.0\.1:7001\)/],
    ['an unknown flag', ['--members', MEMBERS, '--threads', '4'], /^error: unknown option '--threads'/],
  ];
  for (const [what, args, expected] of cases) {
    void it(`refuses ${what} in one line`, async () => {
      const stderr = await refusal(...args);
      assert.match(stderr, expected);
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    });
  }

  void it('shows every workload and an example in --help', async () => {
    let stdout = '';
    const program = new Command()
      .exitOverride()
      .configureOutput({ writeOut: (text) => (stdout += text), writeErr: () => {} });
    addBenchCommand(program);
    await assert.rejects(program.parseAsync(['bench', '--help'], { from: 'user' }), {
      code: 'commander.helpDisplayed',
    });
    for (const name of ['put', 'get', 'mixed', 'ycsb-a', 'ycsb-b', 'ycsb-c'])
      assert.match(stdout, new RegExp(`^  ${name} `, 'm'));
    assert.match(stdout, /raftkv bench --members 1=127\.0\.0\.1:7001/);
  });
});
