/**
 * The RESP command table: which names exist, how many arguments each takes,
 * and who handles it. Names are matched without regard to case, as Redis
 * does; arity errors and unknown commands are answered here, so a handler
 * only ever sees well-formed calls.
 */
import type { RespReply } from './encoder.js';
import { array, integer } from './encoder.js';
import { AUTH_COMMANDS, authGate } from './auth-commands.js';
import { unknownCommand, unknownSubcommand, wrongArity } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';
import { CONNECTION_COMMANDS } from './connection-commands.js';
import { COUNTER_COMMANDS } from './counter-commands.js';
import { EXPIRY_COMMANDS } from './expiry-commands.js';
import { KV_COMMANDS } from './kv-commands.js';
import { SERVER_COMMANDS } from './server-commands.js';

/** Longer than any command name; a longer first argument is unknown without being decoded. */
const COMMAND_NAME_BYTES_MAX = 32;

/**
 * COMMAND, COMMAND DOCS, COMMAND COUNT: redis-cli asks at startup for hints
 * to complete and document commands; an empty answer makes it go without.
 */
function command(args: readonly Buffer[]): RespReply {
  if (args.length === 1) return array([]);
  const subcommand = args[1]!.toString('latin1').toLowerCase();
  switch (subcommand) {
    case 'docs':
      return array([]);
    case 'count':
      return args.length === 2 ? integer(COMMANDS.size) : wrongArity('command|count');
    default:
      return unknownSubcommand('command', args[1]!);
  }
}

const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ...KV_COMMANDS,
  ...COUNTER_COMMANDS,
  ...EXPIRY_COMMANDS,
  ...SERVER_COMMANDS,
  ...CONNECTION_COMMANDS,
  ...AUTH_COMMANDS,
  ['command', { argumentsMin: 0, argumentsMax: Infinity, handle: command }],
]);

/** Runs one request (`args[0]` is the command name); answers synchronously when the store is not involved. */
export function executeCommand(args: readonly Buffer[], context: CommandContext): RespReply | Promise<RespReply> {
  if (args.length === 0) throw new Error('a RESP request has at least its command name');
  const nameBytes = args[0]!;
  const name = nameBytes.byteLength <= COMMAND_NAME_BYTES_MAX ? nameBytes.toString('latin1').toLowerCase() : null;
  // Before anything else, unknown commands included: a client without the password learns nothing here.
  const refused = authGate(name, context);
  if (refused !== null) return refused;
  const spec = name === null ? undefined : COMMANDS.get(name);
  if (name === null || spec === undefined) return unknownCommand(args);
  const argumentCount = args.length - 1;
  if (argumentCount < spec.argumentsMin || argumentCount > spec.argumentsMax) return wrongArity(name);
  return spec.handle(args, context);
}
