/** What the rest of raftkv uses of the meta (config) layer. */
export type { BucketId, GroupId, GroupInfo, MemberInfo, ShardConfig } from './config.js';
export {
  BUCKET_COUNT_DEFAULT,
  BUCKET_COUNT_MAX,
  bucketCounts,
  bucketsOf,
  canonicalConfigJson,
  emptyConfig,
  findGroup,
  GROUP_ID_MAX,
  groupOf,
  GROUPS_MAX,
  MEMBER_ID_MAX,
  MEMBERS_PER_GROUP_MAX,
  UNASSIGNED,
} from './config.js';
export { ADDRESS_CHARS_MAX, addressProblem } from './member-address.js';
export { bucketsMoved, rebalance } from './rebalance.js';
export type {
  ClientStamp,
  JoinCommand,
  LeaveCommand,
  MembersCommand,
  MetaCommand,
  MetaCommandType,
  MetaError,
  MetaErrorCode,
  MetaFailed,
  MetaOk,
  MetaReply,
  MetaWriteCommand,
  MoveCommand,
  QueryCommand,
} from './commands.js';
export {
  COMMAND_BYTES_MAX,
  decodeMetaCommand,
  decodeMetaReply,
  encodeMetaCommand,
  encodeMetaReply,
  REPLY_BYTES_MAX,
} from './command-codec.js';
export { MetaDecodeError, MetaSnapshotCorruptionError } from './errors.js';
export type { ClientRecord } from './client-table.js';
export {
  META_DEDUP_IDLE_ENTRIES_MAX_DEFAULT,
  MetaStateMachine,
  SNAPSHOT_CHUNK_BYTES_MAX_DEFAULT,
} from './state-machine.js';
export type { MetaStateMachineOptions } from './state-machine.js';
