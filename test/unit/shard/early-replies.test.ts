import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../../../src/kv/commands.js';
import type { EngineWrite, EngineWriteOptions } from '../../../src/kv/engine.js';
import { MemoryKvEngine } from '../../../src/kv/memory-engine.js';
import { encodeShardCommand } from '../../../src/shard/command-codec.js';
import type { ShardCommand, ShardReply } from '../../../src/shard/commands.js';
import { ShardStateMachine } from '../../../src/shard/state-machine.js';
import { TestClient } from '../kv/kv-fixtures.js';
import { BUCKET_COUNT, configOf, textOf } from './shard-fixtures.js';

/** A memory engine that holds every write until `release()`. */
class HeldEngine extends MemoryKvEngine {
  holding = false;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;

  hold(): void {
    this.holding = true;
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.holding = false;
    this.open();
  }

  override async write(batch: readonly EngineWrite[], options: EngineWriteOptions): Promise<void> {
    if (this.holding) await this.gate;
    return super.write(batch, options);
  }
}

/** A machine of group 1 serving every bucket. */
async function servingEverything(): Promise<{ machine: ShardStateMachine; engine: HeldEngine }> {
  const engine = new HeldEngine();
  const machine = await ShardStateMachine.open(engine, { gid: 1 });
  await machine.apply(
    1,
    encodeShardCommand({ type: 'config', config: configOf(1, Array<number>(BUCKET_COUNT).fill(1)) }),
  );
  return { machine, engine };
}

function entriesFrom(machine: ShardStateMachine, commands: readonly ShardCommand[]) {
  return commands.map((command, offset) => ({
    index: machine.appliedIndex + 1 + offset,
    term: 1,
    command: encodeShardCommand(command),
  }));
}

describe('ShardStateMachine answers key commands before its write', () => {
  it('hands a batch of key commands to `decided` before the engine write, and moves appliedIndex only after it', async () => {
    const { machine, engine } = await servingEverything();
    const alice = new TestClient('alice');
    const before = machine.appliedIndex;
    let decided: readonly (ShardReply | undefined)[] | null = null;
    engine.hold();
    const applied = machine.applyBatch(
      entriesFrom(machine, [
        { type: 'kv', command: alice.put('k', 'v') },
        { type: 'kv', command: alice.append('k', 'w') },
      ]),
      (replies) => (decided = replies),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(decided, [{ ok: true }, { ok: true, valueBytes: 2 }], 'the replies come before the write');
    assert.equal(machine.appliedIndex, before, 'reads must not see the batch before its write is done');
    engine.release();
    assert.deepEqual(await applied, decided);
    assert.equal(machine.appliedIndex, before + 2);
    assert.equal(textOf(machine.get(utf8('k'))), 'vw');
  });

  it('answers a batch that holds a config command only after its write', async () => {
    const { machine, engine } = await servingEverything();
    let decided = false;
    engine.hold();
    const applied = machine.applyBatch(
      entriesFrom(machine, [
        { type: 'kv', command: new TestClient('alice').put('k', 'v') },
        { type: 'config', config: configOf(2, Array<number>(BUCKET_COUNT).fill(1)) },
      ]),
      () => (decided = true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(decided, false, 'the shard driver reads the config a config reply answers for: not before the write');
    engine.release();
    const replies = await applied;
    assert.equal(decided, false);
    assert.equal(replies.length, 2);
    assert.equal(machine.currentConfig.version, 2);
  });
});
