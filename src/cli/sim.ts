/** `raftkv sim`: watch a seeded five-member Raft group survive a storm of faults. */
import type { Command } from '@commander-js/extra-typings';
import { runDemo } from '../sim/demo.js';
import { integerOption } from './options.js';

export function addSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run a seeded simulation of a Raft group under faults and print its timeline')
    .option('--seed <n>', 'seed of the run; the same seed replays the same run', integerOption('--seed', 0), 1)
    .option('--nodes <n>', 'members in the group (3 to 9)', integerOption('--nodes', 3, 9), 5)
    .option('--duration <seconds>', 'simulated seconds of faults', integerOption('--duration', 1, 3600), 20)
    .option(
      '--snapshot-every <entries>',
      'compact the log every N applied entries (0: never)',
      integerOption('--snapshot-every', 0),
      50,
    )
    .option('--verbose', 'print every commit, pre-vote and compaction')
    .addHelpText(
      'after',
      `
Examples:
  raftkv sim                      a 20 s storm on 5 members, seed 1
  raftkv sim --seed 42 --verbose  another run, with every step shown
  raftkv sim --nodes 3 --duration 120 --snapshot-every 10

The last line is the safety verdict; the exit code is 1 if a safety property was violated.`,
    )
    .action((options) => {
      // `raftkv sim | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0);
        throw error;
      });
      const verdict = runDemo(
        {
          seed: options.seed,
          nodes: options.nodes,
          durationMs: options.duration * 1000,
          snapshotEveryEntries: options.snapshotEvery,
          verbose: options.verbose === true,
        },
        (line) => process.stdout.write(`${line}\n`),
      );
      if (!verdict.safe) process.exitCode = 1;
    });
}
