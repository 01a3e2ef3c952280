import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../../../src/raft/types.js';
import { SLAB_BYTES } from '../../../src/storage/byte-slab.js';
import { encodeEntryRecord } from '../../../src/storage/entry-codec.js';
import { RECORD_HEADER_BYTES } from '../../../src/storage/record.js';
import { scanSegment } from '../../../src/storage/segment-file.js';

function command(index: number, sizeBytes: number): Entry {
  return { kind: 'command', index, term: 3, data: new Uint8Array(sizeBytes).fill(index % 251) };
}

describe('scanning a segment file', () => {
  it('gives entries that own their bytes: small ones packed into slabs, large ones alone, none tied to the file', () => {
    // Enough small entries to fill several slabs, and some too large for one.
    const written = Array.from({ length: 3 * (SLAB_BYTES / 200) }, (_, at) =>
      command(at + 1, at % 1000 === 0 ? 100_000 : 200),
    );
    const file = Buffer.concat(written.map(encodeEntryRecord));
    const scan = scanSegment(file);
    assert.equal(scan.damage, null);
    const read = scan.entries.map(({ entry }) => entry!);
    assert.deepEqual(read, written);
    // The file's buffer is reused or freed after the scan: the entries must not change with it.
    file.fill(0);
    assert.deepEqual(read, written);
    // Packed, not one buffer per entry: a log of 360,000 entries would otherwise make 360,000 allocations.
    const buffers = new Set(read.map((entry) => (entry.kind === 'command' ? entry.data.buffer : null)));
    assert.ok(buffers.size < read.length / 10, `${buffers.size} buffers for ${read.length} entries`);
  });

  it('checks the records below indexMin but does not decode them: at restart they are compacted away', () => {
    const written = Array.from({ length: 10 }, (_, at) => command(at + 1, 64));
    const scan = scanSegment(Buffer.concat(written.map(encodeEntryRecord)), 8);
    assert.deepEqual(
      scan.entries.map(({ index, entry }) => [index, entry?.index ?? null]),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((index) => [index, index >= 8 ? index : null]),
    );
    const damaged = Buffer.concat(written.map(encodeEntryRecord));
    damaged[RECORD_HEADER_BYTES + 30]! ^= 0xff; // inside entry 1's data
    assert.deepEqual(scanSegment(damaged, 8).damage?.offsetBytes, 0, 'damage below indexMin is still found');
  });
});
