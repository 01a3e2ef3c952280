/**
 * What a shard group's log carries, and what applying it answers.
 *
 * The log holds the clients' KV commands and the group's own decisions about
 * its buckets: a new config, a part of a bucket received from its previous
 * owner, the deletion of a bucket its new owner has installed. Because the
 * decisions are log entries, every replica makes them at the same index,
 * between the same client commands.
 *
 * Replies are plain data, like the KV layer's: a KV command gets a KvReply or
 * a wrongGroup error; the group's own commands get { ok: true } or an error
 * saying why nothing changed. Duplicates and late arrivals of the group's
 * own commands are normal (a new leader proposes again what an old one may
 * have proposed), so refusing them is routine, not a failure.
 */
import type { DedupEntry } from '../kv/keyspace.js';
import type { KvCommand, KvError, KvReply } from '../kv/commands.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import type { BucketStateType } from './bucket-state.js';

/** A client's command, applied only if its key's bucket is served here. */
export interface KvShardCommand {
  readonly type: 'kv';
  readonly command: KvCommand;
}

/** The next config from the meta group, applied one version at a time. */
export interface ConfigCommand {
  readonly type: 'config';
  readonly config: ShardConfig;
}

/**
 * What the receiver keeps of a client's dedup entry: its log index means
 * nothing in another group's log. The sender's dedup floor travels as the
 * entry of DEDUP_FLOOR_CLIENT_ID, as the engine keeps it (kv/dedup-table.ts).
 */
export type TransferredDedupEntry = Pick<DedupEntry, 'lastSequence' | 'lastReply' | 'stampMsMax'>;

/** A key and its value, as a bucket transfer carries them. */
export type BucketPair = readonly [key: Uint8Array, value: Uint8Array];

/**
 * A part of a pulling bucket, from its previous owner. A bucket can be larger
 * than one log entry should be, so its pairs come in parts, in the order the
 * previous owner exports them: a part is taken only if it starts where the
 * installed ones end (firstPairIndex), so a duplicate or a part from an
 * abandoned attempt changes nothing, and a transfer that a new leader resumes
 * carries on from the pairsReceived of the bucket's state. The last part
 * makes the bucket serving. Dedup entries may come in any part (merging
 * them twice is harmless).
 */
export interface InstallBucketCommand {
  readonly type: 'installBucket';
  readonly bucket: BucketId;
  /** The config version whose change moved the bucket here. */
  readonly configVersion: number;
  /** How many pairs of this transfer earlier parts carried. */
  readonly firstPairIndex: number;
  readonly pairs: readonly BucketPair[];
  readonly dedup: readonly (readonly [clientId: string, entry: TransferredDedupEntry])[];
  /** Whether this part completes the bucket. */
  readonly last: boolean;
}

/** The new owner has installed `bucket` for `configVersion`: the copy handed off here can go. */
export interface DeleteBucketCommand {
  readonly type: 'deleteBucket';
  readonly bucket: BucketId;
  readonly configVersion: number;
}

export type ShardCommand = KvShardCommand | ConfigCommand | InstallBucketCommand | DeleteBucketCommand;
export type ShardCommandType = ShardCommand['type'];

/** Errors of the shard layer; none of them changes the state. */
export type ShardError =
  | {
      readonly code: 'wrongGroup';
      /** The key's bucket; null when the group has no config yet, so it cannot tell. */
      readonly bucket: BucketId | null;
      readonly gid: GroupId;
      readonly configVersion: number;
      readonly message: string;
    }
  | {
      readonly code: 'wrongVersion';
      /** The version this group is at. */
      readonly configVersion: number;
      /** The version the command or request named. */
      readonly requestedVersion: number;
      readonly message: string;
    }
  | {
      readonly code: 'notReady';
      readonly configVersion: number;
      /** The buckets still pulling or handing off, which the change in progress is waiting for. */
      readonly bucketsInTransit: readonly BucketId[];
      readonly message: string;
    }
  | {
      readonly code: 'stale';
      readonly bucket: BucketId;
      /** The version the command or request named. */
      readonly configVersion: number;
      readonly message: string;
    }
  | { readonly code: 'invalidCommand'; readonly problem: string; readonly message: string };

export type ShardErrorCode = ShardError['code'];

export interface ShardFailed {
  readonly ok: false;
  readonly error: ShardError;
}

/** KV replies as the KV layer gives them (malformedCommand included), or a shard error. */
export type ShardReply = KvReply | ShardFailed;

/** Every error a shard group answers with. */
export type ShardReplyError = KvError | ShardError;

export const SHARD_OK: ShardReply = Object.freeze({ ok: true as const });

export function shardFailed(error: ShardError): ShardFailed {
  return { ok: false, error };
}

export function wrongGroup(bucket: BucketId | null, gid: GroupId, configVersion: number): ShardError {
  const message =
    bucket === null
      ? `group ${gid} has no config yet (version ${configVersion}), so it serves no bucket; ` +
        'refresh the config and retry'
      : `bucket ${bucket} is not served by group ${gid} at config version ${configVersion}; ` +
        'refresh the config and retry';
  return { code: 'wrongGroup', bucket, gid, configVersion, message };
}

/** `what` names the command or request; `advice` says what its sender does now. */
export function wrongVersion(
  configVersion: number,
  requestedVersion: number,
  what: string,
  advice: string,
): ShardError {
  return {
    code: 'wrongVersion',
    configVersion,
    requestedVersion,
    message: `${what} names config version ${requestedVersion}, but this group is at version ${configVersion}; ${advice}`,
  };
}

export function notReady(configVersion: number, moving: readonly BucketId[]): ShardError {
  return {
    code: 'notReady',
    configVersion,
    bucketsInTransit: moving,
    message:
      `the change to config version ${configVersion} is not finished (buckets ${moving.join(', ')} are still ` +
      'pulling or handing off), so the next config must wait; retry once they have moved',
  };
}

export function stale(bucket: BucketId, configVersion: number, why: string): ShardError {
  return {
    code: 'stale',
    bucket,
    configVersion,
    message: `nothing to do for bucket ${bucket} at config version ${configVersion}: ${why}`,
  };
}

export function invalidCommand(problem: string): ShardError {
  return {
    code: 'invalidCommand',
    problem,
    message: `the command breaks a rule of the shard protocol (${problem}), so nothing was applied; this is a bug`,
  };
}

/** For messages: what a bucket is doing here. */
export function describeState(state: BucketStateType | undefined): string {
  switch (state) {
    case undefined:
      return 'not held by this group';
    case 'serving':
      return 'served here';
    case 'pulling':
      return 'being pulled here';
    case 'handingOff':
      return 'being handed off from here';
  }
}
