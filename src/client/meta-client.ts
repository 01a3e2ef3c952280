/**
 * The client of the meta group: join, leave, move and setMembers change the
 * config table exactly once however often they are resent (each carries this
 * client's id and a sequence number); query reads a config, the latest or a
 * given version. Like KvClient it is one session whose calls run one after
 * another; finding the leader and retrying is GroupClient's job. A refusal
 * of the table throws MetaRefusedError; no answer in time throws ClientError.
 */
import type { BucketId, GroupId, GroupInfo, MemberInfo, ShardConfig } from '../meta/config.js';
import { decodeMetaCommand, decodeMetaReply, encodeMetaCommand } from '../meta/command-codec.js';
import type { ClientStamp, MetaCommand, MetaWriteCommand } from '../meta/commands.js';
import type { NodeId } from '../raft/index.js';
import type { ClientClock, GroupChannel } from './channel.js';
import { MetaRefusedError } from './errors.js';
import { GroupClient } from './group-client.js';
import { ClientSession } from './session.js';

export interface MetaClientOptions {
  /** Ids of the meta group's members; the channel knows how to reach each. */
  readonly members: readonly NodeId[];
  readonly channel: GroupChannel;
  readonly clock: ClientClock;
  /** Unique among all clients of the meta group, ever. */
  readonly clientId: string;
  readonly random: () => number;
  readonly deadlineMs?: number;
  readonly attemptTimeoutMs?: number;
}

export class MetaClient {
  private readonly group: GroupClient;
  private readonly session: ClientSession;

  constructor(private readonly options: MetaClientOptions) {
    if (options.members.length === 0) throw new Error('MetaClient: the meta group has at least one member');
    this.group = new GroupClient({ ...options, service: 'meta' });
    this.session = new ClientSession(options.clientId);
  }

  get knownLeader(): NodeId | null {
    return this.group.knownLeader;
  }

  /** Adds groups and rebalances; the first join of a cluster fixes its bucket count. Answers the new config. */
  join(groups: readonly GroupInfo[], bucketCount?: number): Promise<ShardConfig> {
    return this.write((stamp) => ({
      type: 'join',
      ...stamp,
      groups,
      ...(bucketCount === undefined ? {} : { bucketCount }),
    }));
  }

  /** Removes groups; their buckets go to the groups that stay. Answers the new config. */
  leave(gids: readonly GroupId[]): Promise<ShardConfig> {
    return this.write((stamp) => ({ type: 'leave', ...stamp, gids }));
  }

  /** Gives buckets fromBucket..toBucket (inclusive) to group `gid`. Answers the new config. */
  move(fromBucket: BucketId, toBucket: BucketId, gid: GroupId): Promise<ShardConfig> {
    return this.write((stamp) => ({ type: 'move', ...stamp, fromBucket, toBucket, gid }));
  }

  /**
   * Sets group `gid`'s member list (once its Raft membership holds them), so
   * that clients and other groups reach them; no bucket moves. Answers the
   * new config, or the latest one when the list was already that.
   */
  setMembers(gid: GroupId, members: readonly MemberInfo[]): Promise<ShardConfig> {
    return this.write((stamp) => ({ type: 'members', ...stamp, gid, members }));
  }

  /** The config of `version`, or the latest; linearizable unless `stale`. */
  query(version: number | null = null, options: { stale?: boolean } = {}): Promise<ShardConfig> {
    return this.session.run(() => this.send({ type: 'query', version }, options.stale === true));
  }

  close(): void {
    this.group.close();
  }

  private write(make: (stamp: ClientStamp) => MetaWriteCommand): Promise<ShardConfig> {
    return this.session.write((stamp) => this.send(make(stamp), false));
  }

  private async send(command: MetaCommand, stale: boolean): Promise<ShardConfig> {
    const payload = encodeMetaCommand(command);
    // A command this client built must decode: check here rather than send the group garbage.
    decodeMetaCommand(payload);
    const kind = command.type === 'query' ? 'read' : 'write';
    const reply = decodeMetaReply(await this.group.call({ payload, kind, stale }));
    if (reply.ok) return reply.config;
    throw new MetaRefusedError(reply.error.code, reply.error.message);
  }
}
