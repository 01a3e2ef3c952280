/** What `raftkv local` prints once the cluster serves: where to connect, as a table for people or JSON for scripts. */
import type { LocalCluster } from '../local/local-cluster.js';
import { formatTable } from './text-table.js';

export function localClusterJson(cluster: LocalCluster): unknown {
  const { layout } = cluster;
  const address = (port: number): string => `${layout.host}:${port}`;
  return {
    directory: cluster.directory,
    resumed: cluster.resumed,
    clusterId: layout.clusterId,
    meta: cluster.metaFlag,
    metaNodes: layout.meta.map((node) => ({
      id: node.id,
      address: address(node.peerPort),
      http: `http://${address(node.httpPort)}/`,
    })),
    groups: layout.shardGroups.map((group) => ({
      gid: group.gid,
      members: group.members.map((node) => ({
        id: node.id,
        address: address(node.peerPort),
        resp: address(node.respPort),
        http: `http://${address(node.httpPort)}/`,
      })),
    })),
  };
}

export function formatLocalCluster(cluster: LocalCluster): string {
  const { layout } = cluster;
  const shardNodes = layout.shardGroups.flatMap((group) => group.members);
  const rows = [
    ['group', 'node', 'address', 'RESP (redis-cli)', 'HTTP API and dashboard'],
    ...layout.meta.map((node) => [
      'meta',
      String(node.id),
      `${layout.host}:${node.peerPort}`,
      '-',
      `http://${layout.host}:${node.httpPort}/`,
    ]),
    ...layout.shardGroups.flatMap((group) =>
      group.members.map((node) => [
        String(group.gid),
        String(node.id),
        `${layout.host}:${node.peerPort}`,
        `${layout.host}:${node.respPort}`,
        `http://${layout.host}:${node.httpPort}/`,
      ]),
    ),
  ];
  const first = shardNodes[0]!;
  const clusterIdFlag = layout.clusterId === 'raftkv' ? '' : ` --cluster-id ${layout.clusterId}`;
  return [
    `raftkv local: ${cluster.resumed ? 'resumed' : 'started'} ${layout.meta.length} meta nodes and ` +
      `${layout.shardGroups.length} group(s) of ${layout.replicas}; data and logs in ${cluster.directory}`,
    '',
    formatTable(rows),
    '',
    'Try:',
    `  redis-cli -h ${layout.host} -p ${first.respPort} set greeting hello`,
    `  curl http://${layout.host}:${first.httpPort}/v1/kv/greeting`,
    `  open http://${layout.host}:${first.httpPort}/ in a browser for the dashboard`,
    `  raftkv get greeting --meta ${cluster.metaFlag}${clusterIdFlag}`,
    `  raftkv admin --meta ${cluster.metaFlag}${clusterIdFlag} query`,
    'Ctrl-C stops every node; run the same command again to resume with the data.',
  ].join('\n');
}
