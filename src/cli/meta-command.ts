/** `raftkv meta`: run one member of the meta (config) group until Ctrl-C or SIGTERM. */
import type { Command } from '@commander-js/extra-typings';
import { MetaServer } from '../api/meta-server.js';
import { createLogger } from '../log/logger.js';
import { integerOption, membersOption } from './options.js';
import { stopOnSignals } from './process-lifecycle.js';
import { commonServerOptions, withServerFlags } from './server-flags.js';
import { exitAfterNodeFailure, startOrExit } from './node-failure.js';

export function addMetaCommand(program: Command): void {
  withServerFlags(
    program
      .command('meta')
      .description('run one member of the meta group, which maps buckets to replica groups')
      .requiredOption('--id <n>', "this member's id, one of --members", integerOption('--id', 1))
      .requiredOption(
        '--members <list>',
        'every meta member with its address: 1=host:port,2=host:port,...',
        membersOption('--members'),
      )
      .requiredOption('--dir <path>', 'data directory of this member (created if missing)'),
  )
    .addHelpText(
      'after',
      `
Examples (three meta members on one machine, each in its own terminal):
  raftkv meta --id 1 --members 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 --dir data/meta-1 --http 127.0.0.1:8101
  raftkv meta --id 2 --members 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 --dir data/meta-2 --http 127.0.0.1:8102
  raftkv meta --id 3 --members 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 --dir data/meta-3 --http 127.0.0.1:8103
  raftkv admin --meta 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 query`,
    )
    .action(async (options) => {
      if (!options.members.has(options.id)) {
        program.error(`error: --id ${options.id} is not one of the members in --members`);
      }
      const logger = createLogger(options.logLevel, { meta: options.id });
      const name = `raftkv meta ${options.id}`;
      const common = await commonServerOptions(program, options, name, logger);
      const server = await startOrExit(name, logger, () =>
        MetaServer.start({
          id: options.id,
          members: options.members,
          directory: options.dir,
          ...common,
          ...(options.http === undefined ? {} : { http: options.http }),
        }),
      );
      const self = options.members.get(options.id)!;
      server.replica.node.onFatal = (error) => exitAfterNodeFailure(name, logger, error);
      const http = options.http === undefined ? 'off' : `${options.http.host}:${server.httpPort}`;
      process.stdout.write(`${name}: serving on ${self.host}:${server.port}, HTTP ${http}, data in ${options.dir}\n`);
      stopOnSignals(name, () => server.close());
    });
}
