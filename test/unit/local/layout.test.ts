import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readClusterFile, writeClusterFile } from '../../../src/local/cluster-file.js';
import type { LayoutOptions } from '../../../src/local/layout.js';
import {
  BASE_PORT_MAX,
  buildLayout,
  layoutPorts,
  layoutProblem,
  LOCAL_GROUPS_MAX,
  LOCAL_REPLICAS_MAX,
  membersFlag,
} from '../../../src/local/layout.js';
import { settingsFor } from '../../../src/local/local-cluster.js';

const DEFAULTS: LayoutOptions = { groups: 2, replicas: 3, basePort: 7100, host: '127.0.0.1', clusterId: 'raftkv' };

describe('raftkv local: the layout of a cluster', () => {
  it('puts the default cluster where the README says: meta peers from 7100, group 1 RESP from 7220', () => {
    const layout = buildLayout(DEFAULTS);
    assert.deepEqual(
      layout.meta.map((node) => [node.id, node.peerPort]),
      [
        [1, 7100],
        [2, 7101],
        [3, 7102],
      ],
    );
    assert.deepEqual(
      layout.shardGroups.map((group) => group.members.map((node) => [node.id, node.peerPort, node.respPort])),
      [
        [
          [11, 7200, 7220],
          [12, 7201, 7221],
          [13, 7202, 7222],
        ],
        [
          [21, 7300, 7320],
          [22, 7301, 7321],
          [23, 7302, 7322],
        ],
      ],
    );
    assert.equal(membersFlag('127.0.0.1', layout.meta), '1=127.0.0.1:7100,2=127.0.0.1:7101,3=127.0.0.1:7102');
  });

  it('never gives two nodes the same port, id or directory, even at the largest size and base port', () => {
    const layout = buildLayout({
      ...DEFAULTS,
      groups: LOCAL_GROUPS_MAX,
      replicas: LOCAL_REPLICAS_MAX,
      basePort: BASE_PORT_MAX,
    });
    const ports = layoutPorts(layout);
    assert.equal(new Set(ports).size, ports.length);
    assert.ok(Math.max(...ports) <= 65535);
    const nodes = [...layout.meta, ...layout.shardGroups.flatMap((group) => group.members)];
    assert.equal(new Set(nodes.map((node) => node.id)).size, nodes.length);
    assert.equal(new Set(nodes.map((node) => node.directory)).size, nodes.length);
  });

  it('says which flag is out of range', () => {
    assert.match(layoutProblem({ ...DEFAULTS, groups: 0 }) ?? '', /--groups takes 1 to 9/);
    assert.match(layoutProblem({ ...DEFAULTS, replicas: 10 }) ?? '', /--replicas takes 1 to 9/);
    assert.match(layoutProblem({ ...DEFAULTS, basePort: 80 }) ?? '', /--base-port takes 1024/);
    assert.match(layoutProblem({ ...DEFAULTS, basePort: BASE_PORT_MAX + 1 }) ?? '', /--base-port/);
    assert.equal(layoutProblem(DEFAULTS), null);
    assert.throws(() => buildLayout({ ...DEFAULTS, groups: 10 }), /--groups/);
  });
});

describe('raftkv local: resuming a cluster from its directory', () => {
  it('keeps the stored settings when flags are left out, and refuses explicit flags that disagree', () => {
    const stored = { ...DEFAULTS, groups: 3, basePort: 9100 };
    assert.deepEqual(settingsFor(null, DEFAULTS, new Set(), 'dir'), DEFAULTS);
    assert.deepEqual(settingsFor(stored, DEFAULTS, new Set(), 'dir'), stored);
    assert.deepEqual(settingsFor(stored, { ...DEFAULTS, groups: 3 }, new Set(['groups']), 'dir'), stored);
    assert.throws(
      () => settingsFor(stored, DEFAULTS, new Set(['basePort']), 'data/c1'),
      /data\/c1 holds a cluster made with --base-port 9100: run without --base-port to resume it/,
    );
  });

  it('stores the settings and reads them back; no file means no cluster; a foreign file is named', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-local-'));
    try {
      assert.equal(await readClusterFile(directory), null);
      await writeClusterFile(directory, { ...DEFAULTS, replicas: 1 });
      assert.deepEqual(await readClusterFile(directory), { ...DEFAULTS, replicas: 1 });
      await writeFile(path.join(directory, 'cluster.json'), '{"groups": "two"}');
      await assert.rejects(readClusterFile(directory), /cluster\.json is not a raftkv local cluster file/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
