/**
 * A GroupChannel over TCP: one pipelined connection per member, opened on
 * first use and opened again after it breaks. Optionally one member is this
 * very process, whose service is called directly instead of over loopback.
 */
import type { Logger } from '../log/logger.js';
import type { NodeId } from '../raft/index.js';
import { ConnectionError, parseAddress, TcpClientConnection } from '../transport/index.js';
import type { ConnectionErrorReason } from '../transport/index.js';
import type { ClientTls, GroupService, PeerAddress, ServiceRequest, ServiceResult } from '../transport/index.js';
import type { GroupChannel } from './channel.js';
import { ChannelError } from './channel.js';

export interface TcpGroupChannelOptions {
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  readonly clusterId: string;
  /** The cluster's auth token, for nodes started with one (--auth-token-file); they refuse clients without it. */
  readonly token?: string;
  readonly logger?: Logger;
  /** A member served by this process: its requests skip the network. */
  readonly local?: { readonly id: NodeId; readonly service: GroupService };
  /** Connect with TLS, trusting nodes whose certificate tls.ca signed; plaintext when absent. */
  readonly tls?: ClientTls;
}

export class TcpGroupChannel implements GroupChannel {
  private readonly connections = new Map<NodeId, TcpClientConnection>();
  /** Where each node listens: the members given, and those learnt later from configs. */
  private readonly addresses: Map<NodeId, PeerAddress>;
  private closed = false;

  constructor(private readonly options: TcpGroupChannelOptions) {
    this.addresses = new Map(options.members);
  }

  /**
   * Learns (or updates) where nodes listen, as a sharded client reads them
   * from configs ("host:port" each). A node whose address changed gets a new
   * connection on its next call.
   */
  learn(members: readonly { readonly id: NodeId; readonly address: string }[]): void {
    for (const { id, address } of members) {
      const parsed = parseAddress(address);
      const known = this.addresses.get(id);
      if (known !== undefined && known.host === parsed.host && known.port === parsed.port) continue;
      this.addresses.set(id, parsed);
      this.connections.get(id)?.close();
      this.connections.delete(id);
    }
  }

  async call(node: NodeId, request: ServiceRequest, timeoutMs: number): Promise<ServiceResult> {
    if (this.closed) throw new ChannelError(node, 'closed', 'the channel was closed');
    const local = this.options.local;
    if (local !== undefined && local.id === node) return local.service.handle(request);
    const connection = this.connectionTo(node);
    try {
      return await connection.call(request, timeoutMs);
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      // A timed-out or refused-for-now call leaves the connection usable; anything else broke it.
      const usable = error.reason === 'timeout' || error.reason === 'overloaded';
      if (!usable && this.connections.get(node) === connection) {
        this.connections.delete(node);
        connection.close();
      }
      throw new ChannelError(node, channelReason(error.reason), error.message);
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  private connectionTo(node: NodeId): TcpClientConnection {
    const existing = this.connections.get(node);
    if (existing !== undefined && !existing.isClosed) return existing;
    const address = this.addresses.get(node);
    if (address === undefined) throw new ChannelError(node, 'unreachable', `member ${node} has no known address`);
    const connection = new TcpClientConnection({
      host: address.host,
      port: address.port,
      clusterId: this.options.clusterId,
      token: this.options.token,
      ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
    });
    this.connections.set(node, connection);
    return connection;
  }
}

function channelReason(reason: ConnectionErrorReason): ChannelError['reason'] {
  switch (reason) {
    case 'timeout':
      return 'timeout';
    case 'overloaded':
      return 'busy';
    case 'rejected':
      return 'rejected';
    case 'refused':
    case 'closed':
    case 'protocol':
      return 'unreachable';
  }
}
