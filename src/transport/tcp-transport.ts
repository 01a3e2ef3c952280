/**
 * TcpPeerTransport: how one node sends Raft messages to the other members of
 * its group over TCP. It is the PeerSender a RaftNode is given in a real
 * process (the simulation gives it SimNetwork instead). One PeerLink per peer
 * carries the frames; this class encodes, routes, enforces the frame size
 * limit and counts what happened, for tests and /metrics.
 *
 * Receiving is not here: peers connect to this node's TcpServer, which hands
 * their messages to the node. Each direction of a pair of nodes thus has its
 * own connection, opened by the sender, and neither side waits for the other.
 */
import type { Logger } from '../log/logger.js';
import type { Message, NodeId } from '../raft/index.js';
import type { PeerSender } from '../node/ports.js';
import { checkBackoffLimits } from './backoff.js';
import type { BackoffLimits } from './backoff.js';
import { encodeFrame, FRAME_BYTES_MAX_DEFAULT, frameSizeBytes } from './frame.js';
import { checkClusterId } from './handshake.js';
import type { PeerAddress } from './peer-link.js';
import { PeerLink } from './peer-link.js';
import { encodeRaftMessage } from './raft-message-codec.js';
import type { NodeTls } from './tls.js';

/** Enough for a few seconds of a busy leader's traffic to one follower that is briefly away. */
export const QUEUE_MESSAGES_MAX_DEFAULT = 4096;
export const QUEUE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
export const RECONNECT_DELAY_MS_MIN_DEFAULT = 50;
/** Well under an election timeout's worth of seconds, so a restarted peer is found again quickly. */
export const RECONNECT_DELAY_MS_MAX_DEFAULT = 2_000;
export const CONNECT_TIMEOUT_MS_DEFAULT = 5_000;

export interface TcpPeerTransportOptions {
  readonly selfId: NodeId;
  readonly clusterId: string;
  /** The cluster's auth token, sent in every hello: peers started with one refuse connections without it. */
  readonly authToken?: string;
  /** Where each other member listens. This node's own id, if present, is ignored. */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  readonly logger: Logger;
  /** Messages waiting for one peer at most; more are dropped (and counted). */
  readonly queueMessagesMax?: number;
  /** Bytes waiting for one peer at most; more are dropped (and counted). */
  readonly queueBytesMax?: number;
  readonly reconnectDelayMsMin?: number;
  readonly reconnectDelayMsMax?: number;
  readonly connectTimeoutMs?: number;
  /** The largest frame to send: must not exceed the receivers' limit, which would close the connection. */
  readonly frameBytesMax?: number;
  /** Source of the reconnect jitter, in [0, 1). */
  readonly random?: () => number;
  /** Told of each batch of messages handed to a peer's socket, with its bytes (metrics). */
  readonly onSent?: (messageCount: number, sizeBytes: number) => void;
  /** Connect to peers with TLS (mutual: this node presents tls.cert); plaintext when absent. */
  readonly tls?: NodeTls;
}

export interface PeerTransportCounters {
  /** Messages handed to a socket (not necessarily received: a connection may break after that). */
  readonly messagesSent: number;
  /** Messages dropped: queue full, unknown peer, over the frame size limit, or transport closed. */
  readonly messagesDropped: number;
  /** Connection attempts after the first one to each peer. */
  readonly reconnects: number;
}

export class TcpPeerTransport implements PeerSender {
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly counts = { messagesSent: 0, messagesDropped: 0, reconnects: 0 };
  /** Peers already warned about, so that a missing address costs one log line, not one per heartbeat. */
  private readonly unknownPeersWarned = new Set<NodeId>();
  private readonly frameBytesMax: number;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: TcpPeerTransportOptions) {
    checkClusterId(options.clusterId);
    checkBackoffLimits(this.backoffLimits());
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    this.logger = options.logger.child({ component: 'peerTransport', node: options.selfId });
    for (const [peerId, address] of options.peers) this.setPeer(peerId, address);
  }

  get counters(): PeerTransportCounters {
    return { ...this.counts };
  }

  send(message: Message): void {
    if (message.from !== this.options.selfId) {
      throw new Error(`node ${this.options.selfId} was asked to send a message from node ${message.from}`);
    }
    const link = this.links.get(message.to);
    if (this.closed || link === undefined) {
      this.drop(message, this.closed ? 'the transport is closed' : 'no address is known for this peer');
      return;
    }
    const frame = encodeFrame('raftMessage', encodeRaftMessage(message));
    const frameBytes = frameSizeBytes(frame);
    if (frameBytes > this.frameBytesMax) {
      this.drop(message, `its frame of ${frameBytes} bytes is over the limit of ${this.frameBytesMax} bytes`);
      return;
    }
    if (!link.send(frame)) this.counts.messagesDropped++;
  }

  /** Writes every peer's queued frames now rather than at the end of this event-loop turn. */
  flush(): void {
    for (const link of this.links.values()) link.flushNow();
  }

  /** Adds a peer, or moves one to a new address (its queued messages are dropped with the old link). */
  setPeer(peerId: NodeId, address: PeerAddress): void {
    if (peerId === this.options.selfId || this.closed) return;
    this.links.get(peerId)?.close();
    this.unknownPeersWarned.delete(peerId);
    this.links.set(peerId, this.createLink(peerId, address));
  }

  removePeer(peerId: NodeId): void {
    this.links.get(peerId)?.close();
    this.links.delete(peerId);
  }

  /** Closes every connection; later messages are dropped. */
  close(): void {
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  private createLink(peerId: NodeId, address: PeerAddress): PeerLink {
    return new PeerLink({
      selfId: this.options.selfId,
      peerId,
      address,
      clusterId: this.options.clusterId,
      token: this.options.authToken ?? null,
      logger: this.logger,
      queueLimits: {
        framesMax: this.options.queueMessagesMax ?? QUEUE_MESSAGES_MAX_DEFAULT,
        bytesMax: this.options.queueBytesMax ?? QUEUE_BYTES_MAX_DEFAULT,
      },
      backoff: this.backoffLimits(),
      connectTimeoutMs: this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT,
      frameBytesMax: this.frameBytesMax,
      random: this.options.random ?? Math.random,
      onSent: (frameCount, sizeBytes) => {
        this.counts.messagesSent += frameCount;
        this.tellSent(frameCount, sizeBytes);
      },
      onReconnect: () => {
        this.counts.reconnects++;
      },
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
    });
  }

  /** A throwing observer is ignored: it would otherwise escape from the queue's flush as an uncaught exception. */
  private tellSent(messageCount: number, sizeBytes: number): void {
    const onSent = this.options.onSent;
    if (onSent === undefined) return;
    try {
      onSent(messageCount, sizeBytes);
    } catch {
      // See above.
    }
  }

  private backoffLimits(): BackoffLimits {
    return {
      delayMsMin: this.options.reconnectDelayMsMin ?? RECONNECT_DELAY_MS_MIN_DEFAULT,
      delayMsMax: this.options.reconnectDelayMsMax ?? RECONNECT_DELAY_MS_MAX_DEFAULT,
    };
  }

  private drop(message: Message, why: string): void {
    this.counts.messagesDropped++;
    if (this.closed || this.unknownPeersWarned.has(message.to)) return;
    if (this.links.has(message.to)) {
      this.logger.warn({ peer: message.to, type: message.type }, `dropped a message: ${why}`);
    } else {
      this.unknownPeersWarned.add(message.to);
      this.logger.warn({ peer: message.to }, `dropped a message: ${why} (said once per peer)`);
    }
  }
}
