/**
 * A member of the group that runs in the client's own process (the RESP and
 * HTTP servers' sessions on a `raftkv node`). While it leads, a KvClient
 * hands it the command it built, and its encoding, directly: no request
 * object, no channel, no decoding of a payload just encoded, no encoding of
 * a reply about to be decoded. Anything but an answer (not the leader, busy,
 * outcome unknown) sends the client the long way, through GroupClient, with
 * the same bytes, so the same client id and sequence: still exactly once.
 */
import type { KvCommand, KvReply } from '../kv/commands.js';
import type { NodeId } from '../raft/index.js';

export type LocalServed = { readonly ok: true; readonly reply: KvReply } | { readonly ok: false };

export interface LocalKvMember {
  readonly id: NodeId;
  /** Serves `command`, whose encoding is `payload`; never rejects. KvReplica.serve is one. */
  serve(command: KvCommand, payload: Uint8Array, stale: boolean): Promise<LocalServed>;
}
