/**
 * The RESP commands about the connection itself, answered without the
 * store: PING, ECHO, QUIT, SELECT, CLIENT, HELLO. Enough of them for
 * redis-cli and the common client libraries to start a connection.
 */
import type { RespReply } from './encoder.js';
import { array, bulk, error, integer, NULL_BULK, OK, simple } from './encoder.js';
import { authenticate } from './auth-commands.js';
import { notAnInteger, unknownSubcommand, wrongArity } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';
import { REDIS_COMPATIBLE_VERSION } from './server-commands.js';

/** The one RESP version spoken here; HELLO 3 is refused so that clients fall back to it. */
const PROTOCOL_VERSION = 2;
/** Longest client name, in bytes: names are kept per connection and only ever read by people. */
export const CLIENT_NAME_BYTES_MAX = 256;

function ping(args: readonly Buffer[]): RespReply {
  return args.length === 1 ? simple('PONG') : bulk(args[1]!);
}

function echo(args: readonly Buffer[]): RespReply {
  return bulk(args[1]!);
}

function quit(_args: readonly Buffer[], context: CommandContext): RespReply {
  context.closeAfterReply = true;
  return OK;
}

/** There is one keyspace; SELECT 0 is accepted because clients send it when configured with a db number. */
function select(args: readonly Buffer[]): RespReply {
  const index = parseInteger(args[1]!);
  if (index === null) return notAnInteger();
  return index === 0 ? OK : error('ERR DB index is out of range');
}

function client(args: readonly Buffer[], context: CommandContext): RespReply {
  const subcommand = args[1]!.toString('latin1').toLowerCase();
  const subArguments = args.length - 2;
  switch (subcommand) {
    case 'setname':
      if (subArguments !== 1) return wrongArity('client|setname');
      return setClientName(args[2]!, context);
    case 'getname':
      if (subArguments !== 0) return wrongArity('client|getname');
      return context.clientName === null ? NULL_BULK : bulk(context.clientName);
    case 'id':
      if (subArguments !== 0) return wrongArity('client|id');
      return integer(context.connectionId);
    case 'setinfo':
      // Client libraries send their name and version on connect; accepting them is all they need.
      if (subArguments !== 2) return wrongArity('client|setinfo');
      return OK;
    default:
      return unknownSubcommand('client', args[1]!);
  }
}

/**
 * HELLO [protover [AUTH user pass] [SETNAME name]]: only protocol 2. As in
 * Redis, AUTH is checked before SETNAME applies, and a connection that is
 * not authenticated must authenticate in the same HELLO.
 */
function hello(args: readonly Buffer[], context: CommandContext): RespReply {
  if (args.length > 1) {
    const version = parseInteger(args[1]!);
    if (version === null) return error('ERR Protocol version is not an integer or out of range');
    if (version !== PROTOCOL_VERSION) return error('NOPROTO unsupported protocol version');
  }
  let name: Buffer | null = null;
  let credentials: readonly [user: Buffer, password: Buffer] | null = null;
  for (let index = 2; index < args.length; index++) {
    const option = args[index]!.toString('latin1').toLowerCase();
    const remaining = args.length - index - 1;
    if (option === 'setname' && remaining >= 1) {
      name = args[++index]!;
    } else if (option === 'auth' && remaining >= 2) {
      credentials = [args[index + 1]!, args[index + 2]!];
      index += 2;
    } else {
      return error(`ERR Syntax error in HELLO option '${args[index]!.toString()}'`);
    }
  }
  if (credentials !== null) {
    const refused = authenticate(credentials[0], credentials[1], context);
    if (refused !== null) return refused;
  }
  if (!context.auth.authenticated) {
    return error(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH ' +
        '<user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (name !== null) {
    const refused = setClientName(name, context);
    if (refused.kind === 'error') return refused;
  }
  return array([
    bulk('server'),
    bulk('raftkv'),
    bulk('version'),
    bulk(REDIS_COMPATIBLE_VERSION),
    bulk('proto'),
    integer(PROTOCOL_VERSION),
    bulk('id'),
    integer(context.connectionId),
    bulk('mode'),
    bulk('standalone'),
    bulk('role'),
    bulk('master'),
    bulk('modules'),
    array([]),
  ]);
}

/** Redis's rule: printable ASCII without spaces, so that CLIENT LIST stays parseable; empty clears the name. */
function setClientName(name: Buffer, context: CommandContext): RespReply {
  if (name.byteLength > CLIENT_NAME_BYTES_MAX) {
    return error(`ERR client names are limited to ${CLIENT_NAME_BYTES_MAX} bytes`);
  }
  if (name.some((byte) => byte < 0x21 || byte > 0x7e)) {
    return error('ERR Client names cannot contain spaces, newlines or special characters.');
  }
  context.clientName = name.byteLength === 0 ? null : name.toString('latin1');
  return OK;
}

function parseInteger(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  return /^-?\d{1,15}$/.test(text) ? Number(text) : null;
}

export const CONNECTION_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['ping', { argumentsMin: 0, argumentsMax: 1, handle: ping }],
  ['echo', { argumentsMin: 1, argumentsMax: 1, handle: echo }],
  ['quit', { argumentsMin: 0, argumentsMax: Infinity, handle: quit }],
  ['select', { argumentsMin: 1, argumentsMax: 1, handle: select }],
  ['client', { argumentsMin: 1, argumentsMax: Infinity, handle: client }],
  ['hello', { argumentsMin: 0, argumentsMax: Infinity, handle: hello }],
]);
