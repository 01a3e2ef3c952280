/**
 * NodeStatus on the wire (the 'status' service's reply): UTF-8 JSON, since
 * it is read by people and browsers as much as by raftkv, and it is small.
 * Bounded all the same: a node holds at most 1024 buckets in transit, each a
 * short line, so 256 KiB is far above any honest status; the decoder checks
 * every field, so a stranger's reply cannot pass for a status.
 */
import type { Role } from '../raft/index.js';
import type { BucketInTransit, NodeStatus } from './node-status.js';

export const STATUS_BYTES_MAX = 256 * 1024;
const ROLES: readonly Role[] = ['follower', 'preCandidate', 'candidate', 'leader'];

export class StatusDecodeError extends Error {
  constructor(problem: string) {
    super(`a node status reply is malformed: ${problem}`);
    this.name = 'StatusDecodeError';
  }
}

export function encodeNodeStatus(status: NodeStatus): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(status), 'utf8');
  if (bytes.byteLength > STATUS_BYTES_MAX) {
    throw new Error(`a node status of ${bytes.byteLength} bytes is over ${STATUS_BYTES_MAX}: a bug in what it lists`);
  }
  return bytes;
}

/** Throws StatusDecodeError saying what is out of place. */
export function decodeNodeStatus(bytes: Uint8Array): NodeStatus {
  if (bytes.byteLength > STATUS_BYTES_MAX) throw new StatusDecodeError(`${bytes.byteLength} bytes, over the limit`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new StatusDecodeError(`not UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null) throw new StatusDecodeError('not an object');
  const record = value as Record<string, unknown>;
  const role = record['role'];
  if (!ROLES.includes(role as Role)) throw new StatusDecodeError(`role ${JSON.stringify(role)} is unknown`);
  return {
    id: count(record, 'id'),
    gid: nullable(record, 'gid'),
    role: role as Role,
    term: count(record, 'term'),
    leaderId: nullable(record, 'leaderId'),
    commitIndex: count(record, 'commitIndex'),
    appliedIndex: count(record, 'appliedIndex'),
    lastIndex: count(record, 'lastIndex'),
    snapshotIndex: count(record, 'snapshotIndex'),
    snapshotTerm: count(record, 'snapshotTerm'),
    logBytes: count(record, 'logBytes'),
    configVersion: nullable(record, 'configVersion'),
    bucketsInTransit: transit(record['bucketsInTransit']),
    uptimeSeconds: count(record, 'uptimeSeconds'),
  };
}

function count(record: Record<string, unknown>, field: string): number {
  const value = record[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new StatusDecodeError(`${field} is ${JSON.stringify(value)}, not a whole number`);
  }
  return value;
}

function nullable(record: Record<string, unknown>, field: string): number | null {
  return record[field] === null ? null : count(record, field);
}

function transit(value: unknown): BucketInTransit[] {
  if (!Array.isArray(value)) throw new StatusDecodeError('bucketsInTransit is not a list');
  return value.map((item: unknown) => {
    if (typeof item !== 'object' || item === null) throw new StatusDecodeError('a bucket in transit is not an object');
    const entry = item as Record<string, unknown>;
    if (typeof entry['state'] !== 'string') throw new StatusDecodeError('a bucket in transit has no state');
    return { bucket: count(entry, 'bucket'), state: entry['state'] };
  });
}
