/**
 * The client of a sharded cluster: it routes each key to the replica group
 * that serves the key's bucket, as the meta group's config says, and keeps
 * the exactly-once promise across groups and bucket moves.
 *
 * key -> bucket: CRC32 of the key modulo the bucket count (src/shard/bucket).
 * bucket -> group: from a cached config; a group that answers wrongGroup (the
 * bucket moved, or is still on its way) makes the client fetch the latest
 * config and send the same bytes again, so the same client id and sequence:
 * a write that a group applied before its bucket moved is answered from the
 * dedup entries that moved with the bucket, not applied twice.
 *
 * One client is one session: its calls run one after another (see
 * ClientSession). Make one per concurrent worker; they can share a channel
 * and a MetaClient each.
 */
import { decodeCommand, encodeCommand } from '../kv/command-codec.js';
import { countOf } from '../kv/count-keys.js';
import type { KvError, KvKeyCommand, KvOk } from '../kv/commands.js';
import type { GroupId, MemberInfo, ShardConfig } from '../meta/config.js';
import { findGroup, UNASSIGNED } from '../meta/config.js';
import type { NodeId } from '../raft/index.js';
import { bucketOf } from '../shard/bucket.js';
import { decodeShardReply, isShardError } from '../shard/reply-codec.js';
import type { ClientClock, GroupChannel } from './channel.js';
import { ClientError } from './errors.js';
import { GroupClient } from './group-client.js';
import type { MetaClient } from './meta-client.js';
import { KvOperations } from './kv-operations.js';

export interface ShardedKvClientOptions {
  /** Where configs come from. */
  readonly meta: Pick<MetaClient, 'query'>;
  /** Reaches any member of any group by node id. */
  readonly channel: GroupChannel;
  readonly clock: ClientClock;
  /** Unique among all clients of the cluster, ever. */
  readonly clientId: string;
  readonly random: () => number;
  /** A call that has no answer after this long fails with deadlineExceeded. */
  readonly deadlineMs?: number;
  readonly attemptTimeoutMs?: number;
  /** Told the members of every config fetched, so that a TCP channel can learn where they listen. */
  readonly learnAddresses?: (members: readonly MemberInfo[]) => void;
}

const DEADLINE_MS_DEFAULT = 10_000;
/** One group gets this long to answer before the client looks at the config again. */
const GROUP_DEADLINE_MS = 2_000;
/** Waits before asking for the config again after a wrongGroup: a change in progress takes a few polls. */
const REFRESH_BACKOFF_MS_MIN = 20;
const REFRESH_BACKOFF_MS_MAX = 500;

export class ShardedKvClient extends KvOperations {
  private config: ShardConfig | null = null;
  /** One GroupClient per group and member list: it remembers that group's leader. */
  private readonly groups = new Map<GroupId, { key: string; client: GroupClient }>();
  private readonly deadlineMs: number;

  constructor(private readonly options: ShardedKvClientOptions) {
    super(options.clientId);
    this.deadlineMs = options.deadlineMs ?? DEADLINE_MS_DEFAULT;
  }

  /** The config this client routes by, if it fetched one. */
  get cachedConfig(): ShardConfig | null {
    return this.config;
  }

  close(): void {
    for (const { client } of this.groups.values()) client.close();
  }

  /** Sends the command to the group of its key until one serves it or the deadline passes. */
  /**
   * Asks every group that the latest config gives buckets for its count. A
   * bucket on its way between groups is served by neither, so its keys are
   * missing from the sum until it lands.
   */
  protected async sendCount(): Promise<number> {
    const config = await this.refreshConfig();
    const payload = encodeCommand({ type: 'count' });
    const owners = [...new Set(config.buckets)].filter((gid) => gid !== UNASSIGNED);
    let count = 0;
    for (const gid of owners) {
      const reply = decodeShardReply(await this.groupClient(config, gid).call({ payload, kind: 'read', stale: false }));
      // A group counts the buckets it serves and refuses nothing: anything else is a bug of one side.
      if (!reply.ok) throw new Error(`group ${gid} answered a count with ${reply.error.code}: ${reply.error.message}`);
      count += countOf(reply);
    }
    return count;
  }

  protected async send(command: KvKeyCommand, stale: boolean): Promise<KvOk> {
    const { clock } = this.options;
    const payload = encodeCommand(command);
    // A command this client built must decode: better to fail here than to send a group garbage.
    decodeCommand(payload);
    const kind = command.type === 'get' ? 'read' : 'write';
    const deadlineAtMs = clock.nowMs() + this.deadlineMs;
    let lastProblem = 'no group was asked';
    let refreshes = 0;
    while (clock.nowMs() < deadlineAtMs) {
      const config = this.config ?? (await this.refreshConfig());
      const gid =
        config.buckets.length === 0 ? UNASSIGNED : config.buckets[bucketOf(command.key, config.buckets.length)]!;
      if (gid === UNASSIGNED) {
        lastProblem = `no group serves the key's bucket in config version ${config.version}`;
      } else {
        try {
          const reply = decodeShardReply(await this.groupClient(config, gid).call({ payload, kind, stale }));
          if (reply.ok) return reply;
          if (!isShardError(reply)) {
            // Not a routing problem: the KV layer refused the command itself (a limit, a cas mismatch).
            const refusal = reply.error as KvError;
            throw new ClientError(refusal.code, refusal.message);
          }
          // Only wrongGroup is an answer to a client's KV command; anything else is a bug of one side.
          if (reply.error.code !== 'wrongGroup') {
            throw new Error(`group ${gid} answered a KV command with ${reply.error.code}: ${reply.error.message}`);
          }
          lastProblem = reply.error.message;
        } catch (error) {
          // A group that does not answer in time may have been replaced: look at the config again.
          if (!(error instanceof ClientError) || error.code !== 'deadlineExceeded') throw error;
          lastProblem = error.message;
        }
      }
      refreshes += 1;
      await clock.sleep(this.backoffMs(refreshes));
      await this.refreshConfig();
    }
    throw new ClientError(
      'deadlineExceeded',
      `no group served the request within ${this.deadlineMs} ms (last: ${lastProblem}); ` +
        (kind === 'read' ? 'retry the read' : 'the write may or may not have been applied'),
    );
  }

  private async refreshConfig(): Promise<ShardConfig> {
    const config = await this.options.meta.query(null);
    this.config = config;
    this.options.learnAddresses?.(config.groups.flatMap((group) => group.members));
    return config;
  }

  private groupClient(config: ShardConfig, gid: GroupId): GroupClient {
    const members: NodeId[] = (findGroup(config, gid)?.members ?? []).map((member) => member.id);
    const key = members.join(',');
    const known = this.groups.get(gid);
    if (known !== undefined && known.key === key) return known.client;
    known?.client.close();
    const client = new GroupClient({
      service: 'kv',
      members,
      channel: this.options.channel,
      clock: this.options.clock,
      random: this.options.random,
      deadlineMs: GROUP_DEADLINE_MS,
      ...(this.options.attemptTimeoutMs === undefined ? {} : { attemptTimeoutMs: this.options.attemptTimeoutMs }),
    });
    this.groups.set(gid, { key, client });
    return client;
  }

  private backoffMs(refreshes: number): number {
    const ceilingMs = Math.min(REFRESH_BACKOFF_MS_MAX, REFRESH_BACKOFF_MS_MIN * 2 ** Math.min(refreshes, 8));
    return REFRESH_BACKOFF_MS_MIN + this.options.random() * (ceilingMs - REFRESH_BACKOFF_MS_MIN);
  }
}
