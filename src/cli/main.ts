/** The `raftkv` command: one program, one subcommand per job. */
import { Command } from '@commander-js/extra-typings';
import { addAdminCommand } from './admin-command.js';
import { addBenchCommand } from './bench-command.js';
import { addKvCommands } from './kv-commands.js';
import { addMetaCommand } from './meta-command.js';
import { addNodeCommand } from './node-command.js';
import { addShardCommand } from './shard-command.js';
import { addSimCommand } from './sim.js';

const program = new Command()
  .name('raftkv')
  .description('a sharded, replicated, strongly consistent key-value store')
  .showHelpAfterError('(run with --help for usage)');

addSimCommand(program);
addNodeCommand(program);
addKvCommands(program);
addMetaCommand(program);
addAdminCommand(program);
addShardCommand(program);
addBenchCommand(program);

await program.parseAsync();
