/**
 * How many connections a TcpServer holds, by what they are: peers, clients,
 * and strangers that have not said hello yet. Each kind has its own limit,
 * so that no kind can crowd out another: a flood of client connections fills
 * the client slots and stops there, and a peer reconnecting after a
 * partition still gets one of the peer slots (Raft needs its peers; a client
 * can retry elsewhere).
 *
 * A stranger's role is unknown until its hello, so the pending slots must not
 * be a way in for a flood either: when they are full, the oldest stranger is
 * let go to make room for the newest, rather than the newest refused. A
 * silent flood then only ever holds the pending slots for a moment each, and
 * a peer that says hello at once (as ours do) gets through it.
 */

export interface ConnectionLimits {
  /** Connections that said hello as a peer. */
  readonly peersMax: number;
  /** Connections that said hello as a client. */
  readonly clientsMax: number;
  /** Connections that have not said hello yet. */
  readonly pendingMax: number;
}

export type ConnectionRole = 'peer' | 'client';

export class ConnectionSlots<C> {
  /** Insertion order is arrival order: the first is the oldest, the one to let go. */
  private readonly pending = new Set<C>();
  private readonly peers = new Set<C>();
  private readonly clients = new Set<C>();

  constructor(private readonly limits: ConnectionLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new Error(`${name} must be a positive integer, got ${value}`);
    }
  }

  /** A new connection, before its hello. Returns the oldest pending connection to close for it, if the slots are full. */
  arrive(connection: C): C | null {
    let evicted: C | null = null;
    if (this.pending.size >= this.limits.pendingMax) {
      evicted = this.pending.values().next().value ?? null;
      if (evicted !== null) this.pending.delete(evicted);
    }
    this.pending.add(connection);
    return evicted;
  }

  /** Its hello: takes a slot of `role`, or says why there is none (the caller refuses the connection with it). */
  admit(connection: C, role: ConnectionRole): string | null {
    this.pending.delete(connection);
    const [slots, slotsMax] =
      role === 'peer' ? [this.peers, this.limits.peersMax] : [this.clients, this.limits.clientsMax];
    if (slots.size >= slotsMax) {
      return role === 'peer'
        ? `this node has ${slots.size} peer connections, its limit: close stale ones or raise peerConnectionsMax`
        : `this node has ${slots.size} client connections, its limit: retry later or on another member, ` +
            'close idle clients, or raise clientConnectionsMax';
    }
    slots.add(connection);
    return null;
  }

  /** The connection closed: its slot is free. */
  leave(connection: C): void {
    this.pending.delete(connection);
    this.peers.delete(connection);
    this.clients.delete(connection);
  }

  get counts(): { readonly pending: number; readonly peers: number; readonly clients: number } {
    return { pending: this.pending.size, peers: this.peers.size, clients: this.clients.size };
  }
}
