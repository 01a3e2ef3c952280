/**
 * Where a KV member's restart goes, step by step, on a copy of its data
 * directory (the directory is changed as a restart would change it):
 *
 *   node --import tsx scripts/restart-phases.ts DIR [--id <n>] [--voters <n>]
 *
 * Opens the pieces in the order `raftkv node` does (LevelDB, the KV state
 * machine's dedup table, the Raft log, the snapshot store, the Raft core)
 * and prints how long each took and what it read. Peers are not reached
 * and time does not tick: this is the part of a restart before the
 * network, what `npm run bench:restart` measures from outside.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LevelKvEngine } from '../src/kv/level-engine.js';
import { KvStateMachine } from '../src/kv/state-machine.js';
import { openDiskNode } from '../src/node/disk-node.js';
import type { Ticker } from '../src/node/ports.js';
import { SegmentedLogStore } from '../src/storage/index.js';

const USAGE = 'usage: node --import tsx scripts/restart-phases.ts DIR [--id <n>] [--voters <n>]';

/** Time does not move: the core neither elects nor heartbeats while it is measured. */
const stillTicker: Ticker = { every: () => () => undefined, after: () => () => undefined };

async function phase<T>(what: string, step: () => Promise<T>, detail: (result: T) => string = () => ''): Promise<T> {
  const startMs = performance.now();
  const result = await step();
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  const line = `${what}: ${(performance.now() - startMs).toFixed(0)} ms (heap ${heapMiB.toFixed(0)} MiB) ${detail(result)}`;
  process.stdout.write(`${line.trimEnd()}\n`);
  return result;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { id: { type: 'string', default: '1' }, voters: { type: 'string', default: '3' } },
    allowPositionals: true,
  });
  const [source] = positionals;
  if (source === undefined) throw new Error(USAGE);
  const id = Number(values.id);
  const voters = Array.from({ length: Number(values.voters) }, (_, at) => at + 1);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-restart-phases-'));
  try {
    await cp(source, directory, { recursive: true });
    const totalStartMs = performance.now();
    const engine = await phase('LevelDB open', () => LevelKvEngine.open(path.join(directory, 'kv')));
    const machine = await phase(
      'KV state machine open (reads the dedup table)',
      () => KvStateMachine.open(engine),
      (opened) => `applied ${opened.appliedIndex}, ${opened.dedupEntries().length} clients`,
    );
    // Read once alone, closed, then again inside openDiskNode: the difference is the rest of the node's start.
    await phase(
      'Raft log read alone (open, load, close)',
      async () => {
        const log = await SegmentedLogStore.open(path.join(directory, 'raft', 'log'));
        const loaded = await log.load();
        await log.close();
        return loaded;
      },
      (loaded) => `${loaded.entries.length} entries from ${loaded.firstIndex}`,
    );
    const disk = await phase(
      'openDiskNode: the log again, snapshots, hard state, Raft core',
      () => openDiskNode({ directory, id, voters, peers: { send: () => undefined }, machine, ticker: stillTicker }),
      (opened) => `log ${(opened.logBytes() / 2 ** 20).toFixed(1)} MiB`,
    );
    process.stdout.write(`total: ${(performance.now() - totalStartMs).toFixed(0)} ms\n`);
    await disk.close();
    await engine.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
