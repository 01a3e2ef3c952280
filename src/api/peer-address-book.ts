/**
 * Where this member reaches its peers, kept up to date as the group's
 * membership changes. A process starts with the addresses of its --members
 * flag; a member added later reaches the others through the address its
 * addLearner entry carries (the log is how every member hears of it), and
 * the book remembers such learnt addresses in DIR/peers.json, so that a
 * restart with the old flag still reaches the new member.
 *
 * Addresses are a matter of liveness, never of safety: a wrong or missing
 * one makes a peer unreachable, which Raft survives. So a learnt address is
 * taken as soon as its entry is appended (an entry that is later
 * overwritten leaves an address nobody sends to), a peer is forgotten only
 * once its removal is applied, and a failure to save the file is logged, not
 * fatal. The flag wins over the file: an operator who moved a member says so
 * in the flag.
 */
import path from 'node:path';
import { addressProblem } from '../meta/member-address.js';
import type { Logger } from '../log/logger.js';
import type { MembershipListener } from '../node/index.js';
import type { ConfigChange, NodeId } from '../raft/index.js';
import { readFileIfExists, writeFileAtomic } from '../storage/index.js';
import type { PeerAddress } from '../transport/index.js';
import { formatAddress } from '../transport/index.js';
import { parseAddress } from '../client/status-client.js';

const FILE_NAME = 'peers.json';
const FORMAT_VERSION = 1;

/** What the book changes when membership changes: the peer transport. */
export interface PeerRoutes {
  setPeer(peerId: NodeId, address: PeerAddress): void;
  removePeer(peerId: NodeId): void;
}

export class PeerAddressBook implements MembershipListener {
  /** Addresses learnt from the log (not the flag's), as saved. */
  private readonly learnt: Map<NodeId, string>;
  private readonly current = new Map<NodeId, string>();
  /** Saves in order, one after the other. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly selfId: NodeId,
    private readonly routes: PeerRoutes,
    private readonly logger: Logger,
    learnt: Map<NodeId, string>,
  ) {
    this.learnt = learnt;
  }

  /**
   * Reads DIR/peers.json and gives `routes` every address the flag does not
   * have. A file that cannot be read is logged and ignored: the flag's
   * addresses still work, and the next change rewrites it.
   */
  static async open(
    directory: string,
    selfId: NodeId,
    flagPeers: ReadonlyMap<NodeId, PeerAddress>,
    routes: PeerRoutes,
    logger: Logger,
  ): Promise<PeerAddressBook> {
    const file = path.join(directory, FILE_NAME);
    const learnt = await readLearnt(file, logger);
    const book = new PeerAddressBook(file, selfId, routes, logger, learnt);
    for (const [id, address] of flagPeers) book.current.set(id, formatAddress(address));
    for (const [id, address] of learnt) {
      if (!book.current.has(id) && id !== selfId) {
        book.current.set(id, address);
        routes.setPeer(id, parseAddress(address));
      }
    }
    return book;
  }

  /** Every peer address known now (the flag's and the learnt ones), by id. */
  get addresses(): ReadonlyMap<NodeId, string> {
    return this.current;
  }

  appended(change: ConfigChange): void {
    if (change.type !== 'addLearner' || change.address === undefined || change.node === this.selfId) return;
    const problem = addressProblem(change.address);
    if (problem !== null) {
      this.logger.warn({ peer: change.node, address: change.address }, `ignored a learner's address: ${problem}`);
      return;
    }
    if (this.current.get(change.node) === change.address) return;
    this.current.set(change.node, change.address);
    this.learnt.set(change.node, change.address);
    this.routes.setPeer(change.node, parseAddress(change.address));
    this.logger.info({ peer: change.node, address: change.address }, 'learnt the address of a new member');
    this.save();
  }

  applied(change: ConfigChange): void {
    if (change.type !== 'removeNode' || change.node === this.selfId) return;
    this.current.delete(change.node);
    this.routes.removePeer(change.node);
    if (this.learnt.delete(change.node)) this.save();
  }

  /** Resolves once every save asked for so far is done (tests, and close). */
  flushed(): Promise<void> {
    return this.saving;
  }

  private save(): void {
    const body = { version: FORMAT_VERSION, peers: Object.fromEntries(this.learnt) };
    const bytes = Buffer.from(`${JSON.stringify(body)}\n`, 'utf8');
    this.saving = this.saving
      .then(() => writeFileAtomic(this.file, bytes))
      .catch((error: unknown) => {
        this.logger.warn(
          { file: this.file, err: error },
          'could not save the learnt peer addresses; a restart may not reach members added since it started',
        );
      });
  }
}

async function readLearnt(file: string, logger: Logger): Promise<Map<NodeId, string>> {
  const learnt = new Map<NodeId, string>();
  let text: string | null;
  try {
    text = (await readFileIfExists(file))?.toString('utf8') ?? null;
  } catch (error) {
    logger.warn({ file, err: error }, 'could not read the learnt peer addresses; using --members only');
    return learnt;
  }
  if (text === null) return learnt;
  try {
    const parsed = JSON.parse(text) as { version?: unknown; peers?: unknown };
    if (parsed.version !== FORMAT_VERSION || typeof parsed.peers !== 'object' || parsed.peers === null) {
      throw new Error(`not a version ${FORMAT_VERSION} address book`);
    }
    for (const [id, address] of Object.entries(parsed.peers)) {
      if (typeof address === 'string' && addressProblem(address) === null && /^[0-9]+$/.test(id)) {
        learnt.set(Number(id), address);
      }
    }
  } catch (error) {
    logger.warn({ file, err: error }, 'ignored a damaged file of learnt peer addresses; using --members only');
  }
  return learnt;
}
