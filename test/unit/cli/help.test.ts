/**
 * What a user meets first: every subcommand explains itself with examples,
 * and a wrong flag is refused in one line that names it, with a non-zero
 * exit, never a stack trace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '@commander-js/extra-typings';
import { CommanderError } from '@commander-js/extra-typings';
import { buildProgram } from '../../../src/cli/program.js';

/** Every command a user can run, by its full name ("admin move"); a command with subcommands only groups them. */
function leafCommands(command: Command, prefix: readonly string[] = []): { name: string; command: Command }[] {
  const commands = command.commands as readonly Command[];
  if (commands.length === 0) return [{ name: prefix.join(' '), command }];
  return commands.flatMap((sub) => leafCommands(sub, [...prefix, sub.name()]));
}

interface Outcome {
  readonly exitCode: number;
  readonly errors: string;
}

/** Parses `args` as the raftkv command line would, without exiting the test process or printing. */
async function parse(args: readonly string[]): Promise<Outcome> {
  const program = buildProgram();
  let errors = '';
  const quiet = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({ writeOut: () => {}, writeErr: (text) => (errors += text) });
    for (const sub of command.commands as readonly Command[]) quiet(sub);
  };
  quiet(program);
  try {
    await program.parseAsync(['node', 'raftkv', ...args]);
    return { exitCode: 0, errors };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { exitCode: error.exitCode, errors };
  }
}

describe('raftkv --help and flag errors', () => {
  const leaves = leafCommands(buildProgram());

  it('has the subcommands the README documents', () => {
    const names = leaves.map((leaf) => leaf.name);
    for (const name of ['local', 'node', 'meta', 'shard', 'put', 'get', 'append', 'del', 'bench', 'sim']) {
      assert.ok(names.includes(name), `raftkv ${name}`);
    }
    for (const name of ['join', 'leave', 'move', 'query']) assert.ok(names.includes(`admin ${name}`), `admin ${name}`);
  });

  for (const { name, command } of leaves) {
    it(`raftkv ${name} --help shows examples that run raftkv ${name.split(' ')[0]}`, () => {
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      const heading = /\nExamples?\b[^\n]*:\n/;
      assert.match(help, heading, 'an Examples section');
      const examples = help.slice(help.search(heading));
      assert.match(examples, new RegExp(`raftkv ${name.split(' ')[0]}\\b`), 'an example of this command');
    });

    it(`raftkv ${name} refuses a bad command line in one line and exits non-zero`, async () => {
      // A missing required flag is reported before an unknown one: either way, one line that says which.
      const outcome = await parse([...name.split(' '), '--no-such-flag']);
      assert.notEqual(outcome.exitCode, 0);
      const [reason, ...rest] = outcome.errors.trimEnd().split('\n');
      assert.match(
        reason!,
        /^error: (unknown option '--no-such-flag'|required option '--[a-z-]+ <[a-z]+>' not specified)/,
      );
      assert.ok(rest.length === 0 || (rest.length === 1 && rest[0] === '(run with --help for usage)'), rest.join('\n'));
    });
  }

  it('names the flag and the accepted range when a number is out of range', async () => {
    const outcome = await parse(['local', '--groups', '12']);
    assert.equal(outcome.exitCode, 1);
    assert.match(outcome.errors, /--groups takes a whole number from 1 to 9, got "12"/);
  });
});
