/**
 * Which hash bucket a key belongs to: the CRC-32 of the key's bytes (IEEE,
 * the checksum zlib, Go's crc32.ChecksumIEEE and eraft use), unsigned, modulo
 * the cluster's bucket count.
 *
 * Clients route with it and shard groups check with it, so both must compute
 * it the same way forever: a different function would send almost every key
 * to another bucket, where no group holds its data. Tests pin its values.
 */
import { crc32 } from 'node:zlib';
import type { BucketId } from '../meta/config.js';
import { BUCKET_COUNT_MAX } from '../meta/config.js';

export function bucketOf(key: Uint8Array, bucketCount: number): BucketId {
  // A count outside the config's limits is a bug of the caller, not of its user.
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > BUCKET_COUNT_MAX) {
    throw new Error(`bucketOf: the bucket count must be an integer in 1..${BUCKET_COUNT_MAX}, got ${bucketCount}`);
  }
  return (crc32(key) >>> 0) % bucketCount;
}
