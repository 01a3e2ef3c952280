/** Random Raft messages of every type, with every kind of entry and config change, for round-trip tests. */
import type { ConfigChange, Entry, Membership, Message, MessageType, SnapshotMeta } from '../../../src/raft/index.js';
import type { SeededRandom } from '../../../src/sim/random.js';

export const MESSAGE_TYPES: readonly MessageType[] = [
  'append',
  'appendResponse',
  'heartbeat',
  'heartbeatResponse',
  'requestVote',
  'voteResponse',
  'installSnapshot',
  'snapshotResponse',
  'timeoutNow',
  'readIndexRequest',
  'readIndexResponse',
];

/** Numbers of every size a u64 field must carry, the largest safe integer included. */
function u64(random: SeededRandom): number {
  return random.pick([0, 1, random.int(1000), random.intBetween(0, 2 ** 40), Number.MAX_SAFE_INTEGER]);
}

function nodeId(random: SeededRandom): number {
  return random.pick([0, 1, random.int(100), 0xffff_ffff]);
}

function bytes(random: SeededRandom, lengthBytesMax: number): Uint8Array {
  return Uint8Array.from({ length: random.int(lengthBytesMax + 1) }, () => random.int(256));
}

/** Text with multi-byte characters, so that UTF-8 lengths differ from string lengths. */
function text(random: SeededRandom): string {
  return random.pick(['', 'ctx', `read-${random.int(1_000_000)}`, 'é€😀-'.repeat(random.int(5))]);
}

function membership(random: SeededRandom): Membership {
  const ids = (): number[] => Array.from({ length: random.int(6) }, () => nodeId(random));
  return { voters: ids(), learners: ids() };
}

function configChange(random: SeededRandom): ConfigChange {
  switch (random.pick(['addLearner', 'promoteLearner', 'removeNode', 'bootstrap'] as const)) {
    case 'addLearner':
      return random.int(2) === 0
        ? { type: 'addLearner', node: nodeId(random) }
        : { type: 'addLearner', node: nodeId(random), address: `127.0.0.${random.int(256)}:${random.int(65536)}` };
    case 'promoteLearner':
      return { type: 'promoteLearner', node: nodeId(random) };
    case 'removeNode':
      return { type: 'removeNode', node: nodeId(random) };
    case 'bootstrap':
      return { type: 'bootstrap', membership: membership(random) };
  }
}

function entry(random: SeededRandom, header = { index: random.intBetween(1, 2 ** 40), term: u64(random) }): Entry {
  switch (random.pick(['command', 'config', 'noop'] as const)) {
    case 'command':
      return { kind: 'command', ...header, data: bytes(random, 64) };
    case 'config':
      return { kind: 'config', ...header, change: configChange(random) };
    case 'noop':
      return { kind: 'noop', ...header };
  }
}

function snapshotMeta(random: SeededRandom): SnapshotMeta {
  return { index: u64(random), term: u64(random), membership: membership(random), sizeBytes: u64(random) };
}

export function randomMessage(random: SeededRandom, type: MessageType): Message {
  const envelope = { term: u64(random), from: nodeId(random), to: nodeId(random) };
  const flag = (): boolean => random.chance(0.5);
  const optionalText = (): string | null => (random.chance(0.3) ? null : text(random));
  switch (type) {
    case 'append': {
      // A well-formed append: entries follow prevIndex, terms from prevTerm up to the message's (the codec checks).
      const prevIndex = random.intBetween(0, 2 ** 40);
      const prevTerm = random.intBetween(0, envelope.term);
      let term = prevTerm;
      const entries = Array.from({ length: random.int(8) }, (_, offset) => {
        term = random.intBetween(term, envelope.term);
        return entry(random, { index: prevIndex + 1 + offset, term });
      });
      return { type, ...envelope, prevIndex, prevTerm, entries, commit: u64(random) };
    }
    case 'appendResponse':
      return {
        type,
        ...envelope,
        success: flag(),
        matchIndex: u64(random),
        rejectedIndex: u64(random),
        hintIndex: u64(random),
        hintTerm: u64(random),
      };
    case 'heartbeat':
      return { type, ...envelope, commit: u64(random), readContext: optionalText(), round: u64(random) };
    case 'heartbeatResponse':
      return { type, ...envelope, readContext: optionalText(), round: u64(random) };
    case 'requestVote':
      return {
        type,
        ...envelope,
        preVote: flag(),
        lastIndex: u64(random),
        lastTerm: u64(random),
        leadershipTransfer: flag(),
      };
    case 'voteResponse':
      return { type, ...envelope, preVote: flag(), granted: flag() };
    case 'installSnapshot':
      return {
        type,
        ...envelope,
        snapshot: snapshotMeta(random),
        offset: u64(random),
        data: bytes(random, 256),
        done: flag(),
      };
    case 'snapshotResponse':
      return { type, ...envelope, snapshotIndex: u64(random), nextOffset: u64(random), installed: flag() };
    case 'timeoutNow':
      return { type, ...envelope };
    case 'readIndexRequest':
      return { type, ...envelope, context: text(random) };
    case 'readIndexResponse':
      return { type, ...envelope, context: text(random), index: random.chance(0.3) ? null : u64(random) };
  }
}
