/** Arbitrary values the fuzzed codecs share: numbers of every width, text of every kind, bytes, shard configs. */
import fc from 'fast-check';
import type { GroupInfo, ShardConfig } from '../../src/meta/config.js';
import { freezeConfig, UNASSIGNED } from '../../src/meta/config.js';

/** A u64 field as raftkv holds one: a safe integer, with the edges over-represented. */
export const u64 = fc.oneof(
  fc.constantFrom(0, 1, 0xffff_ffff, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: 2 ** 40 }),
  fc.maxSafeNat(),
);

export const u32 = fc.oneof(fc.constantFrom(0, 1, 0xffff_ffff), fc.nat({ max: 0xffff_ffff }));

/**
 * Text of every kind: ASCII, any Unicode scalar (several UTF-8 bytes each),
 * and text that starts with U+FEFF, which a careless UTF-8 decoder drops as a
 * byte order mark.
 */
export function anyText(maxLength = 40): fc.Arbitrary<string> {
  const unicode = fc.string({ unit: 'binary', maxLength });
  return fc.oneof(
    fc.string({ maxLength }),
    unicode,
    unicode.map((text) => `\uFEFF${text}`),
  );
}

/** Text of 1..maxBytes UTF-8 bytes (client ids, cluster ids). */
export function textOfBytes(maxBytes: number): fc.Arbitrary<string> {
  return anyText(maxBytes).filter((text) => {
    const bytes = Buffer.byteLength(text, 'utf8');
    return bytes >= 1 && bytes <= maxBytes;
  });
}

export function bytes(maxLength = 64): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength });
}

/** A valid shard config: sorted distinct groups of sorted distinct members, every bucket owned by one of them. */
export const shardConfig: fc.Arbitrary<ShardConfig> = fc
  .record({
    version: u64,
    gids: fc.uniqueArray(fc.integer({ min: 1, max: 0xffff_ffff }), { maxLength: 4 }),
    bucketCount: fc.integer({ min: 1, max: 16 }),
    choices: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
    memberIds: fc.uniqueArray(fc.integer({ min: 1, max: 0xffff_ffff }), { minLength: 1, maxLength: 3 }),
    port: fc.integer({ min: 1, max: 65535 }),
  })
  .map(({ version, gids, bucketCount, choices, memberIds, port }) => {
    const sortedGids = [...gids].sort((a, b) => a - b);
    const ids = [...memberIds].sort((a, b) => a - b);
    const groups: GroupInfo[] = sortedGids.map((gid) => ({
      gid,
      members: ids.map((id) => ({ id, address: `g${gid}-n${id}.test:${port}` })),
    }));
    const buckets = Array.from({ length: bucketCount }, (_, bucket) =>
      sortedGids.length === 0 ? UNASSIGNED : (sortedGids[(choices[bucket] ?? 0) % sortedGids.length] ?? UNASSIGNED),
    );
    return freezeConfig({ version, buckets, groups });
  });
