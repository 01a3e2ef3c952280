/** `raftkv shard`: run one member of a shard group until Ctrl-C or SIGTERM. */
import type { Command } from '@commander-js/extra-typings';
import { ShardServer } from '../api/shard-server.js';
import { createLogger } from '../log/logger.js';
import { hostPortOption, integerOption, membersOption } from './options.js';
import { stopOnSignals } from './process-lifecycle.js';
import { commonServerOptions, withServerFlags } from './server-flags.js';
import { exitAfterNodeFailure, startOrExit } from './node-failure.js';

export function addShardCommand(program: Command): void {
  withServerFlags(
    program
      .command('shard')
      .description('run one member of a shard group, which serves the buckets the meta group gives it')
      .requiredOption(
        '--id <n>',
        "this member's id, one of --members (unique in the whole cluster)",
        integerOption('--id', 1),
      )
      .requiredOption(
        '--gid <n>',
        'the id of this shard group, as `raftkv admin join` names it',
        integerOption('--gid', 1),
      )
      .requiredOption(
        '--members <list>',
        'every member of this group with its address: 4=host:port,5=host:port,...',
        membersOption('--members'),
      )
      .requiredOption('--meta <list>', 'the meta group: 1=host:port,2=host:port,...', membersOption('--meta'))
      .requiredOption('--dir <path>', 'data directory of this member (created if missing)')
      .option(
        '--join',
        'join a group that runs already, as a new member (see `raftkv admin replace`): start with no ' +
          'membership and wait for its leader; --members then lists the current members and this one',
      )
      .option(
        '--resp <host:port>',
        'serve the Redis protocol (RESP2) here, for keys of every group',
        hostPortOption('--resp'),
      )
      .option(
        '--snapshot-every <entries>',
        'also snapshot the state and compact the log every N applied entries (default: only every 64 MiB of applied commands)',
        integerOption('--snapshot-every', 1),
      ),
  )
    .addHelpText(
      'after',
      `
Example (group 1 of three members, each in its own terminal; then join it with raftkv admin):
  raftkv shard --id 11 --gid 1 --members 11=127.0.0.1:7011,12=127.0.0.1:7012,13=127.0.0.1:7013 \\
    --meta 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 --dir data/g1-11 --resp 127.0.0.1:6311 --http 127.0.0.1:8011
  raftkv admin --meta 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 join 1 11=127.0.0.1:7011,12=127.0.0.1:7012,13=127.0.0.1:7013`,
    )
    .action(async (options) => {
      if (!options.members.has(options.id)) {
        program.error(`error: --id ${options.id} is not one of the members in --members`);
      }
      const logger = createLogger(options.logLevel, { gid: options.gid, node: options.id });
      const name = `raftkv shard ${options.gid}/${options.id}`;
      const common = await commonServerOptions(program, options, name, logger);
      const server = await startOrExit(name, logger, () =>
        ShardServer.start({
          id: options.id,
          gid: options.gid,
          members: options.members,
          meta: options.meta,
          directory: options.dir,
          ...(options.resp === undefined ? {} : { resp: options.resp }),
          ...(options.http === undefined ? {} : { http: options.http }),
          ...common,
          snapshotEveryEntries: options.snapshotEvery,
        }),
      );
      server.node.onFatal = (error) => exitAfterNodeFailure(name, logger, error);
      const self = options.members.get(options.id)!;
      const resp = options.resp === undefined ? 'off' : `${options.resp.host}:${server.respPort}`;
      const http = options.http === undefined ? 'off' : `${options.http.host}:${server.httpPort}`;
      process.stdout.write(
        `${name}: serving on ${self.host}:${server.port}, RESP ${resp}, HTTP ${http}, data in ${options.dir}\n`,
      );
      stopOnSignals(name, () => server.close());
    });
}
