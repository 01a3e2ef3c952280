import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPerfBreakdown, perfBreakdown } from '../../../scripts/compare/perf-breakdown.js';

/** Lines as `perf script -F comm,pid,ip,sym,dso` prints them. */
const SCRIPT = [
  '            node  4101 7f1d8 leveldb::SkipList<char const*, leveldb::MemTable::KeyComparator>::Insert (/x/node_modules/classic-level/prebuilds/linux-x64/classic-level.node)',
  '            node  4101 7f1d9 [unknown] (/tmp/perf-4101.map)',
  '            node  4101 1e2f6 Builtins_LoadIC (/usr/bin/node)',
  '            node  4101 ffffffff81 iowrite16 ([kernel.kallsyms])',
  '            node  4102 ffffffff82 tcp_ack ([kernel.kallsyms])',
  '            node  4102 1e2f7 v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot> (/usr/bin/node)',
  '            node  4102 7f1da _int_malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)',
  '            node  4102 ffffffff83 finish_task_switch.isra.0 ([kernel.kallsyms])',
  ' redis-benchmark  4200 ffffffff84 tcp_sendmsg ([kernel.kallsyms])',
  '         swapper     0 ffffffff85 pv_native_safe_halt ([kernel.kallsyms])',
  '    kworker/1:2H  77 ffffffff86 blk_mq_run_hw_queue ([kernel.kallsyms])',
  'a line that is no sample',
].join('\n');

const NODES = [
  { label: 'node 1 (leader)', pid: 4101, brokenDown: true },
  { label: 'node 2', pid: 4102, brokenDown: true },
];

describe('the perf breakdown of bench:compare --perf', () => {
  it('shares every CPU sample out by process, idle and kernel threads apart', () => {
    const breakdown = perfBreakdown(SCRIPT, NODES, 10);
    assert.equal(breakdown.samples, 11);
    assert.equal(breakdown.byProcess.get('node 1 (leader)'), 4 / 11);
    assert.equal(breakdown.byProcess.get('node 2'), 4 / 11);
    assert.equal(breakdown.byProcess.get('redis-benchmark'), 1 / 11);
    assert.equal(breakdown.byProcess.get('idle'), 1 / 11);
    assert.equal(breakdown.byProcess.get('kernel threads'), 1 / 11);
  });

  it("sorts each node's samples into kinds of work by the function they were in", () => {
    const breakdown = perfBreakdown(SCRIPT, NODES, 10);
    const leader = breakdown.byKind.get('node 1 (leader)')!;
    assert.equal(leader.get('LevelDB (memtable, its log, compaction)'), 0.25);
    assert.equal(leader.get('JavaScript (JIT-compiled)'), 0.25);
    assert.equal(leader.get('V8 builtins (property loads, calls, typed arrays)'), 0.25);
    assert.equal(leader.get('kernel: disk writes (ext4, block layer, virtio)'), 0.25);
    const follower = breakdown.byKind.get('node 2')!;
    assert.equal(follower.get('kernel: loopback TCP, soft interrupts'), 0.25);
    assert.equal(follower.get('V8 garbage collection'), 0.25);
    assert.equal(follower.get('libc: malloc, free, memory copies and compares'), 0.25);
    assert.equal(follower.get('kernel: scheduling and wake-ups'), 0.25);
  });

  it('prints the processes, then one column per node in the order given', () => {
    const text = formatPerfBreakdown('raftkv put', perfBreakdown(SCRIPT, NODES, 10), 2);
    assert.match(text, /^raftkv put: where the 2 CPUs went \(perf, 11 samples over 10\.0 s\)/);
    assert.match(text, /node 1 \(leader\)\s+36\.4%/);
    assert.match(text, /share of each node's CPU\s+node 1 \(leader\)\s+node 2/);
    assert.match(text, /V8 garbage collection\s+0\.0%\s+25\.0%/);
  });
});
