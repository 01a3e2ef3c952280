import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../../../src/raft/index.js';
import { command, core, deliverAll, drain, founding, readsOf } from '../../support/core-harness.js';

describe('rules of the core, step by step', () => {
  it('a leader does not commit an entry of an earlier term by counting replicas (Figure 8)', () => {
    const voters = [1, 2, 3];
    // Node 1 holds entry 2 from term 2 that never committed; the others lack it.
    const n1 = core(1, voters, 2, [founding(voters), command(2, 2, 'old')], { messageBytesMax: 1 });
    const n2 = core(2, voters, 2, [founding(voters)], { messageBytesMax: 1 });
    const members = new Map([
      [1, n1],
      [2, n2],
    ]);
    n1.campaign();
    // Lose every copy of the new leader's noop (entry 3) once node 2 holds entry 2.
    deliverAll(
      members,
      drain(n1),
      (m) => m.type === 'append' && n2.lastIndex >= 2 && m.entries.some((e) => e.index === 3),
    );
    assert.equal(n1.role, 'leader');
    assert.equal(n1.term, 3);
    assert.equal(n2.lastIndex, 2, 'node 2 should hold the old entry, but not the new noop');
    assert.equal(n1.commitIndex, 0, 'entry 2 of term 2 was committed by counting replicas');
    // Once the entry of term 3 is replicated, both commit.
    for (let tick = 0; tick < 3; tick++) n1.tick();
    deliverAll(members, drain(n1));
    assert.equal(n1.commitIndex, 3);
  });

  it('a follower commits no further than what it knows matches the leader', () => {
    const voters = [1, 2, 3];
    const follower = core(2, voters, 1, [founding(voters), command(2, 1, 'stale')]);
    const append: Message = {
      type: 'append',
      term: 3,
      from: 1,
      to: 2,
      prevIndex: 1,
      prevTerm: 1,
      entries: [],
      commit: 5,
    };
    follower.step(append);
    assert.equal(follower.commitIndex, 1, 'committed an entry not known to match the leader');
    const [response] = drain(follower);
    assert.ok(response?.type === 'appendResponse' && response.success && response.matchIndex === 1);
  });

  it('a follower rejects a mismatch with a hint that skips the whole conflicting term', () => {
    const voters = [1, 2, 3];
    const entries = [founding(voters)];
    for (let index = 2; index <= 20; index++) entries.push(command(index, 2, `x${index}`));
    const follower = core(2, voters, 2, entries);
    follower.step({ type: 'append', term: 4, from: 1, to: 2, prevIndex: 20, prevTerm: 3, entries: [], commit: 1 });
    const [response] = drain(follower);
    assert.ok(response?.type === 'appendResponse' && !response.success);
    assert.equal(response.hintIndex, 20, 'entries of term 2 may still match below term 3');
    follower.step({ type: 'append', term: 4, from: 1, to: 2, prevIndex: 20, prevTerm: 1, entries: [], commit: 1 });
    const [second] = drain(follower);
    assert.ok(second?.type === 'appendResponse' && !second.success);
    assert.equal(second.hintIndex, 1, 'every entry of term 2 is after the last entry of term <= 1');
  });

  it('a follower answers the appends it took between two Readies with one acknowledgement, the highest', () => {
    const voters = [1, 2, 3];
    const follower = core(2, voters, 1, [founding(voters)]);
    follower.step(appendFromOne(1, [2], 1));
    follower.step(appendFromOne(2, [3], 1));
    follower.step(appendFromOne(3, [4], 1));
    const acks = drain(follower).filter((m) => m.type === 'appendResponse');
    assert.equal(acks.length, 1, 'one acknowledgement per append: the leader reads three where one says it all');
    assert.ok(acks[0]?.type === 'appendResponse' && acks[0].success && acks[0].matchIndex === 4);
  });

  it("a leader sends each follower one append per Ready, with the acknowledgements' commit and every new entry", () => {
    const { members, leader } = threeWithLeader();
    const propose = (value: string): void => assert.ok(leader.propose(new TextEncoder().encode(value)).ok);
    propose('b');
    const bIndex = leader.lastIndex;
    const appendsOfB = drain(leader);
    const acks = appendsOfB.flatMap((m) => {
      const follower = members.get(m.to)!;
      follower.step(m);
      return drain(follower);
    });
    assert.equal(acks.length, 2);
    // The acknowledgements arrive one by one, with proposals between them, before the leader's next Ready.
    propose('c');
    leader.step(acks[0]!);
    propose('d');
    leader.step(acks[1]!);
    const sent = drain(leader);
    for (const id of [2, 3]) {
      const appends = sent.filter((m) => m.type === 'append' && m.to === id);
      assert.equal(appends.length, 1, `follower ${id} got ${appends.length} appends for one Ready`);
      const append = appends[0]!;
      assert.ok(append.type === 'append');
      assert.deepEqual(
        append.entries.map((e) => e.index),
        [bIndex + 1, bIndex + 2],
      );
      assert.equal(append.commit, bIndex, 'the new commit index rides along');
    }
  });

  it('a new commit with no entries to go with it waits for the next append or heartbeat, and arrives with it', () => {
    const { voters, members, leader } = threeWithLeader();
    assert.ok(leader.propose(new TextEncoder().encode('b')).ok);
    const bIndex = leader.lastIndex;
    const acks = drain(leader).flatMap((m) => {
      const follower = members.get(m.to)!;
      follower.step(m);
      return drain(follower);
    });
    for (const ack of acks) leader.step(ack);
    assert.equal(leader.commitIndex, bIndex);
    // A message for the commit alone would cost each follower a turn (take it in, apply, answer).
    assert.deepEqual(drain(leader), [], 'the commit went out on its own');
    assert.equal(members.get(2)!.commitIndex, bIndex - 1);
    // The next proposal's append carries it...
    assert.ok(leader.propose(new TextEncoder().encode('c')).ok);
    const appends = drain(leader);
    assert.deepEqual(
      appends.map((m) => (m.type === 'append' ? [m.to, m.commit, m.entries.length] : m.type)),
      [
        [2, bIndex, 1],
        [3, bIndex, 1],
      ],
    );
    // ...and with nothing proposed, the next heartbeat does.
    for (const m of appends) members.get(m.to)!.step(m);
    for (const ack of voters.slice(1).flatMap((id) => drain(members.get(id)!))) leader.step(ack);
    assert.deepEqual(drain(leader), []);
    leader.tick();
    const heartbeats = drain(leader);
    assert.deepEqual(
      heartbeats.map((m) => (m.type === 'heartbeat' ? [m.to, m.commit] : m.type)),
      [
        [2, bIndex + 1],
        [3, bIndex + 1],
      ],
    );
    for (const m of heartbeats) members.get(m.to)!.step(m);
    assert.equal(members.get(2)!.commitIndex, bIndex + 1);
    assert.equal(members.get(3)!.commitIndex, bIndex + 1);
  });

  it('a vote is granted once per term, only to an up-to-date candidate, and only after it is persisted', () => {
    const voters = [1, 2, 3];
    const voter = core(3, voters, 1, [founding(voters), command(2, 1, 'a')]);
    const ask = (from: number, lastIndex: number, lastTerm: number): Message => ({
      type: 'requestVote',
      term: 2,
      from,
      to: 3,
      preVote: false,
      lastIndex,
      lastTerm,
      leadershipTransfer: false,
    });
    voter.step(ask(1, 1, 1));
    voter.step(ask(2, 2, 1));
    voter.step(ask(1, 2, 1));
    const ready = voter.ready();
    assert.equal(ready.hardState?.votedFor, 2, 'the vote must be in the hard state to persist');
    const answers = ready.messages.map((m) => (m.type === 'voteResponse' ? [m.to, m.granted] : null));
    assert.deepEqual(answers, [
      [1, false],
      [2, true],
      [1, false],
    ]);
  });

  it("pre-votes do not change anyone's term", () => {
    const voters = [1, 2, 3];
    const a = core(1, voters, 5, [founding(voters)]);
    const b = core(2, voters, 5, [founding(voters)]);
    a.campaign();
    const requests = drain(a);
    assert.ok(requests.every((m) => m.type === 'requestVote' && m.preVote && m.term === 6));
    assert.equal(a.term, 5);
    b.step(requests.find((m) => m.to === 2)!);
    assert.equal(b.term, 5);
    const [answer] = drain(b);
    assert.ok(answer?.type === 'voteResponse' && answer.granted && answer.term === 6);
    a.step(answer);
    assert.equal(a.role, 'candidate');
    assert.equal(a.term, 6);
  });
});

describe('flow control', () => {
  /** Elects node 1 among three and brings both followers to the replicate state. */
  function electedLeader(options: Parameters<typeof core>[4]) {
    const voters = [1, 2, 3];
    const members = new Map(voters.map((id) => [id, core(id, voters, 1, [founding(voters)], options)]));
    const leader = members.get(1)!;
    leader.campaign();
    deliverAll(members, drain(leader));
    assert.equal(leader.role, 'leader');
    return { leader, members };
  }

  function appendsTo(messages: Message[], to: number): Message[] {
    return messages.filter((m) => m.type === 'append' && m.to === to && m.entries.length > 0);
  }

  it('a silent follower gets at most inflightMessagesMax appends', () => {
    const { leader } = electedLeader({ inflightMessagesMax: 4, messageBytesMax: 1 });
    let sent = 0;
    for (let k = 0; k < 50; k++) {
      leader.propose(new Uint8Array(10));
      sent += appendsTo(drain(leader), 3).length;
    }
    assert.equal(sent, 4);
  });

  it('a silent follower gets at most about inflightBytesMax of entries', () => {
    const { leader } = electedLeader({ inflightMessagesMax: 1000, inflightBytesMax: 4096, messageBytesMax: 1 });
    let bytes = 0;
    for (let k = 0; k < 50; k++) {
      leader.propose(new Uint8Array(1000));
      for (const m of appendsTo(drain(leader), 3)) if (m.type === 'append') bytes += m.entries.length * 1024;
    }
    assert.ok(bytes >= 4096 && bytes <= 4096 + 1024, `sent ${bytes} bytes to a silent follower`);
  });

  it('proposals of one turn share one message per follower', () => {
    const { leader } = electedLeader({});
    for (let k = 0; k < 10; k++) leader.propose(new Uint8Array(8));
    const appends = appendsTo(drain(leader), 2);
    assert.equal(appends.length, 1);
    assert.equal(appends[0]?.type === 'append' ? appends[0].entries.length : 0, 10);
  });
});

describe('reads at the edges', () => {
  it('a new leader holds reads until an entry of its own term commits', () => {
    const voters = [1, 2, 3];
    const n1 = core(1, voters, 1, [founding(voters), command(2, 1, 'a')]);
    const n2 = core(2, voters, 1, [founding(voters), command(2, 1, 'a')]);
    n1.campaign();
    const toFollower: Message[] = [];
    deliverAll(
      new Map([
        [1, n1],
        [2, n2],
      ]),
      drain(n1),
      (m) => {
        if (m.type === 'append' && m.to === 2) toFollower.push(m);
        return m.type === 'append';
      },
    );
    assert.equal(n1.role, 'leader');
    assert.ok(n1.readIndex('early').ok);
    drain(n1);
    assert.deepEqual(readsOf(n1), [], 'a read was served before the noop committed');
    deliverAll(
      new Map([
        [1, n1],
        [2, n2],
      ]),
      toFollower,
    );
    assert.deepEqual(readsOf(n1), ['early@3']);
  });

  it('a member that is not the leader answers a forwarded read with a refusal', () => {
    const voters = [1, 2, 3];
    const n3 = core(3, voters, 2, [founding(voters)]);
    n3.step({ type: 'readIndexRequest', term: 2, from: 2, to: 3, context: 'r1' });
    const [answer] = drain(n3);
    assert.ok(answer?.type === 'readIndexResponse' && answer.index === null);
    assert.equal(n3.readIndex('mine').ok, false, 'no leader known: the read must be refused');
  });
});

describe('handing out committed entries', () => {
  it('a commit learnt while a Ready is being written hands out only the durable entries, each once, in order', () => {
    const voters = [1, 2, 3];
    const follower = core(2, voters, 1, [founding(voters)]);
    follower.step(appendFromOne(1, [2, 3], 1));
    drain(follower);
    assert.equal(follower.stableIndex, 3);
    follower.step(appendFromOne(3, [4], 1));
    const writing = follower.ready();
    assert.deepEqual(
      writing.entries.map((entry) => entry.index),
      [4],
    );
    // While entry 4 is written, the leader says 4 is committed: 2 and 3 are on disk here, 4 is not yet.
    follower.step(appendFromOne(4, [], 4));
    assert.deepEqual(
      follower.takeCommittedEntries().map((entry) => entry.index),
      [2, 3],
    );
    assert.deepEqual(follower.takeCommittedEntries(), [], 'an entry was handed out twice');
    follower.advance(writing);
    assert.deepEqual(
      follower.ready().committedEntries.map((entry) => entry.index),
      [4],
    );
  });
});

/** Node 1's append of term 1 to node 2: commands at `entries` (indices) after prevIndex. */
/** Three members of term 1, node 1 elected their leader. */
function threeWithLeader() {
  const voters = [1, 2, 3];
  const members = new Map(voters.map((id) => [id, core(id, voters, 1, [founding(voters)])]));
  const leader = members.get(1)!;
  leader.campaign();
  deliverAll(members, drain(leader));
  assert.equal(leader.role, 'leader');
  return { voters, members, leader };
}

function appendFromOne(prevIndex: number, entries: number[], commit: number): Message {
  return {
    type: 'append',
    term: 1,
    from: 1,
    to: 2,
    prevIndex,
    prevTerm: 1,
    entries: entries.map((index) => command(index, 1, `v${index}`)),
    commit,
  };
}
