/**
 * Where every node of a `raftkv local` cluster lives: ids, ports and data
 * directories, all derived from a few numbers so that a second run with the
 * same directory finds each node where the meta group's config says it is.
 *
 * Ports, from the base port B (default 7100):
 *   meta member i (1..3):        peer B+i-1, HTTP B+10+i-1
 *   group g (1..9), member r:    id 10g+r, peer B+100g+r-1, RESP B+100g+20+r-1, HTTP B+100g+40+r-1
 * so B=7100 gives meta peers 7100-7102 and group 1 RESP ports 7220-7222.
 */
import path from 'node:path';

export const META_MEMBERS = 3;
/** Ids are 10g+r: one decimal digit each keeps them readable in tables and logs. */
export const LOCAL_GROUPS_MAX = 9;
export const LOCAL_REPLICAS_MAX = 9;
/** Ports below 1024 need root; the highest group's last HTTP port must stay below 65536. */
export const BASE_PORT_MIN = 1024;
export const BASE_PORT_MAX = 65535 - 100 * LOCAL_GROUPS_MAX - 40 - LOCAL_REPLICAS_MAX;

export interface LayoutOptions {
  readonly groups: number;
  readonly replicas: number;
  readonly basePort: number;
  readonly host: string;
  readonly clusterId: string;
}

export interface LocalNode {
  readonly id: number;
  /** Peers and clients of the client library connect here. */
  readonly peerPort: number;
  readonly httpPort: number;
  /** Relative to the cluster's directory. */
  readonly directory: string;
}

export interface LocalShardNode extends LocalNode {
  readonly respPort: number;
}

export interface LocalGroup {
  readonly gid: number;
  readonly members: readonly LocalShardNode[];
}

export interface LocalLayout extends LayoutOptions {
  readonly meta: readonly LocalNode[];
  readonly shardGroups: readonly LocalGroup[];
}

export function buildLayout(options: LayoutOptions): LocalLayout {
  const problem = layoutProblem(options);
  if (problem !== null) throw new RangeError(problem);
  const base = options.basePort;
  const meta = Array.from({ length: META_MEMBERS }, (_, index) => ({
    id: index + 1,
    peerPort: base + index,
    httpPort: base + 10 + index,
    directory: path.join('meta', String(index + 1)),
  }));
  const shardGroups = Array.from({ length: options.groups }, (_, groupIndex) => {
    const gid = groupIndex + 1;
    const members = Array.from({ length: options.replicas }, (_, index) => ({
      id: 10 * gid + index + 1,
      peerPort: base + 100 * gid + index,
      respPort: base + 100 * gid + 20 + index,
      httpPort: base + 100 * gid + 40 + index,
      directory: path.join(`group-${gid}`, String(10 * gid + index + 1)),
    }));
    return { gid, members };
  });
  return { ...options, meta, shardGroups };
}

/** Why these options cannot make a cluster, in the words of the flags; null when they can. */
export function layoutProblem(options: LayoutOptions): string | null {
  if (!Number.isInteger(options.groups) || options.groups < 1 || options.groups > LOCAL_GROUPS_MAX) {
    return `--groups takes 1 to ${LOCAL_GROUPS_MAX}, got ${options.groups}`;
  }
  if (!Number.isInteger(options.replicas) || options.replicas < 1 || options.replicas > LOCAL_REPLICAS_MAX) {
    return `--replicas takes 1 to ${LOCAL_REPLICAS_MAX}, got ${options.replicas}`;
  }
  if (!Number.isInteger(options.basePort) || options.basePort < BASE_PORT_MIN || options.basePort > BASE_PORT_MAX) {
    return `--base-port takes ${BASE_PORT_MIN} to ${BASE_PORT_MAX} (the cluster uses ports up to 1,000 above it), got ${options.basePort}`;
  }
  return null;
}

/** Every port the cluster listens on, for a check that they are free before anything starts. */
export function layoutPorts(layout: LocalLayout): number[] {
  return [
    ...layout.meta.flatMap((node) => [node.peerPort, node.httpPort]),
    ...layout.shardGroups.flatMap((group) =>
      group.members.flatMap((node) => [node.peerPort, node.respPort, node.httpPort]),
    ),
  ];
}

/** `1=host:port,2=host:port,...`, the members flag every subcommand takes. */
export function membersFlag(host: string, nodes: readonly LocalNode[]): string {
  return nodes.map((node) => `${node.id}=${host}:${node.peerPort}`).join(',');
}
