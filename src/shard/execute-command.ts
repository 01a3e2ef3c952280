/**
 * What one shard command does: its reply, and the changes it stages on the
 * batch's working state. Deterministic over the working state alone, so every
 * replica answers the same entry the same way. Every refusal changes nothing.
 */
import type { KvCommand } from '../kv/commands.js';
import { failed, malformedCommand } from '../kv/commands.js';
import { applyOnce, compareClientIds, DEDUP_FLOOR_CLIENT_ID } from '../kv/dedup-table.js';
import { executeCommand } from '../kv/execute-command.js';
import { userKeyOf as kvUserKeyOf } from '../kv/keyspace.js';
import type { BucketId, GroupId, ShardConfig } from '../meta/config.js';
import type { LogIndex } from '../raft/types.js';
import { bucketOf } from './bucket.js';
import type { BucketStates } from './bucket-state.js';
import { bucketsInTransit, SERVING, statesAfterConfig } from './bucket-state.js';
import type {
  ConfigCommand,
  DeleteBucketCommand,
  InstallBucketCommand,
  ShardCommand,
  ShardError,
  ShardReply,
} from './commands.js';
import {
  describeState,
  invalidCommand,
  notReady,
  SHARD_OK,
  shardFailed,
  stale,
  wrongGroup,
  wrongVersion,
} from './commands.js';
import type { WorkingState } from './working-state.js';

export interface Outcome {
  readonly reply: ShardReply;
  /** Set by an accepted deleteBucket: the bucket whose data range goes once the writes so far are durable. */
  readonly clearBucket?: BucketId;
}

export function executeShardCommand(working: WorkingState, index: LogIndex, command: ShardCommand): Outcome {
  switch (command.type) {
    case 'kv':
      return { reply: executeKv(working, index, command.command) };
    case 'config':
      return { reply: executeConfig(working, command) };
    case 'installBucket':
      return { reply: executeInstall(working, index, command) };
    case 'deleteBucket':
      return executeDelete(working, command);
  }
}

/** The bucket of `key` if this group serves it, else the wrongGroup error to answer. */
export function servingBucket(
  key: Uint8Array,
  config: ShardConfig,
  states: BucketStates,
  gid: GroupId,
): BucketId | ShardError {
  if (config.buckets.length === 0) return wrongGroup(null, gid, config.version);
  const bucket = bucketOf(key, config.buckets.length);
  return states.get(bucket)?.type === 'serving' ? bucket : wrongGroup(bucket, gid, config.version);
}

/**
 * As KvStateMachine applies it, once the key's bucket is known to be served
 * here. A wrongGroup refusal is not recorded in the dedup table: the client
 * retries the same sequence at the group that serves the bucket, and this
 * group must not answer that sequence with the refusal later.
 */
function executeKv(working: WorkingState, index: LogIndex, command: KvCommand): ShardReply {
  // Only a faulty proposer logs a count; every replica answers it the same way.
  if (command.type === 'count') return failed(malformedCommand('a count is a read, never a log entry'));
  const bucket = servingBucket(command.key, working.config, working.states, working.gid);
  if (typeof bucket !== 'number') return shardFailed(bucket);
  const read = (userKey: Uint8Array): Uint8Array | null => working.readValue(bucket, userKey);
  if (command.type === 'get') return executeCommand(command, read).reply;

  // A retry of the latest request gets its reply again (also one applied by the bucket's previous owner).
  const { reply, entry } = applyOnce(working.dedup, command, index, () => {
    const execution = executeCommand(command, read);
    for (const write of execution.writes) {
      // executeCommand writes only the command's own key, under the KV layout: assert it, then re-home it.
      if (Buffer.compare(kvUserKeyOf(write.key), command.key) !== 0) {
        throw new Error('shard: a kv command wrote a key other than its own');
      }
      if (write.type === 'put') working.putValue(bucket, command.key, write.value);
      else working.deleteValue(bucket, command.key);
    }
    return execution.reply;
  });
  if (entry !== null) working.recordClient(command.clientId, entry);
  return reply;
}

function executeConfig(working: WorkingState, { config: next }: ConfigCommand): ShardReply {
  const current = working.config;
  if (next.version !== current.version + 1) {
    const advice =
      next.version <= current.version
        ? 'it is a late duplicate, so nothing changed'
        : `configs are applied one version at a time: propose version ${current.version + 1} first`;
    return shardFailed(wrongVersion(current.version, next.version, 'the config', advice));
  }
  if (next.buckets.length === 0 || (current.version > 0 && next.buckets.length !== current.buckets.length)) {
    return shardFailed(
      invalidCommand(
        `config version ${next.version} has ${next.buckets.length} buckets, but the cluster has ` +
          `${current.version > 0 ? current.buckets.length : 'at least 1'}`,
      ),
    );
  }
  const moving = bucketsInTransit(working.states);
  if (moving.length > 0) return shardFailed(notReady(current.version, moving));
  working.setStates(statesAfterConfig(working.states, current, next, working.gid));
  working.setConfig(next);
  return SHARD_OK;
}

function executeInstall(working: WorkingState, index: LogIndex, command: InstallBucketCommand): ShardReply {
  const { bucket, configVersion } = command;
  const config = working.config;
  if (configVersion !== config.version) {
    return shardFailed(stale(bucket, configVersion, `this group is at config version ${config.version}`));
  }
  const rangeError = bucketRangeError(bucket, config);
  if (rangeError !== null) return shardFailed(rangeError);
  const state = working.states.get(bucket);
  if (state?.type !== 'pulling') {
    return shardFailed(stale(bucket, configVersion, `the bucket is ${describeState(state?.type)}, not being pulled`));
  }
  if (command.firstPairIndex !== state.pairsReceived) {
    return shardFailed(
      stale(
        bucket,
        configVersion,
        `the part starts at pair ${command.firstPairIndex}, but ${state.pairsReceived} pairs are installed; ` +
          'send the transfer on from there',
      ),
    );
  }
  // Checked before anything is staged: a pair that belongs elsewhere would be lost where it lands.
  for (const [key] of command.pairs) {
    const keyBucket = bucketOf(key, config.buckets.length);
    if (keyBucket !== bucket) {
      return shardFailed(invalidCommand(`a key of bucket ${keyBucket} is in a part of bucket ${bucket}`));
    }
  }
  for (const [key, value] of command.pairs) working.putValue(bucket, key, value);
  // In id order: the clients recorded at one index are ordered by id, as a table loaded from the engine orders them.
  const moves = [...command.dedup].sort(([a], [b]) => compareClientIds(a, b));
  for (const [clientId, moved] of moves) {
    // Clients the previous owner dropped may retry here: they must be refused here too.
    if (clientId === DEDUP_FLOOR_CLIENT_ID) {
      working.raiseDedupFloor(moved.stampMsMax);
      continue;
    }
    const known = working.dedup.get(clientId);
    // A client talks to one group at a time, so the larger sequence is its latest request anywhere.
    if (known === undefined || moved.lastSequence > known.lastSequence) {
      const stampMsMax = Math.max(moved.stampMsMax, known?.stampMsMax ?? 0);
      working.recordClient(clientId, { ...moved, stampMsMax, lastSeenIndex: index });
    }
  }
  working.setState(
    bucket,
    command.last ? SERVING : { ...state, pairsReceived: state.pairsReceived + command.pairs.length },
  );
  return SHARD_OK;
}

function executeDelete(working: WorkingState, { bucket, configVersion }: DeleteBucketCommand): Outcome {
  const config = working.config;
  if (configVersion !== config.version) {
    return { reply: shardFailed(stale(bucket, configVersion, `this group is at config version ${config.version}`)) };
  }
  const rangeError = bucketRangeError(bucket, config);
  if (rangeError !== null) return { reply: shardFailed(rangeError) };
  const state = working.states.get(bucket)?.type;
  if (state !== 'handingOff') {
    return { reply: shardFailed(stale(bucket, configVersion, `the bucket is ${describeState(state)}`)) };
  }
  working.setState(bucket, null);
  working.markClearPending(bucket);
  return { reply: SHARD_OK, clearBucket: bucket };
}

function bucketRangeError(bucket: BucketId, config: ShardConfig): ShardError | null {
  if (bucket < config.buckets.length) return null;
  return invalidCommand(`bucket ${bucket} is outside 0..${config.buckets.length - 1} of config ${config.version}`);
}
