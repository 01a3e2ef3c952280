/** The consensus core's public surface. */
export { RaftCore } from './raft.js';
export type { RaftOptions, RestoredState, ReadMode } from './options.js';
export type { Ready, SnapshotChunkToSend, SnapshotChunkReceived } from './ready.js';
export { snapshotChunkMessage } from './ready.js';
export type { Message, MessageType } from './messages.js';
export { messageSizeBytes } from './messages.js';
export type { RaftError, ProposeResult, RequestResult } from './errors.js';
export { describeRaftError } from './errors.js';
export * from './types.js';
export { EMPTY_MEMBERSHIP, isVoter, isMember, quorumSize } from './membership.js';
