import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/sim/random.js';
import { Scheduler } from '../../../src/sim/scheduler.js';
import { SimNetwork, type DropReason } from '../../../src/transport/sim-network.js';

interface TestMessage {
  readonly from: number;
  readonly to: number;
  readonly n: number;
}

interface Harness {
  readonly scheduler: Scheduler;
  readonly network: SimNetwork<TestMessage>;
  /** What each member received, as `n@timeMs`. */
  readonly received: Map<number, string[]>;
  readonly drops: DropReason[];
  readonly send: (from: number, to: number, n: number) => void;
}

function harness(seed: number, ids: readonly number[] = [1, 2, 3]): Harness {
  const scheduler = new Scheduler();
  const drops: DropReason[] = [];
  const network = new SimNetwork<TestMessage>({
    scheduler,
    random: new SeededRandom(seed),
    sizeBytes: () => 10,
    route: (m) => ({ from: m.from, to: m.to }),
    onDrop: (_m, reason) => drops.push(reason),
  });
  const received = new Map<number, string[]>();
  for (const id of ids) {
    received.set(id, []);
    network.attach(id, (m) => received.get(id)!.push(`${m.n}@${scheduler.nowMs}`));
  }
  return { scheduler, network, received, drops, send: (from, to, n) => network.send({ from, to, n }) };
}

/** Sends a fixed traffic pattern under `seed` and returns the deliveries, in order, with their times. */
function trafficLog(seed: number, configure: (network: SimNetwork<TestMessage>) => void = () => {}): string[] {
  const { scheduler, network, send } = harness(seed);
  configure(network);
  const log: string[] = [];
  network.onDeliver = (m) => log.push(`${m.from}->${m.to}#${m.n}@${scheduler.nowMs}`);
  for (let n = 0; n < 200; n++) send(1 + (n % 3), 1 + ((n + 1) % 3), n);
  scheduler.runFor(5000);
  return log;
}

void describe('SimNetwork', () => {
  void it('replays the same deliveries at the same times for the same seed, and not for another', () => {
    assert.deepEqual(trafficLog(7), trafficLog(7));
    assert.notDeepEqual(trafficLog(7), trafficLog(8));
    const unreliable = (network: SimNetwork<TestMessage>): void => {
      network.reliable = false;
      network.duplicateRate = 0.1;
    };
    assert.deepEqual(trafficLog(7, unreliable), trafficLog(7, unreliable));
  });

  void it('delivers within the latency bounds and reorders messages between the same pair', () => {
    const { scheduler, network, received, send } = harness(3);
    for (let n = 0; n < 100; n++) send(1, 2, n);
    scheduler.runFor(network.latencyMsMax);
    const arrivals = received.get(2)!;
    assert.equal(arrivals.length, 100);
    const order = arrivals.map((entry) => Number(entry.split('@')[0]));
    assert.notDeepEqual(
      order,
      [...order].sort((x, y) => x - y),
      'random latency should reorder',
    );
    for (const entry of arrivals) {
      const timeMs = Number(entry.split('@')[1]);
      assert.ok(timeMs >= network.latencyMsMin && timeMs <= network.latencyMsMax, entry);
    }
    assert.equal(network.messagesSent, 100);
    assert.equal(network.bytesSent, 1000);
    assert.equal(network.messagesDelivered, 100);
  });

  void it('delivers a message from a member to itself', () => {
    const { scheduler, network, received, send } = harness(1);
    network.partition([[1], [2, 3]]);
    send(1, 1, 5);
    scheduler.runFor(10);
    assert.equal(received.get(1)!.length, 1);
  });

  void it('a partition blocks traffic across groups, isolates unlisted members, and heal restores it', () => {
    const { scheduler, network, received, send } = harness(1, [1, 2, 3, 4]);
    network.partition([[1, 2], [3]]);
    assert.equal(network.canTalk(1, 2), true);
    assert.equal(network.canTalk(1, 3), false);
    assert.equal(network.canTalk(4, 1), false, 'member 4 is in no group');
    send(1, 2, 1);
    send(1, 3, 2);
    send(3, 1, 3);
    send(4, 1, 4);
    scheduler.runFor(100);
    assert.deepEqual(
      [1, 2, 3, 4].map((id) => received.get(id)!.length),
      [0, 1, 0, 0],
    );
    network.heal();
    assert.equal(network.canTalk(1, 3), true);
    send(1, 3, 5);
    scheduler.runFor(100);
    assert.equal(received.get(3)!.length, 1);
  });

  void it('a partition made while messages are in flight loses them', () => {
    const { scheduler, network, received, drops, send } = harness(1);
    send(1, 2, 1);
    network.partition([[1], [2, 3]]);
    scheduler.runFor(100);
    assert.equal(received.get(2)!.length, 0);
    assert.deepEqual(drops, ['partitioned']);
  });

  void it('a disconnected member neither sends nor receives, in-flight messages included', () => {
    const { scheduler, network, received, send } = harness(1);
    send(1, 2, 1); // in flight when 2 is cut off
    network.disconnect(2);
    send(1, 2, 2);
    send(2, 1, 3);
    scheduler.runFor(100);
    assert.equal(received.get(2)!.length, 0);
    assert.equal(received.get(1)!.length, 0);
    assert.equal(network.messagesSent, 2, 'a disconnected sender sends nothing to count');
    network.connect(2);
    send(1, 2, 4);
    scheduler.runFor(100);
    assert.deepEqual(
      received.get(2)!.map((entry) => entry.split('@')[0]),
      ['4'],
    );
  });

  void it('a crashed (detached) member loses what was in flight to it, even if restarted before it arrives', () => {
    const { scheduler, network, received, drops, send } = harness(1);
    send(1, 2, 1);
    network.detach(2);
    send(1, 2, 2); // sent while crashed
    network.attach(2, (m) => received.get(2)!.push(`${m.n}@${scheduler.nowMs}`));
    scheduler.runFor(100);
    assert.deepEqual(
      received.get(2)!.map((entry) => entry.split('@')[0]),
      ['2'],
      'only what was sent after the crash',
    );
    assert.deepEqual(drops, ['crashed']);
  });

  void it('an unreliable network loses about dropRate of messages and delays some up to longDelayMsMax', () => {
    const messageCount = 10_000;
    const { scheduler, network, drops, send } = harness(12345);
    network.reliable = false;
    let latestArrivalMs = 0;
    network.onDeliver = () => (latestArrivalMs = scheduler.nowMs);
    for (let n = 0; n < messageCount; n++) send(1, 2, n);
    scheduler.runFor(network.longDelayMsMax);
    const lostShare = drops.filter((reason) => reason === 'lost').length / messageCount;
    assert.ok(lostShare > 0.07 && lostShare < 0.13, `lost ${lostShare}`);
    assert.equal(network.messagesSent, messageCount);
    assert.equal(network.messagesDelivered + drops.length, messageCount);
    assert.ok(latestArrivalMs > network.latencyMsMax * 10, `latest arrival ${latestArrivalMs} ms`);
    assert.ok(latestArrivalMs <= network.longDelayMsMax);
  });

  void it('duplication delivers a message twice', () => {
    const { scheduler, network, received, send } = harness(5);
    network.duplicateRate = 1;
    send(1, 2, 1);
    scheduler.runFor(100);
    assert.deepEqual(
      received.get(2)!.map((entry) => entry.split('@')[0]),
      ['1', '1'],
    );
    assert.equal(network.messagesSent, 1);
    assert.equal(network.messagesDelivered, 2);
  });

  void it('rejects an invalid fault setting loudly', () => {
    const { network, send } = harness(1);
    network.dropRate = 10;
    network.reliable = false;
    assert.throws(() => send(1, 2, 1), /dropRate/);
    assert.throws(() => network.partition([[1, 2], [2]]), /two partitions/);
  });
});
