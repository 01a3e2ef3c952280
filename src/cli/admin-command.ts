/** `raftkv admin join|leave|move|replace|remove-member|query`: manage the config table through the meta group. */
import { randomUUID } from 'node:crypto';
import type { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { realClientClock } from '../client/channel.js';
import { ClientError, MetaRefusedError } from '../client/errors.js';
import { MembersClient } from '../client/members-client.js';
import { MembersDecodeError } from '../node/members-codec.js';
import { MetaClient } from '../client/meta-client.js';
import type { ReplaceMemberParts } from '../client/replace-member.js';
import { removeMember, replaceMember, ReplaceMemberError } from '../client/replace-member.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import { clusterView, groupsToAsk } from '../client/cluster-status.js';
import { askNodeStatus, parseAddress, STATUS_TIMEOUT_MS_DEFAULT } from '../client/status-client.js';
import type { GroupInfo, ShardConfig } from '../meta/config.js';
import { BUCKET_COUNT_DEFAULT, BUCKET_COUNT_MAX, canonicalConfigJson } from '../meta/config.js';
import { formatConfig, formatNodes, leadersOf } from './config-table.js';
import type { HostPort } from './options.js';
import { integerOption, membersOption } from './options.js';
import { CLIENT_TOKEN_HELP, clientToken } from './token-flags.js';
import type { TlsFlags } from './tls-flags.js';
import { clientTlsOrExit, withClientTlsFlags } from './tls-flags.js';
import type { ClientTls } from '../transport/index.js';
import { memberInfos } from '../api/http/node-backends.js';

interface AdminFlags extends TlsFlags {
  readonly meta: Map<number, HostPort>;
  readonly clusterId: string;
  readonly tokenFile?: string;
  readonly timeoutMs: number;
  readonly json?: true;
}

const EXAMPLE_META = '1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103';

/** A subcommand's examples; --meta belongs to `admin`, so it comes before the subcommand. */
function examples(...lines: readonly string[]): string {
  return ['', 'Examples:', ...lines.map((line) => `  raftkv admin --meta ${EXAMPLE_META} ${line}`)].join('\n');
}

export function addAdminCommand(program: Command): void {
  const admin = withClientTlsFlags(
    program
      .command('admin')
      .description('manage the config table: which replica group serves which buckets')
      .requiredOption('--meta <list>', 'the meta group: 1=host:port,2=host:port,...', membersOption('--meta'))
      .option('--cluster-id <name>', 'the cluster id the nodes were started with', 'raftkv')
      .option('--token-file <file>', CLIENT_TOKEN_HELP)
      .option('--timeout-ms <ms>', 'give up after this long', integerOption('--timeout-ms', 1), 10_000)
      .option('--json', 'print the resulting config as JSON (query: the config and every node, as HTTP /v1/cluster)'),
  ).addHelpText(
    'after',
    `
Examples:
  raftkv admin --meta ${EXAMPLE_META} join 1 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003
  raftkv admin --meta ${EXAMPLE_META} move 0-4 1
  raftkv admin --meta ${EXAMPLE_META} leave 2
  raftkv admin --meta ${EXAMPLE_META} replace 1 13 14=127.0.0.1:7014   (14 started with raftkv shard --join)
  raftkv admin --meta ${EXAMPLE_META} query          the latest config and every node's state, as tables
  raftkv admin --meta ${EXAMPLE_META} query 3 --json  version 3 and every node, as JSON`,
  );

  admin
    .command('join')
    .description('add replica groups (GID MEMBERS pairs) and spread the buckets over all groups')
    .argument('<gid-and-members...>', 'GID MEMBERS [GID MEMBERS ...], MEMBERS as 1=host:port,2=host:port,...')
    .option(
      '--buckets <n>',
      `buckets of a new cluster, fixed by its first join (1 to ${BUCKET_COUNT_MAX}; default ${BUCKET_COUNT_DEFAULT})`,
      integerOption('--buckets', 1, BUCKET_COUNT_MAX),
    )
    .addHelpText(
      'after',
      examples(
        'join 1 11=127.0.0.1:7011,12=127.0.0.1:7012,13=127.0.0.1:7013',
        'join 1 11=127.0.0.1:7011 2 21=127.0.0.1:7021 --buckets 64',
      ),
    )
    .action(async (pairs, options) => {
      const groups = checked(admin, () => parseGroups(pairs));
      // Without --buckets the group decides: the default for a new cluster, the fixed count after.
      await withMetaClient(admin, admin.opts(), (client) => client.join(groups, options.buckets));
    });

  admin
    .command('leave')
    .description('remove replica groups; their buckets go to the groups that stay')
    .argument('<gid...>', 'group ids')
    .addHelpText('after', examples('leave 2', 'leave 2 3'))
    .action(async (gids) => {
      const parsed = checked(admin, () => gids.map((gid) => integerOption('GID', 1)(gid)));
      await withMetaClient(admin, admin.opts(), (client) => client.leave(parsed));
    });

  admin
    .command('move')
    .description('give buckets to a group: a bucket (3) or an inclusive range (0-4)')
    .argument('<buckets>', 'N or FROM-TO')
    .argument('<gid>', 'the group that gets them')
    .addHelpText(
      'after',
      examples('move 0-4 1    # buckets 0 to 4 go to group 1', 'move 7 2      # bucket 7 goes to group 2'),
    )
    .action(async (buckets, gid) => {
      const [fromBucket, toBucket] = checked(admin, () => parseBucketRange(buckets));
      const target = checked(admin, () => integerOption('GID', 1)(gid));
      await withMetaClient(admin, admin.opts(), (client) => client.move(fromBucket, toBucket, target));
    });

  admin
    .command('replace')
    .description(
      'replace member OLD of shard group GID by NEW, under load: NEW (started with --join) joins as a learner, ' +
        'catches up and becomes a voter, then OLD is removed and the meta group learns the new member list',
    )
    .argument('<gid>', 'the shard group')
    .argument('<old>', 'the id of the member to remove (stop its process afterwards)')
    .argument('<new>', 'the new member: id=host:port, its node port as in its --members')
    .option(
      '--catch-up-seconds <seconds>',
      'how long the new member may take to catch up with the group',
      integerOption('--catch-up-seconds', 1),
      600,
    )
    .addHelpText(
      'after',
      `${examples('replace 1 13 14=127.0.0.1:7014')}

Start the new member first, with --join and the group's members plus itself:
  raftkv shard --join --id 14 --gid 1 --members 11=127.0.0.1:7011,12=127.0.0.1:7012,13=127.0.0.1:7013,14=127.0.0.1:7014 \\
    --meta ${EXAMPLE_META} --dir data/g1-14
A replacement cut short (Ctrl-C, a timeout) is finished by running the same command again.`,
    )
    .action(async (gid, old, added, options) => {
      const plan = checked(admin, () => ({
        gid: integerOption('GID', 1)(gid),
        oldId: integerOption('OLD', 1)(old),
        newMember: memberInfos(membersOption('NEW')(added))[0]!,
      }));
      if (plan.newMember.id === plan.oldId) admin.error('error: OLD and NEW must be different members');
      const flags = admin.opts();
      await withMetaClient(admin, flags, async (client, access) => {
        const parts = { ...membershipParts(flags, access, client), catchUpDeadlineMs: options.catchUpSeconds * 1000 };
        return (await replaceMember(plan, parts)).config;
      });
    });

  admin
    .command('remove-member')
    .description(
      'remove member ID from shard group GID for good (a group that shrinks, or a learner that a replace ' +
        "added with a wrong address), then from the meta group's member list",
    )
    .argument('<gid>', 'the shard group')
    .argument('<id>', 'the member to remove (stop its process afterwards)')
    .addHelpText('after', examples('remove-member 1 14'))
    .action(async (gid, id) => {
      const plan = checked(admin, () => ({ gid: integerOption('GID', 1)(gid), id: integerOption('ID', 1)(id) }));
      const flags = admin.opts();
      await withMetaClient(admin, flags, async (client, access) => {
        return (await removeMember(plan, membershipParts(flags, access, client))).config;
      });
    });

  admin
    .command('query')
    .description("print a config (the latest, or VERSION) with each group's leader, and every node's Raft state")
    .argument('[version]', 'a config version (default: the latest)')
    .addHelpText('after', examples('query', 'query 3', '--json query | jq .config.buckets'))
    .action(async (version) => {
      const parsed = checked(admin, () => (version === undefined ? null : integerOption('VERSION', 0)(version)));
      const flags = admin.opts();
      await withMetaClient(admin, flags, (client) => client.query(parsed), {
        print: async (config, { token, tls }) => {
          const view = await clusterView(config, groupsToAsk(config, memberInfos(flags.meta)), (member) =>
            askNodeStatus(parseAddress(member.address), {
              clusterId: flags.clusterId,
              token,
              timeoutMs: Math.min(STATUS_TIMEOUT_MS_DEFAULT, flags.timeoutMs),
              ...(tls === undefined ? {} : { tls }),
            }),
          );
          if (flags.json === true) return JSON.stringify(view);
          return `${formatConfig(config, leadersOf(view.groups))}\n\n${formatNodes(view.groups)}`;
        },
      });
    });
}

/** Arguments parsed inside an action: a bad one is a one-line usage error (exit 1), not a stack trace. */
function checked<T>(command: Command, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return command.error(`error: ${error.message}`);
    throw error;
  }
}

/** ["1", "1=h:p,2=h:p", "2", "4=h:p"] -> groups. */
function parseGroups(pairs: readonly string[]): GroupInfo[] {
  if (pairs.length % 2 !== 0) {
    throw new InvalidArgumentError('join takes GID MEMBERS pairs, like: join 1 1=127.0.0.1:7001,2=127.0.0.1:7002');
  }
  const groups: GroupInfo[] = [];
  for (let index = 0; index < pairs.length; index += 2) {
    const gid = integerOption('GID', 1)(pairs[index]!);
    const members = membersOption(`the members of group ${gid}`)(pairs[index + 1]!);
    groups.push({
      gid,
      members: memberInfos(members),
    });
  }
  return groups;
}

function parseBucketRange(text: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (match === null) throw new InvalidArgumentError(`buckets are N or FROM-TO (like 0-4), got "${text}"`);
  const from = Number(match[1]);
  return [from, match[2] === undefined ? from : Number(match[2])];
}

/** What replace and remove-member need: the meta client, and clients of a group's members service. */
function membershipParts(flags: AdminFlags, { token, tls }: ClusterAccess, meta: MetaClient): ReplaceMemberParts {
  return {
    meta,
    group: (members) =>
      MembersClient.forMembers(members, {
        clusterId: flags.clusterId,
        ...(token === undefined ? {} : { token }),
        ...(tls === undefined ? {} : { tls }),
        deadlineMs: flags.timeoutMs,
      }),
    clock: realClientClock,
    onStep: (step) => process.stderr.write(`raftkv admin: ${step}\n`),
  };
}

/** How a command prints its config: by default the table, or the canonical JSON with --json. */
interface ConfigPrinter {
  print(config: ShardConfig, access: ClusterAccess): Promise<string>;
}

/** How the command reaches the cluster's nodes: its auth token and TLS, when the cluster asks for them. */
interface ClusterAccess {
  readonly token: string | undefined;
  readonly tls: ClientTls | undefined;
}

async function withMetaClient(
  admin: Command,
  flags: AdminFlags,
  run: (client: MetaClient, access: ClusterAccess) => Promise<ShardConfig>,
  printer: ConfigPrinter = {
    print: (config) => Promise.resolve(flags.json === true ? canonicalConfigJson(config) : formatConfig(config)),
  },
): Promise<void> {
  const tls = clientTlsOrExit(admin, flags);
  const token = await clientToken(admin, flags);
  const channel = new TcpGroupChannel({
    members: flags.meta,
    clusterId: flags.clusterId,
    token,
    ...(tls === undefined ? {} : { tls }),
  });
  const client = new MetaClient({
    members: [...flags.meta.keys()],
    channel,
    clock: realClientClock,
    clientId: `admin-${randomUUID()}`,
    random: Math.random,
    deadlineMs: flags.timeoutMs,
  });
  try {
    const config = await run(client, { token, tls });
    process.stdout.write(`${await printer.print(config, { token, tls })}\n`);
  } catch (error) {
    const known =
      error instanceof ClientError ||
      error instanceof MetaRefusedError ||
      error instanceof ReplaceMemberError ||
      error instanceof MembersDecodeError;
    if (!known) throw error;
    process.stderr.write(`raftkv admin: ${error.message}\n`);
    process.exitCode = 2;
  } finally {
    channel.close();
  }
}
