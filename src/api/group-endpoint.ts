/**
 * What every server process of a replica group has in common, whatever the
 * group serves: the peer transport to the other members, the member's own
 * state (opened by the caller once the transport exists, since the node
 * sends through it), and one TCP port for peer messages and client requests,
 * which also answers the 'status' service for whoever asks and the
 * 'members' service (membership changes) for admins. It keeps the peer
 * addresses in step with the group's membership (peer-address-book.ts).
 */
import type { Logger } from '../log/logger.js';
import type { NodeStatus } from '../node/node-status.js';
import type { MembershipListener } from '../node/index.js';
import type { RaftNode } from '../node/raft-node.js';
import type { StatusExtras } from '../node/status-report.js';
import { nodeStatus } from '../node/status-report.js';
import type { NodeId } from '../raft/index.js';
import type { ClientConnectionLimits, GroupService, NodeTls, PeerAddress } from '../transport/index.js';
import { TcpPeerTransport, TcpServer } from '../transport/index.js';
import { withMembersService } from './members-service.js';
import { PeerAddressBook } from './peer-address-book.js';
import { withStatusService } from './status-service.js';

export interface GroupEndpointOptions {
  readonly id: NodeId;
  /** Every member of the group (this one included) with its address. */
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  /** The member's data directory: the addresses of members added later are remembered there. */
  readonly directory: string;
  readonly clusterId: string;
  /** The cluster's auth token: asked of every peer and client, and given to peers. */
  readonly authToken?: string;
  readonly logger: Logger;
  /** Client connections to this member's port: how many, and how long one may idle; defaults when absent. */
  readonly clientLimits?: ClientConnectionLimits;
  /** Told of each batch of Raft messages sent to a peer, with its bytes (metrics). */
  readonly onPeerSent?: (messageCount: number, sizeBytes: number) => void;
  /** TLS on this member's port and to its peers (mutual); plaintext when absent. */
  readonly tls?: NodeTls;
}

/** What a server's options say about who founded the group. */
export interface Founding {
  readonly members: ReadonlyMap<NodeId, PeerAddress>;
  /** This member joins a group that exists: it starts with no membership and waits for the leader to add it. */
  readonly join?: boolean;
}

/** The bootstrap voters: the --members of a founding member, none for one that joins (the log tells it). */
export function foundingVoters(options: Founding): NodeId[] {
  return options.join === true ? [] : [...options.members.keys()];
}

export interface GroupEndpoint<T> {
  /** What `open` made: the member's node and its state. */
  readonly member: T;
  readonly port: number;
  /** Where this member reaches its peers; kept in step with the log, and told of other sources. */
  readonly addresses: PeerAddressBook;
  /** This member's Raft state now, as its 'status' service answers it. */
  status(): NodeStatus;
  /** Stops listening and closes peer connections; the member is the caller's to close. */
  close(): Promise<void>;
}

export async function startGroupEndpoint<T extends { readonly node: RaftNode }>(
  options: GroupEndpointOptions,
  open: (peers: TcpPeerTransport, membership: MembershipListener) => Promise<T>,
  service: (member: T) => GroupService,
  statusExtras: (member: T) => Omit<StatusExtras, 'startedAtMs'>,
): Promise<GroupEndpoint<T>> {
  const startedAtMs = performance.now();
  const self = options.members.get(options.id);
  if (self === undefined) throw new Error(`member ${options.id} is not in the member list`);
  const peers = new TcpPeerTransport({
    selfId: options.id,
    clusterId: options.clusterId,
    authToken: options.authToken,
    peers: new Map([...options.members].filter(([id]) => id !== options.id)),
    logger: options.logger,
    onSent: options.onPeerSent,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  const addressBook = await PeerAddressBook.open(options.directory, options.id, options.members, peers, options.logger);
  const member = await open(peers, addressBook);
  const status = (): NodeStatus => nodeStatus(member.node, { ...statusExtras(member), startedAtMs });
  const server = await TcpServer.start({
    host: self.host,
    port: self.port,
    clusterId: options.clusterId,
    authToken: options.authToken,
    selfId: options.id,
    logger: options.logger,
    onPeerMessage: (message) => member.node.receive(message),
    service: withStatusService(withMembersService(service(member), member.node, addressBook.addresses), status),
    ...options.clientLimits,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  return {
    member,
    port: server.port,
    addresses: addressBook,
    status,
    async close() {
      await server.close();
      peers.close();
      await addressBook.flushed();
    },
  };
}
