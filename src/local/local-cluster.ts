/**
 * A whole cluster on one machine, as `raftkv local` runs it: the meta group,
 * the shard groups, their join, and a check that every group serves before
 * anyone is told to connect. A second start with the same directory resumes
 * the cluster: same nodes, same ports, same data, no second join.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readTokenFile, writeNewTokenFile } from '../auth/token-file.js';
import { readFileIfExists } from '../storage/atomic-file.js';
import { realClientClock } from '../client/channel.js';
import { MetaClient } from '../client/meta-client.js';
import { ShardedKvClient } from '../client/sharded-client.js';
import { TcpGroupChannel } from '../client/tcp-channel.js';
import type { GroupInfo, ShardConfig } from '../meta/config.js';
import { bucketsOf } from '../meta/config.js';
import { bucketOf } from '../shard/bucket.js';
import { readClusterFile, writeClusterFile } from './cluster-file.js';
import type { LayoutOptions, LocalGroup, LocalLayout, LocalNode } from './layout.js';
import { buildLayout, layoutPorts, membersFlag } from './layout.js';
import { NodeProcess } from './node-process.js';
import { portProblem } from './ports.js';
import type { LocalTlsFiles } from './local-tls.js';
import { clientTls, localTls, tlsFlags } from './local-tls.js';
import type { ClientTls } from '../transport/index.js';

/** The first join and the first reads wait out elections in every group: a fresh start on a busy machine takes seconds. */
const READY_DEADLINE_MS = 60_000;
/** An error names this many taken ports; a cluster already running takes every one of them. */
const TAKEN_PORTS_NAMED_MAX = 3;
/** The cluster's auth token, in its directory: made by --auth, and kept (auth stays on) when the cluster resumes. */
const TOKEN_FILE_NAME = 'auth-token';

export interface LocalClusterOptions {
  readonly directory: string;
  /** Settings for a new cluster; a directory that holds one keeps its own (see `settingsFor`). */
  readonly settings: LayoutOptions;
  /** Settings the user named explicitly: a resumed cluster refuses ones that differ from its own. */
  readonly explicit: ReadonlySet<keyof LayoutOptions>;
  readonly logLevel: string;
  /** Make an auth token for a cluster that has none yet (a cluster that has one always uses it). */
  readonly auth: boolean;
  /** One line per step, for people watching it start. */
  readonly progress: (line: string) => void;
  /** A node ended while the cluster was running. */
  readonly onNodeExit: (name: string, description: string, logFile: string) => void;
  /** Make TLS certificates (if the directory has none) and use TLS on every port. */
  readonly tls?: boolean;
}

export class LocalCluster {
  private constructor(
    readonly directory: string,
    readonly layout: LocalLayout,
    /** True when the directory already held this cluster. */
    readonly resumed: boolean,
    /** The file holding the auth token every client must give; null when the cluster asks for none. */
    readonly tokenFile: string | null,
    /** Where the certificates are, when the cluster speaks TLS. */
    readonly tls: LocalTlsFiles | null,
    private readonly nodes: readonly NodeProcess[],
  ) {}

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const directory = path.resolve(options.directory);
    await mkdir(path.join(directory, 'logs'), { recursive: true });
    const stored = await readClusterFile(directory);
    const settings = settingsFor(stored, options.settings, options.explicit, options.directory);
    const layout = buildLayout(settings);
    await checkPortsFree(layout);
    if (stored === null) await writeClusterFile(directory, settings);
    const auth = await clusterToken(directory, options.auth, options.progress);
    const tls = await localTls(directory, options.tls === true, layout.host);
    if (tls !== null) options.progress(`TLS on every port: the CA is ${tls.ca}`);

    let running = false;
    const common = ['--cluster-id', layout.clusterId, '--log-level', options.logLevel];
    if (auth !== null) common.push('--auth-token-file', auth.file);
    if (tls !== null) common.push(...tlsFlags(tls));
    const nodes = nodeProcesses(layout, directory, common, (name, description, logFile) => {
      if (running) options.onNodeExit(name, description, logFile);
    });
    const cluster = new LocalCluster(directory, layout, stored !== null, auth?.file ?? null, tls, nodes);
    try {
      options.progress(
        `starting ${layout.meta.length} meta nodes and ${nodes.length - layout.meta.length} shard nodes`,
      );
      // All at once: each loads the sources and opens its store, and elections need a majority up anyway.
      await Promise.all(nodes.map((node) => node.start()));
      options.progress('waiting for the meta group and the shard groups to elect leaders and serve');
      const access = { token: auth?.token, tls: tls === null ? undefined : await clientTls(tls) };
      await joinAndWait(layout, access, (line) => options.progress(line));
      running = true;
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** `--meta` for every other raftkv command. */
  get metaFlag(): string {
    return membersFlag(this.layout.host, this.layout.meta);
  }

  /** Stops every node (SIGTERM, as Ctrl-C on a single node would), leaving the data in place. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}

/** A new cluster takes the given settings; a stored one keeps its own, and refuses explicit flags that disagree. */
export function settingsFor(
  stored: LayoutOptions | null,
  requested: LayoutOptions,
  explicit: ReadonlySet<keyof LayoutOptions>,
  directoryName: string,
): LayoutOptions {
  if (stored === null) return requested;
  const flags: Record<keyof LayoutOptions, string> = {
    groups: '--groups',
    replicas: '--replicas',
    basePort: '--base-port',
    host: '--host',
    clusterId: '--cluster-id',
  };
  for (const key of explicit) {
    if (stored[key] !== requested[key]) {
      throw new Error(
        `${directoryName} holds a cluster made with ${flags[key]} ${String(stored[key])}: ` +
          `run without ${flags[key]} to resume it, or choose another --dir for a new cluster`,
      );
    }
  }
  return stored;
}

/** The cluster's token and its file: the one in `directory`, a new one when asked for, or null. */
async function clusterToken(
  directory: string,
  wanted: boolean,
  progress: (line: string) => void,
): Promise<{ readonly file: string; readonly token: string } | null> {
  const file = path.join(directory, TOKEN_FILE_NAME);
  if ((await readFileIfExists(file)) !== null) return { file, token: await readTokenFile(file, 'the auth token file') };
  if (!wanted) return null;
  const token = await writeNewTokenFile(file);
  progress(`made an auth token for this cluster in ${file} (readable by you only); clients need it from now on`);
  return { file, token };
}

async function checkPortsFree(layout: LocalLayout): Promise<void> {
  const ports = layoutPorts(layout);
  const problems = await Promise.all(ports.map((port) => portProblem(layout.host, port)));
  const taken = ports.flatMap((port, index) => (problems[index] === null ? [] : [`${port} (${problems[index]})`]));
  if (taken.length > 0) {
    const named =
      taken.length <= TAKEN_PORTS_NAMED_MAX
        ? taken.join(', ')
        : `${taken.slice(0, TAKEN_PORTS_NAMED_MAX).join(', ')} and ${taken.length - TAKEN_PORTS_NAMED_MAX} more`;
    throw new Error(
      `ports ${named} on ${layout.host} cannot be used: is another raftkv local running? ` +
        `Stop it, or choose other ports with --base-port`,
    );
  }
}

function nodeProcesses(
  layout: LocalLayout,
  directory: string,
  common: readonly string[],
  onExit: (name: string, description: string, logFile: string) => void,
): NodeProcess[] {
  const { host } = layout;
  const node = (name: string, fileName: string, local: LocalNode, args: string[], ports: number[]): NodeProcess => {
    const logFile = path.join(directory, 'logs', `${fileName}.log`);
    return new NodeProcess({
      name,
      args: [
        ...args,
        '--id',
        String(local.id),
        '--dir',
        path.join(directory, local.directory),
        '--http',
        `${host}:${local.httpPort}`,
        ...common,
      ],
      logFile,
      host,
      ports: [...ports, local.httpPort],
      onUnexpectedExit: (description) => onExit(name, description, logFile),
    });
  };
  const metaMembers = membersFlag(host, layout.meta);
  return [
    ...layout.meta.map((member) =>
      node(
        `meta node ${member.id}`,
        `meta-${member.id}`,
        member,
        ['meta', '--members', metaMembers],
        [member.peerPort],
      ),
    ),
    ...layout.shardGroups.flatMap((group) =>
      group.members.map((member) =>
        node(
          `group ${group.gid} node ${member.id}`,
          `group-${group.gid}-${member.id}`,
          member,
          [
            'shard',
            '--gid',
            String(group.gid),
            '--members',
            membersFlag(host, group.members),
            '--meta',
            metaMembers,
            '--resp',
            `${host}:${member.respPort}`,
          ],
          [member.peerPort, member.respPort],
        ),
      ),
    ),
  ];
}

/** Joins the groups the config lacks (all of them on a first start), then waits until each serves a read. */
async function joinAndWait(
  layout: LocalLayout,
  access: { readonly token: string | undefined; readonly tls: ClientTls | undefined },
  progress: (line: string) => void,
): Promise<void> {
  const metaAddresses = new Map(layout.meta.map((node) => [node.id, { host: layout.host, port: node.peerPort }]));
  const { token, tls } = access;
  const connection = { clusterId: layout.clusterId, token, ...(tls === undefined ? {} : { tls }) };
  const metaChannel = new TcpGroupChannel({ members: metaAddresses, ...connection });
  const shardChannel = new TcpGroupChannel({ members: new Map(), ...connection });
  const common = { clock: realClientClock, random: Math.random, deadlineMs: READY_DEADLINE_MS };
  const meta = new MetaClient({
    ...common,
    members: layout.meta.map((node) => node.id),
    channel: metaChannel,
    clientId: `local-${randomUUID()}`,
  });
  const client = new ShardedKvClient({
    ...common,
    meta,
    channel: shardChannel,
    clientId: `local-probe-${randomUUID()}`,
    learnAddresses: (members) => shardChannel.learn(members),
  });
  try {
    let config = await meta.query();
    const missing = layout.shardGroups.filter((group) => !config.groups.some((known) => known.gid === group.gid));
    if (missing.length > 0) {
      progress(`joining ${missing.map((group) => `group ${group.gid}`).join(' and ')}; the buckets spread over them`);
      config = await meta.join(missing.map((group) => groupInfo(layout.host, group)));
    }
    // A linearizable read in a bucket of each group: it answers once that group has a leader and serves the config.
    for (const group of config.groups) {
      const key = probeKey(config, group.gid);
      if (key !== null) await client.get(key);
    }
  } finally {
    client.close();
    meta.close();
    metaChannel.close();
    shardChannel.close();
  }
}

function groupInfo(host: string, group: LocalGroup): GroupInfo {
  return {
    gid: group.gid,
    members: group.members.map((node) => ({ id: node.id, address: `${host}:${node.peerPort}` })),
  };
}

/** A key that falls in one of `gid`'s buckets, or null when it owns none. */
function probeKey(config: ShardConfig, gid: number): Uint8Array | null {
  const owned = new Set(bucketsOf(config, gid));
  if (owned.size === 0) return null;
  for (let attempt = 0; ; attempt++) {
    const key = Buffer.from(`raftkv-local-probe-${attempt}`);
    if (owned.has(bucketOf(key, config.buckets.length))) return key;
  }
}
