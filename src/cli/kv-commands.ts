/**
 * `raftkv put|get|append|del`: one request through the client library, to a
 * sharded cluster (--meta: routed by bucket) or to one replica group (--members).
 */
import { randomUUID } from 'node:crypto';
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { realClientClock } from '../client/channel.js';
import { ClientError } from '../client/errors.js';
import { KvClient } from '../client/kv-client.js';
import { MetaClient } from '../client/meta-client.js';
import { ShardedKvClient } from '../client/sharded-client.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import type { HostPort } from './options.js';
import { integerOption, membersOption } from './options.js';
import { CLIENT_TOKEN_HELP, clientToken } from './token-flags.js';
import type { TlsFlags } from './tls-flags.js';
import { clientTlsFrom, TlsFlagError, withClientTlsFlags } from './tls-flags.js';
import type { ClientTls } from '../transport/index.js';

interface GroupFlags extends TlsFlags {
  readonly meta?: Map<number, HostPort>;
  readonly members?: Map<number, HostPort>;
  readonly clusterId: string;
  readonly tokenFile?: string;
  readonly timeoutMs: number;
}

/** What the subcommands need of a client: KvClient (one group) and ShardedKvClient (a cluster) both have it. */
type KeyValueClient = Pick<KvClient, 'get' | 'put' | 'append' | 'delete'>;

const META_HELP = 'a sharded cluster, by its meta group: 1=host:port,2=host:port,...';
const MEMBERS_HELP = 'or one replica group, by its members: 1=host:port,2=host:port,...';
const EXAMPLE_MEMBERS = '1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003';
/** The meta group of `raftkv local` with its default ports. */
const EXAMPLE_META = '1=127.0.0.1:7100,2=127.0.0.1:7101,3=127.0.0.1:7102';

/** Help text: the command against the cluster `raftkv local` starts, then against one group of `raftkv node`s. */
function examples(command: string, note = ''): string {
  const lines = [
    '',
    'Examples:',
    '  # a sharded cluster, such as the one raftkv local starts:',
    `  raftkv ${command} --meta ${EXAMPLE_META}`,
    '  # one replica group of raftkv node processes:',
    `  raftkv ${command} --members ${EXAMPLE_MEMBERS}`,
  ];
  return [...lines, ...(note === '' ? [] : ['', note])].join('\n');
}

/** Adds the flags that say where the group is; every subcommand here takes them. */
function withGroupFlags<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & GroupFlags> {
  // commander's typings accumulate option types per call; they are restated here once for all subcommands.
  return withClientTlsFlags(command)
    .option('--meta <list>', META_HELP, membersOption('--meta'))
    .option('--members <list>', MEMBERS_HELP, membersOption('--members'))
    .option('--cluster-id <name>', 'the cluster id the members were started with', 'raftkv')
    .option('--token-file <file>', CLIENT_TOKEN_HELP)
    .option(
      '--timeout-ms <ms>',
      'give up after this long',
      integerOption('--timeout-ms', 1),
      10_000,
    ) as unknown as Command<Args, Opts & GroupFlags>;
}

export function addKvCommands(program: Command): void {
  const withClient = (flags: GroupFlags, run: (client: KeyValueClient) => Promise<string>): Promise<void> =>
    runWithClient(program, flags, run);
  withGroupFlags(program.command('put').description('set KEY to VALUE').argument('<key>').argument('<value>'))
    .addHelpText('after', examples('put greeting hello'))
    .action(async (key, value, flags) => {
      await withClient(flags, async (client) => {
        await client.put(key, value);
        return 'OK';
      });
    });

  withGroupFlags(
    program
      .command('get')
      .description('print the value of KEY (linearizable unless --stale)')
      .argument('<key>')
      .option('--stale', 'read whichever member answers, without confirming it is current'),
  )
    .addHelpText(
      'after',
      examples('get greeting', 'Exits with 1 if the key is absent, 2 if the cluster did not answer.'),
    )
    .action(async (key, flags) => {
      await withClient(flags, async (client) => {
        const value = await client.get(key, { stale: flags.stale === true });
        if (value === null) {
          process.exitCode = 1;
          return '(nil)';
        }
        return Buffer.from(value).toString('utf8');
      });
    });

  withGroupFlags(
    program
      .command('append')
      .description('append VALUE to KEY; prints the new length')
      .argument('<key>')
      .argument('<value>'),
  )
    .addHelpText('after', examples('append greeting ", world"'))
    .action(async (key, value, flags) => {
      await withClient(flags, async (client) => String(await client.append(key, value)));
    });

  withGroupFlags(program.command('del').description('delete KEY; prints 1 if it existed, else 0').argument('<key>'))
    .addHelpText('after', examples('del greeting'))
    .action(async (key, flags) => {
      await withClient(flags, async (client) => ((await client.delete(key)) ? '1' : '0'));
    });
}

async function runWithClient(
  program: Command,
  flags: GroupFlags,
  run: (client: KeyValueClient) => Promise<string>,
): Promise<void> {
  const { meta, members } = flags;
  let tls: ClientTls | undefined;
  try {
    tls = clientTlsFrom(flags);
  } catch (error) {
    if (!(error instanceof TlsFlagError)) throw error;
    process.stderr.write(`raftkv: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  if ((meta === undefined) === (members === undefined)) {
    process.stderr.write('raftkv: say where the data is: --meta for a sharded cluster, or --members for one group\n');
    process.exitCode = 2;
    return;
  }
  const token = await clientToken(program, flags);
  const connection = { clusterId: flags.clusterId, token, ...(tls === undefined ? {} : { tls }) };
  const common = {
    clock: realClientClock,
    clientId: `cli-${randomUUID()}`,
    random: Math.random,
    deadlineMs: flags.timeoutMs,
  };
  let client: KeyValueClient;
  const channels: TcpGroupChannel[] = [];
  if (meta !== undefined) {
    const metaChannel = new TcpGroupChannel({ members: meta, ...connection });
    const shardChannel = new TcpGroupChannel({ members: new Map(), ...connection });
    channels.push(metaChannel, shardChannel);
    client = new ShardedKvClient({
      ...common,
      meta: new MetaClient({ ...common, members: [...meta.keys()], channel: metaChannel }),
      channel: shardChannel,
      learnAddresses: (learnt) => shardChannel.learn(learnt),
    });
  } else {
    const channel = new TcpGroupChannel({ members: members!, ...connection });
    channels.push(channel);
    client = new KvClient({ ...common, members: [...members!.keys()], channel });
  }
  try {
    process.stdout.write(`${await run(client)}\n`);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    process.stderr.write(`raftkv: ${error.message}\n`);
    process.exitCode = 2;
  } finally {
    for (const channel of channels) channel.close();
  }
}
