/** `raftkv node`: run one member of a replica group until Ctrl-C or SIGTERM. */
import type { Command } from '@commander-js/extra-typings';
import { MemberServer } from '../api/member-server.js';
import { createLogger } from '../log/logger.js';
import { hostPortOption, integerOption, membersOption } from './options.js';
import { stopOnSignals } from './process-lifecycle.js';
import { commonServerOptions, withServerFlags } from './server-flags.js';
import { exitAfterNodeFailure, startOrExit } from './node-failure.js';

export function addNodeCommand(program: Command): void {
  withServerFlags(
    program
      .command('node')
      .description('run one member of a replicated KV group')
      .requiredOption('--id <n>', "this member's id, one of --members", integerOption('--id', 1))
      .requiredOption(
        '--members <list>',
        'every member with its peer address: 1=host:port,2=host:port,...',
        membersOption('--members'),
      )
      .requiredOption('--dir <path>', 'data directory of this member (created if missing)')
      .option('--resp <host:port>', 'serve the Redis protocol (RESP2) here', hostPortOption('--resp'))
      .option(
        '--snapshot-every <entries>',
        'also snapshot the state and compact the log every N applied entries (default: only every 64 MiB of applied commands)',
        integerOption('--snapshot-every', 1),
      )
      .option(
        '--log-keep <entries>',
        'log entries kept behind a snapshot, so a member a little behind catches up without a whole snapshot',
        integerOption('--log-keep', 0),
        5000,
      ),
  )
    .addHelpText(
      'after',
      `
Examples (three members on one machine, each in its own terminal):
  raftkv node --id 1 --members 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 --dir data/1 --resp 127.0.0.1:6381 --http 127.0.0.1:8081
  raftkv node --id 2 --members 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 --dir data/2 --resp 127.0.0.1:6382 --http 127.0.0.1:8082
  raftkv node --id 3 --members 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 --dir data/3 --resp 127.0.0.1:6383 --http 127.0.0.1:8083
  redis-cli -p 6381 set greeting hello`,
    )
    .action(async (options) => {
      if (!options.members.has(options.id)) {
        program.error(`error: --id ${options.id} is not one of the members in --members`);
      }
      const logger = createLogger(options.logLevel, { node: options.id });
      const common = await commonServerOptions(program, options, `raftkv node ${options.id}`, logger);
      const server = await startOrExit(`raftkv node ${options.id}`, logger, () =>
        MemberServer.start({
          id: options.id,
          members: options.members,
          directory: options.dir,
          ...(options.resp === undefined ? {} : { resp: options.resp }),
          ...(options.http === undefined ? {} : { http: options.http }),
          ...common,
          snapshotEveryEntries: options.snapshotEvery,
          logKeepEntries: options.logKeep,
        }),
      );
      server.disk.replica.node.onFatal = (error) => exitAfterNodeFailure(`raftkv node ${options.id}`, logger, error);
      const self = options.members.get(options.id)!;
      const resp = options.resp === undefined ? 'off' : `${options.resp.host}:${server.respPort}`;
      const http = options.http === undefined ? 'off' : `${options.http.host}:${server.httpPort}`;
      process.stdout.write(
        `raftkv node ${options.id}: peers and clients on ${self.host}:${server.peerPort}, RESP ${resp}, HTTP ${http}, data in ${options.dir}\n`,
      );
      stopOnSignals(`raftkv node ${options.id}`, () => server.close());
    });
}
