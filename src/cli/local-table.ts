/** What `raftkv local` prints once the cluster serves: where to connect, as a table for people or JSON for scripts. */
import type { LocalCluster } from '../local/local-cluster.js';
import { formatTable } from './text-table.js';

export function localClusterJson(cluster: LocalCluster): unknown {
  const { layout } = cluster;
  const address = (port: number): string => `${layout.host}:${port}`;
  const scheme = cluster.tls === null ? 'http' : 'https';
  return {
    directory: cluster.directory,
    resumed: cluster.resumed,
    clusterId: layout.clusterId,
    tokenFile: cluster.tokenFile,
    tls: cluster.tls,
    meta: cluster.metaFlag,
    metaNodes: layout.meta.map((node) => ({
      id: node.id,
      address: address(node.peerPort),
      http: `${scheme}://${address(node.httpPort)}/`,
    })),
    groups: layout.shardGroups.map((group) => ({
      gid: group.gid,
      members: group.members.map((node) => ({
        id: node.id,
        address: address(node.peerPort),
        resp: address(node.respPort),
        http: `${scheme}://${address(node.httpPort)}/`,
      })),
    })),
  };
}

export function formatLocalCluster(cluster: LocalCluster): string {
  const { layout } = cluster;
  const shardNodes = layout.shardGroups.flatMap((group) => group.members);
  const scheme = cluster.tls === null ? 'http' : 'https';
  // What each kind of client adds to talk TLS to this cluster.
  const ca = cluster.tls?.ca;
  const redisTls = ca === undefined ? '' : ` --tls --cacert ${ca}`;
  const curlTls = ca === undefined ? '' : ` --cacert ${ca}`;
  const raftkvTls = ca === undefined ? '' : ` --tls-ca ${ca}`;
  const rows = [
    ['group', 'node', 'address', 'RESP (redis-cli)', 'HTTP API and dashboard'],
    ...layout.meta.map((node) => [
      'meta',
      String(node.id),
      `${layout.host}:${node.peerPort}`,
      '-',
      `${scheme}://${layout.host}:${node.httpPort}/`,
    ]),
    ...layout.shardGroups.flatMap((group) =>
      group.members.map((node) => [
        String(group.gid),
        String(node.id),
        `${layout.host}:${node.peerPort}`,
        `${layout.host}:${node.respPort}`,
        `${scheme}://${layout.host}:${node.httpPort}/`,
      ]),
    ),
  ];
  const first = shardNodes[0]!;
  const clusterIdFlag = layout.clusterId === 'raftkv' ? '' : ` --cluster-id ${layout.clusterId}`;
  const { tokenFile } = cluster;
  // With a token, each example carries it the way its tool takes it, so that each can be pasted as is.
  const tokenFlag = tokenFile === null ? '' : ` --token-file ${tokenFile}`;
  const redisAuth = tokenFile === null ? '' : ` -a "$(cat ${tokenFile})"`;
  const curlAuth = tokenFile === null ? '' : ` -H "Authorization: Bearer $(cat ${tokenFile})"`;
  const authLines =
    tokenFile === null
      ? []
      : ['', `Auth: every client must give the token in ${tokenFile} (the dashboard asks for it once per tab).`];
  return [
    `raftkv local: ${cluster.resumed ? 'resumed' : 'started'} ${layout.meta.length} meta nodes and ` +
      `${layout.shardGroups.length} group(s) of ${layout.replicas}; data and logs in ${cluster.directory}`,
    '',
    formatTable(rows),
    ...authLines,
    '',
    'Try:',
    `  redis-cli${redisTls} -h ${layout.host} -p ${first.respPort}${redisAuth} set greeting hello`,
    `  curl${curlTls}${curlAuth} ${scheme}://${layout.host}:${first.httpPort}/v1/kv/greeting`,
    `  open ${scheme}://${layout.host}:${first.httpPort}/ in a browser for the dashboard` +
      (ca === undefined ? '' : ` (it will warn of the development CA, ${ca}, unless you trust it)`),
    `  raftkv get greeting --meta ${cluster.metaFlag}${clusterIdFlag}${raftkvTls}${tokenFlag}`,
    `  raftkv admin --meta ${cluster.metaFlag}${clusterIdFlag}${raftkvTls}${tokenFlag} query`,
    'Ctrl-C stops every node; run the same command again to resume with the data.',
  ].join('\n');
}
