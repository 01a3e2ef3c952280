/** The `raftkv` command: one program, one subcommand per job. */
import { Command } from '@commander-js/extra-typings';
import { addSimCommand } from './sim.js';

const program = new Command()
  .name('raftkv')
  .description('a sharded, replicated, strongly consistent key-value store')
  .showHelpAfterError('(run with --help for usage)');

addSimCommand(program);

program.parse();
