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
 * once its removal is applied, and only if no later addLearner brought it
 * back (a member removed and added again, whose removal is applied after
 * the new addition was appended), and a failure to save the file is logged,
 * not fatal: the node replays its log's config entries at every start.
 * At start the flag wins over the file: an operator who moved a member says
 * so in the flag; afterwards what the log says wins.
 *
 * A member that got the addLearner inside a snapshot never sees the entry;
 * shard members also learn their own group's addresses from the meta
 * group's configs (learn()), which list the new member once it is a voter.
 */
import path from 'node:path';
import { addressProblem } from '../meta/member-address.js';
import type { Logger } from '../log/logger.js';
import type { MembershipListener } from '../node/index.js';
import type { ConfigChange, LogIndex, NodeId } from '../raft/index.js';
import { readFileIfExists, writeFileAtomic } from '../storage/index.js';
import type { PeerAddress } from '../transport/index.js';
import { formatAddress, parseAddress } from '../transport/index.js';

const FILE_NAME = 'peers.json';
const FORMAT_VERSION = 1;

/** A learnt address, and the index of the addLearner entry that said it (0: from a config). */
interface Learnt {
  readonly address: string;
  readonly index: LogIndex;
}

/** What the book changes when membership changes: the peer transport. */
export interface PeerRoutes {
  setPeer(peerId: NodeId, address: PeerAddress): void;
  removePeer(peerId: NodeId): void;
}

export class PeerAddressBook implements MembershipListener {
  /** Addresses learnt from the log or configs (not the flag's), as saved. */
  private readonly learnt: Map<NodeId, Learnt>;
  private readonly current = new Map<NodeId, string>();
  /** Saves in order, one after the other. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly selfId: NodeId,
    private readonly routes: PeerRoutes,
    private readonly logger: Logger,
    learnt: Map<NodeId, Learnt>,
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
    for (const [id, { address }] of learnt) {
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

  appended(change: ConfigChange, index: LogIndex): void {
    if (change.type !== 'addLearner' || change.address === undefined) return;
    this.learn(change.node, change.address, index);
  }

  applied(change: ConfigChange, index: LogIndex): void {
    if (change.type !== 'removeNode' || change.node === this.selfId) return;
    const learnt = this.learnt.get(change.node);
    if (learnt !== undefined && learnt.index > index) return; // added again since
    this.current.delete(change.node);
    this.routes.removePeer(change.node);
    if (this.learnt.delete(change.node)) this.save();
  }

  /**
   * Takes `address` for member `id`, said by the addLearner entry at
   * `index`, or by a config of the meta group (index 0: it never overrides
   * what the log said).
   */
  learn(id: NodeId, address: string, index: LogIndex = 0): void {
    if (id === this.selfId) return;
    const problem = addressProblem(address);
    if (problem !== null) {
      this.logger.warn({ peer: id, address }, `ignored a member's address: ${problem}`);
      return;
    }
    const known = this.learnt.get(id);
    if (known !== undefined && known.index > index) return; // the log said otherwise since
    if (index === 0 && this.current.has(id)) return; // a config only fills in members not known at all
    const moved = this.current.get(id) !== address;
    if (!moved && known?.index === index) return;
    this.current.set(id, address);
    this.learnt.set(id, { address, index });
    if (moved) {
      this.routes.setPeer(id, parseAddress(address));
      this.logger.info({ peer: id, address }, 'learnt the address of a new member');
    }
    this.save();
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

async function readLearnt(file: string, logger: Logger): Promise<Map<NodeId, Learnt>> {
  const learnt = new Map<NodeId, Learnt>();
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
    for (const [id, value] of Object.entries(parsed.peers as Record<string, unknown>)) {
      const { address, index } = (typeof value === 'object' && value !== null ? value : {}) as Partial<Learnt>;
      const sound = typeof address === 'string' && addressProblem(address) === null && Number.isSafeInteger(index);
      if (sound && /^[0-9]+$/.test(id)) learnt.set(Number(id), { address, index: index! });
    }
  } catch (error) {
    logger.warn({ file, err: error }, 'ignored a damaged file of learnt peer addresses; using --members only');
  }
  return learnt;
}
