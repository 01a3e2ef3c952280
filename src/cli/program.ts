/**
 * The `raftkv` command tree: one program, one subcommand per job. Building it
 * parses nothing, so tests can read every subcommand's real flags.
 */
import { Command } from '@commander-js/extra-typings';
import { addAdminCommand } from './admin-command.js';
import { addBenchCommand } from './bench-command.js';
import { addCertsCommand } from './certs-command.js';
import { addKvCommands } from './kv-commands.js';
import { addLocalCommand } from './local-command.js';
import { addMetaCommand } from './meta-command.js';
import { addNodeCommand } from './node-command.js';
import { addShardCommand } from './shard-command.js';
import { addSimCommand } from './sim.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('raftkv')
    .description('a sharded, replicated, strongly consistent key-value store')
    .showHelpAfterError('(run with --help for usage)');
  addLocalCommand(program);
  addSimCommand(program);
  addNodeCommand(program);
  addKvCommands(program);
  addMetaCommand(program);
  addAdminCommand(program);
  addShardCommand(program);
  addBenchCommand(program);
  addCertsCommand(program);
  return program;
}
