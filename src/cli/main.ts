/** The `raftkv` command: parses the command line and runs the subcommand it names. */
import { buildProgram } from './program.js';

await buildProgram().parseAsync();
