/** Arbitrary Raft messages of every type, as the wire codec must carry them (appends well-formed). */
import fc from 'fast-check';
import type { ConfigChange, Entry, Membership, Message, SnapshotMeta } from '../../../src/raft/index.js';
import { anyText, bytes, u32, u64 } from '../../support/fuzz-values.js';

const nodeId = u32;
const membership: fc.Arbitrary<Membership> = fc.record({
  voters: fc.array(nodeId, { maxLength: 5 }),
  learners: fc.array(nodeId, { maxLength: 5 }),
});

export const configChange: fc.Arbitrary<ConfigChange> = fc.oneof(
  fc.record({ type: fc.constantFrom('addLearner', 'promoteLearner', 'removeNode'), node: nodeId }),
  fc.record({ type: fc.constant('addLearner'), node: nodeId, address: anyText() }),
  fc.record({ type: fc.constant('bootstrap'), membership }),
);

/** What an entry carries besides its index and term. */
type EntryBody = { kind: 'command'; data: Uint8Array } | { kind: 'config'; change: ConfigChange } | { kind: 'noop' };
const entryBody: fc.Arbitrary<EntryBody> = fc.oneof(
  fc.record({ kind: fc.constant('command' as const), data: bytes() }),
  fc.record({ kind: fc.constant('config' as const), change: configChange }),
  fc.record({ kind: fc.constant('noop' as const) }),
);

export const entry: fc.Arbitrary<Entry> = fc
  .tuple(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), u64, entryBody)
  .map(([index, term, body]) => ({ ...body, index, term }));

const snapshotMeta: fc.Arbitrary<SnapshotMeta> = fc.record({ index: u64, term: u64, membership, sizeBytes: u64 });

/** An append whose entries follow prevIndex with terms from prevTerm up to the message's: what the codec accepts. */
const append: fc.Arbitrary<Message> = fc
  .record({
    term: u64,
    from: nodeId,
    to: nodeId,
    prevIndex: fc.integer({ min: 0, max: 2 ** 40 }),
    termSteps: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
    prevTermShare: fc.double({ min: 0, max: 1, noNaN: true }),
    bodies: fc.array(entryBody, { minLength: 6, maxLength: 6 }),
    commit: u64,
  })
  .map(({ term, from, to, prevIndex, termSteps, prevTermShare, bodies, commit }) => {
    const prevTerm = Math.floor(term * prevTermShare);
    let entryTerm = prevTerm;
    const entries = termSteps.map((step, offset): Entry => {
      entryTerm += Math.floor((term - entryTerm) * step);
      return { ...(bodies[offset] ?? { kind: 'noop' }), index: prevIndex + 1 + offset, term: entryTerm };
    });
    return { type: 'append', term, from, to, prevIndex, prevTerm, entries, commit };
  });

const envelope = { term: u64, from: nodeId, to: nodeId };
const optionalText = fc.option(anyText(), { nil: null });

export const raftMessage: fc.Arbitrary<Message> = fc.oneof(
  append,
  fc.record({
    type: fc.constant('appendResponse' as const),
    ...envelope,
    success: fc.boolean(),
    matchIndex: u64,
    rejectedIndex: u64,
    hintIndex: u64,
    hintTerm: u64,
  }),
  fc.record({
    type: fc.constant('heartbeat' as const),
    ...envelope,
    commit: u64,
    readContext: optionalText,
    round: u64,
  }),
  fc.record({ type: fc.constant('heartbeatResponse' as const), ...envelope, readContext: optionalText, round: u64 }),
  fc.record({
    type: fc.constant('requestVote' as const),
    ...envelope,
    preVote: fc.boolean(),
    lastIndex: u64,
    lastTerm: u64,
    leadershipTransfer: fc.boolean(),
  }),
  fc.record({ type: fc.constant('voteResponse' as const), ...envelope, preVote: fc.boolean(), granted: fc.boolean() }),
  fc.record({
    type: fc.constant('installSnapshot' as const),
    ...envelope,
    snapshot: snapshotMeta,
    offset: u64,
    data: bytes(256),
    done: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('snapshotResponse' as const),
    ...envelope,
    snapshotIndex: u64,
    nextOffset: u64,
    installed: fc.boolean(),
  }),
  fc.record({ type: fc.constant('timeoutNow' as const), ...envelope }),
  fc.record({ type: fc.constant('readIndexRequest' as const), ...envelope, context: anyText() }),
  fc.record({
    type: fc.constant('readIndexResponse' as const),
    ...envelope,
    context: anyText(),
    index: fc.option(u64, { nil: null }),
  }),
);
