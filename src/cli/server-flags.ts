/** The flags every server subcommand (node, meta, shard) takes the same way, declared once. */
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import type { Logger, LogLevel } from '../log/logger.js';
import type { ClientConnectionLimits, NodeTls } from '../transport/index.js';
import { LOG_LEVELS } from '../log/logger.js';
import type { HostPort } from './options.js';
import { hostPortOption, integerOption } from './options.js';
import { SERVER_TOKEN_HELP, serverAuthToken } from './token-flags.js';
import type { TlsFlags } from './tls-flags.js';
import { serverTlsOrExit, withServerTlsFlags } from './tls-flags.js';

export interface ServerFlags extends TlsFlags {
  readonly http?: HostPort;
  readonly clusterId: string;
  readonly authTokenFile?: string;
  readonly tickMs: number;
  readonly clientConnectionsMax: number;
  readonly clientIdleSeconds: number;
  readonly logLevel: LogLevel;
  /** Only `raftkv shard` takes --join (no admin command adds a member to the other kinds of group yet). */
  readonly join?: true;
}

export function withServerFlags<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & ServerFlags> {
  // commander's typings accumulate option types per call; they are restated here once for all three servers.
  return withServerTlsFlags(command)
    .option('--http <host:port>', 'serve the HTTP JSON API, /metrics and the dashboard here', hostPortOption('--http'))
    .option('--cluster-id <name>', 'every node and client of one cluster must agree on it', 'raftkv')
    .option('--auth-token-file <file>', SERVER_TOKEN_HELP)
    .option('--tick-ms <ms>', 'Raft tick; elections time out after 10 to 20 ticks', integerOption('--tick-ms', 1), 50)
    .option(
      '--client-connections-max <count>',
      'client connections this member takes on its port (peers have their own slots)',
      integerOption('--client-connections-max', 1),
      1024,
    )
    .option(
      '--client-idle-seconds <seconds>',
      'close a client connection with nothing in flight that sends nothing for this long',
      integerOption('--client-idle-seconds', 1),
      300,
    )
    .addOption(
      new Option('--log-level <level>', 'how much to log on stderr').choices(LOG_LEVELS).default('warn'),
    ) as unknown as Command<Args, Opts & ServerFlags>;
}

/** The start options every server (MemberServer, MetaServer, ShardServer) takes from the flags above. */
export interface CommonServerOptions {
  readonly clusterId: string;
  readonly authToken: string | undefined;
  readonly logger: Logger;
  readonly clientLimits: ClientConnectionLimits;
  readonly tickMs: number;
  readonly join: boolean;
  readonly tls?: NodeTls;
}

/**
 * Reads the auth token and the TLS files the flags name (a bad one is a
 * one-line usage error) into the options every server starts with.
 */
export async function commonServerOptions(
  command: Command,
  flags: ServerFlags,
  name: string,
  logger: Logger,
): Promise<CommonServerOptions> {
  const authToken = await serverAuthToken(command, flags.authTokenFile, logger);
  const tls = serverTlsOrExit(command, flags, name);
  return {
    clusterId: flags.clusterId,
    authToken,
    logger,
    clientLimits: {
      clientConnectionsMax: flags.clientConnectionsMax,
      clientIdleMs: flags.clientIdleSeconds * 1000,
    },
    tickMs: flags.tickMs,
    join: flags.join === true,
    ...(tls === undefined ? {} : { tls }),
  };
}
