import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeStatus } from '../../../src/node/status-report.js';
import { ListMachine } from '../../support/list-machine.js';
import { NodeGroup } from '../../support/node-group.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const EXTRAS = { gid: null, logBytes: 0, configVersion: null, bucketsInTransit: [], startedAtMs: 0 };

describe('nodeStatus', () => {
  it("reports the state machine's applied index, also right after a restart, before the commit is known again", async () => {
    // Machines that outlive a crash, as the LevelDB of a real member does.
    const kept = new Map<number, ListMachine>();
    const host = {
      open: (id: number) => {
        const machine = kept.get(id) ?? new ListMachine();
        kept.set(id, machine);
        return Promise.resolve(machine);
      },
    };
    const group = new NodeGroup(7, [1, 2, 3], {}, host);
    await group.startAll();
    const leader = await group.electLeader();
    for (let k = 0; k < 5; k++) await group.await(leader.propose(encode(`v${k}`)));
    await group.runUntil(() => group.ids.every((id) => group.machine(id).items.length === 5), 2000);
    const applied = group.machine(3).appliedIndex;
    assert.equal(nodeStatus(group.node(3), EXTRAS).appliedIndex, applied);

    // Alone after a restart, member 3 cannot learn the commit index: its core hands out at most what its saved commit index covers.
    for (const id of group.ids) await group.crash(id);
    const restarted = await group.start(3);
    assert.ok(restarted.core.appliedIndex < applied, `the core has handed out ${restarted.core.appliedIndex}`);
    assert.equal(nodeStatus(restarted, EXTRAS).appliedIndex, applied);
    await group.crash(3);
  });
});
