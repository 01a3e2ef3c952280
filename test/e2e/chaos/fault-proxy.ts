/**
 * A fault-injecting TCP proxy for the peer traffic of real processes. Every
 * member of a group is told, in its own --members flag, that each peer
 * listens on a port of this proxy that belongs to that one directed link
 * (from -> to); the proxy forwards the link's connections to the peer's real
 * port. Cutting a link refuses its new connections and destroys the open
 * ones, so a partition is a set of cut links, and healing it reopens them.
 *
 * A member added later (a membership change) is reached by every peer at
 * one address, the one its addLearner entry carries: an inbound link set
 * (addInboundLinks) serves all directions into it on one port and tells
 * the senders apart by the node id of their hello frame.
 *
 * Only Raft traffic between members goes through here: clients, other
 * groups and the meta group's clients reach every node at its real port (the
 * meta config holds those), so a partition isolates a member from its group,
 * not from the rest of the world, which is what a Raft group must survive.
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import { decodeHello } from '../../../src/transport/handshake.js';
import { FrameDecoder } from '../../../src/transport/index.js';

export interface LinkEnds {
  readonly from: number;
  readonly to: number;
}

interface Link extends LinkEnds {
  readonly server: net.Server;
  readonly targetPort: number;
  cut: boolean;
  /** Both sockets of every connection the link carries now, to destroy when it is cut. */
  readonly open: Set<Socket>;
}

function linkKey(from: number, to: number): string {
  return `${from}->${to}`;
}

export class FaultProxy {
  private readonly links = new Map<string, Link>();

  constructor(private readonly host: string) {}

  /**
   * Listens on `listenPort` (0: any free port) for link from -> to,
   * forwarding to `targetPort`; answers the port once it listens.
   */
  async addLink(from: number, to: number, listenPort: number, targetPort: number): Promise<number> {
    const key = linkKey(from, to);
    if (this.links.has(key)) throw new Error(`the proxy already carries link ${key}`);
    const server = net.createServer();
    const link: Link = { from, to, server, targetPort, cut: false, open: new Set() };
    server.on('connection', (socket) => this.accept(link, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: listenPort, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.links.set(key, link);
    return (server.address() as net.AddressInfo).port;
  }

  /**
   * Listens on one free port for the links from each of `froms` to `to`,
   * forwarding to `targetPort`; each connection's sender is read from its
   * hello frame, and the connection is then treated as that link's. Answers
   * the port.
   */
  async addInboundLinks(to: number, froms: readonly number[], targetPort: number): Promise<number> {
    const server = net.createServer();
    for (const from of froms) {
      const key = linkKey(from, to);
      if (this.links.has(key)) throw new Error(`the proxy already carries link ${key}`);
      this.links.set(key, { from, to, server, targetPort, cut: false, open: new Set() });
    }
    server.on('connection', (socket) => this.identify(to, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: 0, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as net.AddressInfo).port;
  }

  /** Cuts both directions between every member of `side` and every member of `others`. */
  cutBetween(side: readonly number[], others: readonly number[]): LinkEnds[] {
    const cut: LinkEnds[] = [];
    for (const a of side) {
      for (const b of others) {
        if (this.cut(a, b)) cut.push({ from: a, to: b });
        if (this.cut(b, a)) cut.push({ from: b, to: a });
      }
    }
    return cut;
  }

  /** Reopens every link. */
  healAll(): void {
    for (const link of this.links.values()) link.cut = false;
  }

  get linkCount(): number {
    return this.links.size;
  }

  /** The links cut now, for a report or a check. */
  get cutLinks(): LinkEnds[] {
    return [...this.links.values()].filter((link) => link.cut).map(({ from, to }) => ({ from, to }));
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) for (const socket of link.open) socket.destroy();
    const servers = [...new Set([...this.links.values()].map((link) => link.server))].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    this.links.clear();
    await Promise.all(servers);
  }

  private cut(from: number, to: number): boolean {
    const link = this.links.get(linkKey(from, to));
    if (link === undefined) return false;
    link.cut = true;
    for (const socket of link.open) socket.destroy();
    link.open.clear();
    return true;
  }

  /** Reads the hello of a connection into `to` to learn which link it is, then forwards it as that link's. */
  private identify(to: number, inbound: Socket): void {
    const decoder = new FrameDecoder();
    const received: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      received.push(chunk);
      let from: number | null = null;
      try {
        const [first] = decoder.push(chunk);
        if (first === undefined) return;
        const hello = decodeHello(first.payload);
        if (hello.role === 'peer') from = hello.fromNodeId;
      } catch {
        // Not a peer's hello: nothing this proxy forwards.
      }
      inbound.off('data', onData);
      inbound.pause();
      const link = from === null ? undefined : this.links.get(linkKey(from, to));
      if (link === undefined) {
        inbound.destroy();
        return;
      }
      this.accept(link, inbound, Buffer.concat(received));
    };
    inbound.on('data', onData);
    inbound.on('error', () => inbound.destroy());
  }

  private accept(link: Link, inbound: Socket, alreadyRead: Buffer | null = null): void {
    if (link.cut) {
      // A reset, as a dropped route eventually gives: the sender backs off and tries again.
      inbound.resetAndDestroy();
      return;
    }
    const outbound = net.createConnection({ host: this.host, port: link.targetPort, noDelay: true });
    inbound.setNoDelay(true);
    link.open.add(inbound);
    link.open.add(outbound);
    const closeBoth = (): void => {
      link.open.delete(inbound);
      link.open.delete(outbound);
      inbound.destroy();
      outbound.destroy();
    };
    // A peer that is down or restarting refuses the connection: the sender sees its link close, as without a proxy.
    inbound.on('error', closeBoth);
    outbound.on('error', closeBoth);
    inbound.on('close', closeBoth);
    outbound.on('close', closeBoth);
    if (alreadyRead !== null) outbound.write(alreadyRead);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  }
}
