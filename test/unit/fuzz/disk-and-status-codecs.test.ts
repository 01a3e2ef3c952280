/**
 * Fuzzing what a node reads back from its disk (record framing, log entries)
 * and the status reply any process may ask a node for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { NodeStatus } from '../../../src/node/node-status.js';
import { decodeNodeStatus, encodeNodeStatus, StatusDecodeError } from '../../../src/node/status-codec.js';
import type { Entry } from '../../../src/raft/index.js';
import { decodeEntry, encodeEntryRecord } from '../../../src/storage/entry-codec.js';
import { EntryDecodeError } from '../../../src/storage/errors.js';
import { encodeRecord, RECORD_HEADER_BYTES, readRecordAt } from '../../../src/storage/record.js';
import { encodeRaftMessage } from '../../../src/transport/raft-message-codec.js';
import { checkReencodes, decoderProperties, fuzzParameters } from '../../support/fuzz.js';
import { anyText, bytes, u32, u64 } from '../../support/fuzz-values.js';
import { entry } from './raft-values.js';

/** What the test's decode throws for a record readRecordAt refuses (it returns a reason rather than throwing). */
class RecordRefused extends Error {}

function readRecord(bytes: Uint8Array): Uint8Array {
  const read = readRecordAt(Buffer.from(bytes), 0);
  if (!read.ok) throw new RecordRefused(read.problem);
  return new Uint8Array(read.payload);
}

describe('fuzzing disk records', () => {
  const payload = fc.uint8Array({ minLength: 1, maxLength: 128 });
  decoderProperties({ arbitrary: payload, encode: encodeRecord, decode: readRecord, DecodeError: RecordRefused });

  it('the checksum catches every single-byte change of a record', () => {
    fc.assert(
      fc.property(payload, fc.integer({ min: 1, max: 255 }), (value, xorMask) => {
        const record = encodeRecord(value);
        for (let position = 0; position < record.byteLength; position++) {
          const damaged = Buffer.from(record);
          damaged[position] = (damaged[position] ?? 0) ^ xorMask;
          assert.equal(readRecordAt(damaged, 0).ok, false, `a change at byte ${position} went unnoticed`);
        }
      }),
      fuzzParameters(),
    );
  });
});

/** A record's payload, as decodeEntry reads it (the record framing is checked before). */
function entryPayload(value: Entry): Uint8Array {
  return encodeEntryRecord(value).subarray(RECORD_HEADER_BYTES);
}

describe('fuzzing log entries', () => {
  const codec = { encode: entryPayload, decode: (bytes: Uint8Array) => decodeEntry(Buffer.from(bytes)) };
  decoderProperties({
    arbitrary: entry,
    ...codec,
    DecodeError: EntryDecodeError,
    checkValid: (decoded) => {
      checkReencodes(codec, decoded);
      // An entry read back from disk is one a leader sends to its followers: it must fit the wire format.
      const append = { type: 'append', term: decoded.term, from: 1, to: 2, commit: 0 } as const;
      encodeRaftMessage({ ...append, prevIndex: decoded.index - 1, prevTerm: 0, entries: [decoded] });
    },
  });
});

const nodeStatus: fc.Arbitrary<NodeStatus> = fc.record({
  id: u32,
  gid: fc.option(u32, { nil: null }),
  role: fc.constantFrom('follower', 'preCandidate', 'candidate', 'leader'),
  term: u64,
  leaderId: fc.option(u32, { nil: null }),
  commitIndex: u64,
  appliedIndex: u64,
  lastIndex: u64,
  snapshotIndex: u64,
  snapshotTerm: u64,
  logBytes: u64,
  configVersion: fc.option(u64, { nil: null }),
  bucketsInTransit: fc.array(fc.record({ bucket: fc.nat({ max: 1023 }), state: anyText() }), { maxLength: 4 }),
  uptimeSeconds: u64,
});

describe('fuzzing node status replies', () => {
  decoderProperties({
    arbitrary: nodeStatus,
    encode: encodeNodeStatus,
    decode: decodeNodeStatus,
    DecodeError: StatusDecodeError,
    arbitraryBytes: fc.oneof(
      bytes(512),
      fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value), 'utf8')),
    ),
  });
});
