/**
 * Asks one node for its NodeStatus over the 'status' service every raftkv
 * node answers. Meant for operators' views (admin query, the HTTP cluster
 * page), where a node that is down is a fact to show, not a failure: the
 * answer says "unreachable" and why instead of throwing.
 */
import type { NodeStatus } from '../node/node-status.js';
import { decodeNodeStatus, StatusDecodeError } from '../node/status-codec.js';
import { ConnectionError, TcpClientConnection } from '../transport/index.js';
import type { ClientTls, PeerAddress } from '../transport/index.js';

export type StatusAnswer =
  { readonly ok: true; readonly status: NodeStatus } | { readonly ok: false; readonly error: string };

export interface StatusAskOptions {
  readonly clusterId: string;
  /** The cluster's auth token, when its nodes ask for one. */
  readonly token?: string;
  /** Connecting and answering together; a node that takes longer is reported unreachable. */
  readonly timeoutMs: number;
  /** Connect with TLS; plaintext when absent. */
  readonly tls?: ClientTls;
}

/** Short: a live node answers from memory in well under a millisecond, so a slow one is worth reporting. */
export const STATUS_TIMEOUT_MS_DEFAULT = 1_000;

export { parseAddress } from '../transport/index.js';

/** Never rejects: an unreachable node, a refusal or a garbled reply is an answer with `error`. */
export async function askNodeStatus(address: PeerAddress, options: StatusAskOptions): Promise<StatusAnswer> {
  const where = `${address.host}:${address.port}`;
  const connection = new TcpClientConnection({
    host: address.host,
    port: address.port,
    clusterId: options.clusterId,
    token: options.token,
    connectTimeoutMs: options.timeoutMs,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  try {
    const result = await connection.call(
      { service: 'status', stale: true, payload: new Uint8Array(0) },
      options.timeoutMs,
    );
    if (!result.ok) return { ok: false, error: `${where} refused the status request: ${result.error.message}` };
    return { ok: true, status: decodeNodeStatus(result.reply) };
  } catch (error) {
    if (error instanceof ConnectionError) return { ok: false, error: `unreachable: ${error.message}` };
    if (error instanceof StatusDecodeError) return { ok: false, error: `${where}: ${error.message}` };
    throw error;
  } finally {
    connection.close();
  }
}
