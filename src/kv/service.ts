/**
 * What a replica group offers its clients, as one interface: a request is a
 * KV command (a write carries its client id and sequence), an answer is the
 * state machine's reply or a service error that tells the client where to
 * go next. The TCP client protocol, the RESP server and the simulated
 * clients all speak to a group through this interface and nothing else.
 */
import type { NodeErrorCode } from '../node/errors.js';
import type { NodeId } from '../raft/index.js';
import type { KvCommand, KvReply } from './commands.js';

export interface KvRequest {
  readonly command: KvCommand;
  /** Read this replica's state without confirming leadership: fast, possibly stale. Gets only. */
  readonly stale?: boolean;
}

/**
 * Why a request was not served. notLeader: go to `leader` (or look for it);
 * outcomeUnknown, timeout: retry with the same client id and sequence;
 * overloaded: back off, then retry; stopped: this node is going away.
 */
export interface ServiceError {
  readonly code: NodeErrorCode;
  readonly message: string;
  /** For notLeader: the member that leads, when this node knows it. */
  readonly leader: NodeId | null;
}

export type ServiceResult =
  { readonly ok: true; readonly reply: KvReply } | { readonly ok: false; readonly error: ServiceError };

export interface KvService {
  /** Never rejects: every failure is a ServiceResult the client can act on. */
  handle(request: KvRequest): Promise<ServiceResult>;
}
