import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeMembersReply,
  decodeMembersRequest,
  encodeMembersReply,
  encodeMembersRequest,
  MembersDecodeError,
} from '../../../src/node/members-codec.js';

const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

describe('members service codec', () => {
  it('reads back every request and reply it writes', () => {
    for (const request of [
      { type: 'addLearner', node: 14, address: '127.0.0.1:7014' },
      { type: 'addLearner', node: 14, address: '[::1]:7014' },
      { type: 'promoteLearner', node: 14 },
      { type: 'removeNode', node: 13 },
    ] as const) {
      assert.deepEqual(decodeMembersRequest(encodeMembersRequest(request)), request);
    }
    const done = { ok: true, membership: { voters: [11, 12, 14], learners: [] }, changed: true } as const;
    assert.deepEqual(decodeMembersReply(encodeMembersReply(done)), done);
    const refused = { ok: false, reason: 'notCaughtUp', message: 'learner 14 is at 3' } as const;
    assert.deepEqual(decodeMembersReply(encodeMembersReply(refused)), refused);
  });

  it('refuses a request that is not exactly a change, saying what is wrong', () => {
    const refusals: [string, RegExp][] = [
      ['not json', /not UTF-8 JSON/],
      ['[1]', /not a JSON object/],
      ['{"type":"bootstrap","node":1}', /must be addLearner, promoteLearner or removeNode/],
      ['{"type":"removeNode","node":0}', /"node" must be a member id/],
      ['{"type":"removeNode","node":1.5}', /"node" must be a member id/],
      ['{"type":"addLearner","node":4}', /needs the new member's "address"/],
      ['{"type":"addLearner","node":4,"address":"nohost"}', /not host:port/],
      ['{"type":"removeNode","node":4,"extra":1}', /unknown field "extra"/],
      [`{"type":"removeNode","node":4,"pad":"${'x'.repeat(5000)}"}`, /over the limit/],
    ];
    for (const [text, why] of refusals) {
      assert.throws(
        () => decodeMembersRequest(bytes(text)),
        (error: unknown) => {
          assert.ok(error instanceof MembersDecodeError);
          assert.match(error.message, why, text.slice(0, 60));
          return true;
        },
      );
    }
    assert.throws(() => decodeMembersReply(bytes('{"ok":false,"reason":"bored","message":"x"}')), MembersDecodeError);
    assert.throws(() => decodeMembersReply(bytes('{"ok":true,"voters":["a"],"learners":[]}')), MembersDecodeError);
  });
});
