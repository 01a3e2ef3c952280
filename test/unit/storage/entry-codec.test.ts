import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../../../src/raft/index.js';
import { decodeEntry, encodeEntryRecord } from '../../../src/storage/entry-codec.js';
import { EntryDecodeError } from '../../../src/storage/errors.js';
import { RECORD_HEADER_BYTES } from '../../../src/storage/record.js';

/** The payload of the record that stores `entry`, with its JSON body replaced by `json` (config entries only). */
function configPayload(json: string): Buffer {
  const noop = encodeEntryRecord({ kind: 'noop', index: 1, term: 1 }).subarray(RECORD_HEADER_BYTES);
  const header = Buffer.from(noop);
  header[1] = 2; // kind: config
  return Buffer.concat([header, Buffer.from(json, 'utf8')]);
}

describe('log entry codec', () => {
  it('reads back a config entry it wrote', () => {
    const entry: Entry = { kind: 'config', index: 1, term: 1, change: { type: 'addLearner', node: 0xffff_ffff } };
    assert.deepEqual(decodeEntry(encodeEntryRecord(entry).subarray(RECORD_HEADER_BYTES)), entry);
  });

  it('reads back the address a new learner is added with, and refuses one that is not a string', () => {
    const change = { type: 'addLearner', node: 14, address: '127.0.0.1:7014' } as const;
    const entry: Entry = { kind: 'config', index: 9, term: 2, change };
    assert.deepEqual(decodeEntry(encodeEntryRecord(entry).subarray(RECORD_HEADER_BYTES)), entry);
    assert.throws(() => decodeEntry(configPayload('{"type":"addLearner","node":14,"address":7014}')), /not a string/);
  });

  it('refuses a payload that is no entry with EntryDecodeError, saying what is wrong', () => {
    assert.throws(() => decodeEntry(Buffer.from([1, 1])), EntryDecodeError);
    assert.throws(() => decodeEntry(configPayload('{"type":"addLearner"')), /not valid JSON/);
    assert.throws(() => decodeEntry(configPayload('{"type":"grow","node":1}')), /"grow" is unknown/);
  });

  it('refuses a config entry naming a node id no leader could send to a follower', () => {
    // One changed digit of a stored learner id 4294967295 made it 5294967295: past the wire's u32.
    const tooLarge = '{"type":"bootstrap","membership":{"voters":[],"learners":[5294967295]}}';
    assert.throws(() => decodeEntry(configPayload(tooLarge)), /lists of node ids/);
    assert.throws(() => decodeEntry(configPayload('{"type":"removeNode","node":-2}')), /names no valid node/);
    assert.throws(() => decodeEntry(configPayload('{"type":"removeNode","node":1.5}')), /names no valid node/);
  });
});
