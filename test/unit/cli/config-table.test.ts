import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupView } from '../../../src/client/cluster-status.js';
import { clusterView, groupsToAsk } from '../../../src/client/cluster-status.js';
import { formatConfig, formatNodes, leadersOf } from '../../../src/cli/config-table.js';
import type { ShardConfig } from '../../../src/meta/config.js';
import type { NodeStatus } from '../../../src/node/node-status.js';

const CONFIG: ShardConfig = {
  version: 4,
  buckets: [1, 1, 1, 2, 2, 0],
  groups: [
    {
      gid: 1,
      members: [
        { id: 11, address: '127.0.0.1:7011' },
        { id: 12, address: '127.0.0.1:7012' },
      ],
    },
    { gid: 2, members: [{ id: 21, address: '127.0.0.1:7021' }] },
  ],
};
const META = [{ id: 1, address: '127.0.0.1:7101' }];

function status(id: number, role: NodeStatus['role'], term: number, extra: Partial<NodeStatus> = {}): NodeStatus {
  return {
    id,
    gid: 1,
    role,
    term,
    leaderId: null,
    commitIndex: 10,
    appliedIndex: 9,
    lastIndex: 11,
    snapshotIndex: 5,
    snapshotTerm: 1,
    logBytes: 100,
    configVersion: 4,
    bucketsInTransit: [],
    uptimeSeconds: 1,
    ...extra,
  };
}

/** Group 1: 11 an old leader at term 2, 12 the leader at term 3; group 2: its one member is down; meta leads. */
async function view(): Promise<readonly GroupView[]> {
  const statuses = new Map<number, NodeStatus>([
    [1, status(1, 'leader', 1)],
    [11, status(11, 'leader', 2)],
    [12, status(12, 'leader', 3, { bucketsInTransit: [{ bucket: 3, state: 'handing off to group 2' }] })],
  ]);
  const cluster = await clusterView(CONFIG, groupsToAsk(CONFIG, META), (member) => {
    const found = statuses.get(member.id);
    return Promise.resolve(
      found === undefined ? { ok: false, error: 'unreachable: nobody listens' } : { ok: true, status: found },
    );
  });
  assert.deepEqual(cluster.moves, [{ bucket: 3, gid: 1, state: 'handing off to group 2' }]);
  return cluster.groups;
}

describe('the admin query tables', () => {
  it("names each group's leader: the member that leads at the highest term, none when no leader answers", async () => {
    const groups = await view();
    assert.equal(
      formatConfig(CONFIG, leadersOf(groups)),
      [
        'config version 4, 6 buckets',
        'group   buckets  count  leader  members',
        '1       0-2      3      12      11=127.0.0.1:7011,12=127.0.0.1:7012',
        '2       3-4      2      none    21=127.0.0.1:7021',
        '(none)  5        1',
      ].join('\n'),
    );
  });

  it('lists every node, the meta group first, and says why a node did not answer', async () => {
    assert.equal(
      formatNodes(await view()),
      [
        'group    id  address         role    term  commit  applied  last  snapshot',
        'meta     1   127.0.0.1:7101  leader  1     10      9        11    5',
        'group 1  11  127.0.0.1:7011  leader  2     10      9        11    5',
        'group 1  12  127.0.0.1:7012  leader  3     10      9        11    5',
        'group 2  21  127.0.0.1:7021  unreachable: nobody listens',
      ].join('\n'),
    );
  });

  it('prints the table of join, leave and move without a leader column, as before', () => {
    assert.match(formatConfig(CONFIG), /^group\s+buckets\s+count\s+members$/m);
  });
});
