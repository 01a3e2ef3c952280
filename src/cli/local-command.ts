/** `raftkv local`: a whole cluster on this machine, until Ctrl-C or SIGTERM; `npm start` runs it. */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import type { LayoutOptions } from '../local/layout.js';
import { BASE_PORT_MAX, BASE_PORT_MIN, LOCAL_GROUPS_MAX, LOCAL_REPLICAS_MAX } from '../local/layout.js';
import { LocalCluster } from '../local/local-cluster.js';
import { LOG_LEVELS } from '../log/logger.js';
import { formatLocalCluster, localClusterJson } from './local-table.js';
import { integerOption } from './options.js';

const DIRECTORY_DEFAULT = '.raftkv-data/local';
const DEFAULTS: LayoutOptions = { groups: 2, replicas: 3, basePort: 7100, host: '127.0.0.1', clusterId: 'raftkv' };

export function addLocalCommand(program: Command): void {
  program
    .command('local')
    .description('run a whole cluster on this machine: 3 meta nodes and shard groups, joined and serving')
    .option('--dir <path>', 'where the cluster keeps its data and logs; run again with it to resume', DIRECTORY_DEFAULT)
    .option(
      '--groups <n>',
      `shard groups (1 to ${LOCAL_GROUPS_MAX}; default ${DEFAULTS.groups})`,
      integerOption('--groups', 1, LOCAL_GROUPS_MAX),
    )
    .option(
      '--replicas <n>',
      `members per shard group (1 to ${LOCAL_REPLICAS_MAX}; default ${DEFAULTS.replicas})`,
      integerOption('--replicas', 1, LOCAL_REPLICAS_MAX),
    )
    .option(
      '--base-port <port>',
      `the first port; the cluster uses ports up to 1,000 above it, best kept below 32768, where the system ` +
        `picks ports for outgoing connections (default ${DEFAULTS.basePort})`,
      integerOption('--base-port', BASE_PORT_MIN, BASE_PORT_MAX),
    )
    .option('--host <address>', `the loopback address every node listens on (default ${DEFAULTS.host})`)
    .option(
      '--cluster-id <name>',
      `every node and client of one cluster must agree on it (default ${DEFAULTS.clusterId})`,
    )
    .option(
      '--auth',
      'make an auth token (in DIR/auth-token) that every client must give; a cluster made so keeps asking for it',
    )
    .option('--json', 'print where to connect as JSON (one line, for scripts) instead of a table')
    .option('--tls', 'TLS on every port, with a development CA and certificate made in DIR/tls (kept for later runs)')
    .addOption(
      new Option('--log-level <level>', 'how much each node logs into its file under DIR/logs')
        .choices(LOG_LEVELS)
        .default('warn'),
    )
    .addHelpText(
      'after',
      `
Examples:
  raftkv local                               3 meta nodes, 2 groups of 3, data in ${DIRECTORY_DEFAULT}
  raftkv local --groups 3 --replicas 1       3 groups of one node each
  raftkv local --dir /tmp/c1 --base-port 9100 --json
  raftkv local --auth                        clients must give the token in ${DIRECTORY_DEFAULT}/auth-token
  raftkv local --tls --dir /tmp/c2           TLS everywhere; certificates in /tmp/c2/tls
Then, in another terminal:
  redis-cli -p 7220 set greeting hello
  raftkv admin --meta 1=127.0.0.1:7100,2=127.0.0.1:7101,3=127.0.0.1:7102 query
Ctrl-C stops every node; the same command with the same --dir resumes the cluster with its data.`,
    )
    .action(async (options) => {
      const explicit = new Set<keyof LayoutOptions>();
      const requested: LayoutOptions = {
        groups: pick(options.groups, DEFAULTS.groups, 'groups', explicit),
        replicas: pick(options.replicas, DEFAULTS.replicas, 'replicas', explicit),
        basePort: pick(options.basePort, DEFAULTS.basePort, 'basePort', explicit),
        host: pick(options.host, DEFAULTS.host, 'host', explicit),
        clusterId: pick(options.clusterId, DEFAULTS.clusterId, 'clusterId', explicit),
      };
      const say = (line: string): void => void process.stderr.write(`raftkv local: ${line}\n`);
      const cluster = await LocalCluster.start({
        directory: options.dir,
        settings: requested,
        explicit,
        logLevel: options.logLevel,
        auth: options.auth === true,
        tls: options.tls === true,
        progress: options.json === true ? () => {} : say,
        onNodeExit: (name, description, logFile) =>
          say(
            `${name} ${description}; its log is ${logFile}. The others keep serving while a majority of each group runs`,
          ),
      }).catch((error: unknown) => {
        // Not a usage mistake: no "--help" hint, just what went wrong.
        process.stderr.write(`raftkv local: ${error instanceof Error ? error.message : String(error)}\n`);
        return process.exit(1);
      });
      process.stdout.write(
        options.json === true ? `${JSON.stringify(localClusterJson(cluster))}\n` : `${formatLocalCluster(cluster)}\n`,
      );
      const stop = (): void => {
        say('stopping every node');
        cluster.stop().then(
          () => {
            say(`stopped; the data stays in ${cluster.directory}`);
            process.exit(0);
          },
          (error: unknown) => {
            say(`could not stop cleanly: ${String(error)}`);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function pick<K extends keyof LayoutOptions>(
  given: LayoutOptions[K] | undefined,
  fallback: LayoutOptions[K],
  key: K,
  explicit: Set<keyof LayoutOptions>,
): LayoutOptions[K] {
  if (given === undefined) return fallback;
  explicit.add(key);
  return given;
}
