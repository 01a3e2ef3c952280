/** What the rest of raftkv uses of the shard layer. */
export { bucketOf } from './bucket.js';
export type { BucketMove, BucketState, BucketStates, BucketStateType } from './bucket-state.js';
export { bucketMoves, bucketsInTransit } from './bucket-state.js';
export type { BucketExport, InstallPartsOptions } from './bucket-transfer.js';
export { INSTALL_PART_BYTES_MAX_DEFAULT, installParts } from './bucket-transfer.js';
export type {
  BucketPair,
  ConfigCommand,
  DeleteBucketCommand,
  InstallBucketCommand,
  KvShardCommand,
  ShardCommand,
  ShardCommandType,
  ShardError,
  ShardErrorCode,
  ShardFailed,
  ShardReply,
  ShardReplyError,
  TransferredDedupEntry,
} from './commands.js';
export { decodeShardCommand, encodeShardCommand } from './command-codec.js';
export { ShardDecodeError, ShardSnapshotCorruptionError } from './errors.js';
export { SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT } from './snapshot-writer.js';
export { ShardStateMachine } from './state-machine.js';
export type { BucketExportResult, ShardStateMachineOptions } from './state-machine.js';
export { decodeShardReply, encodeShardReply, isShardError } from './reply-codec.js';
export { ShardReplica } from './shard-replica.js';
export type { ShardDriverOptions } from './shard-driver.js';
export {
  POLL_MS_DEFAULT,
  RPC_ATTEMPT_TIMEOUT_MS_DEFAULT,
  RPC_DEADLINE_MS_DEFAULT,
  ShardDriver,
  TRANSFERS_IN_FLIGHT_MAX_DEFAULT,
} from './shard-driver.js';
export type { ConfirmRequest, DedupWanted, PullRequest, ShardRpcReply, ShardRpcRequest } from './shard-rpc.js';
export {
  decodeShardRpcReply,
  decodeShardRpcRequest,
  encodeShardRpcReply,
  encodeShardRpcRequest,
  PULL_PART_BYTES_MAX,
} from './shard-rpc.js';
