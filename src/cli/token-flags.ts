/**
 * The auth token as commands take it: servers from --auth-token-file or
 * RAFTKV_AUTH_TOKEN, clients from --token-file or RAFTKV_TOKEN. Two variable
 * names, so that a shell that runs a node and a client does not give the
 * node a token by accident, or the other way round.
 */
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { AUTH_TOKEN_CHARS_ADVISED_MIN } from '../auth/auth-token.js';
import { resolveToken, TokenSourceError } from '../auth/token-file.js';
import type { Logger } from '../log/logger.js';

export const SERVER_TOKEN_ENV = 'RAFTKV_AUTH_TOKEN';
export const CLIENT_TOKEN_ENV = 'RAFTKV_TOKEN';

export const SERVER_TOKEN_HELP =
  `require this auth token of every client and peer: a file holding it (or set ${SERVER_TOKEN_ENV}); ` +
  'every node of the cluster must get the same one';
export const CLIENT_TOKEN_HELP = `the cluster's auth token, when its nodes ask for one: a file holding it (or set ${CLIENT_TOKEN_ENV})`;

export interface ClientTokenFlags {
  readonly tokenFile?: string;
}

/** Adds --token-file to a client command. */
export function withTokenFileFlag<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & ClientTokenFlags> {
  return command.option('--token-file <file>', CLIENT_TOKEN_HELP) as unknown as Command<Args, Opts & ClientTokenFlags>;
}

/** A server's token, or undefined when it asks for none; warns when the token looks guessable. */
export async function serverAuthToken(
  command: Command,
  file: string | undefined,
  logger: Logger,
): Promise<string | undefined> {
  const token = await orUsageError(
    command,
    resolveToken({
      file,
      fileFlag: '--auth-token-file',
      envName: SERVER_TOKEN_ENV,
      envValue: process.env[SERVER_TOKEN_ENV],
    }),
  );
  if (token !== undefined && token.length < AUTH_TOKEN_CHARS_ADVISED_MIN) {
    logger.warn(
      { tokenCharacters: token.length },
      `the auth token is shorter than ${AUTH_TOKEN_CHARS_ADVISED_MIN} characters and may be guessed by trying; ` +
        'make a random one: openssl rand -hex 32',
    );
  }
  return token;
}

/** A client's token, or undefined when it has none. */
export function clientToken(command: Command, flags: ClientTokenFlags): Promise<string | undefined> {
  return orUsageError(
    command,
    resolveToken({
      file: flags.tokenFile,
      fileFlag: '--token-file',
      envName: CLIENT_TOKEN_ENV,
      envValue: process.env[CLIENT_TOKEN_ENV],
    }),
  );
}

/** A token file that cannot be used is a one-line error (exit 1), like a bad flag. */
async function orUsageError(command: Command, pending: Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof TokenSourceError) return command.error(`error: ${error.message}`);
    throw error;
  }
}
