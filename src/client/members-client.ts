/**
 * The client of a group's 'members' service: one membership change at a
 * time, sent to whichever member leads (GroupClient finds it and retries
 * through leader changes). Each change is idempotent at the leader (a change
 * already made answers done), so resending one after a lost answer is safe.
 */
import type { MembershipChangeResult } from '../node/raft-node.js';
import type { MembersRequest } from '../node/members-codec.js';
import { decodeMembersReply, encodeMembersRequest } from '../node/members-codec.js';
import type { NodeId } from '../raft/index.js';
import type { MemberInfo } from '../meta/config.js';
import type { ClientTls } from '../transport/index.js';
import { parseAddress } from '../transport/index.js';
import type { ClientClock, GroupChannel } from './channel.js';
import { realClientClock } from './channel.js';
import { TcpGroupChannel } from './tcp-channel.js';
import { GroupClient } from './group-client.js';

export interface MembersClientOptions {
  /** Ids of the group's members (a joining one included); the channel knows how to reach each. */
  readonly members: readonly NodeId[];
  /** Made for this client alone: close() closes it. */
  readonly channel: GroupChannel;
  readonly clock: ClientClock;
  readonly random: () => number;
  readonly deadlineMs?: number;
}

/** How to reach a cluster's nodes, for forMembers(). */
export interface MembersAccess {
  readonly clusterId: string;
  /** The cluster's auth token, when its nodes ask for one. */
  readonly token?: string;
  readonly tls?: ClientTls;
  /** A change not answered by a leader after this long fails with deadlineExceeded. */
  readonly deadlineMs: number;
}

export class MembersClient {
  private readonly group: GroupClient;

  constructor(private readonly options: MembersClientOptions) {
    this.group = new GroupClient({ ...options, service: 'members' });
  }

  /** A client of the group whose members `members` lists (as configs write them), over connections of its own. */
  static forMembers(members: readonly MemberInfo[], access: MembersAccess): MembersClient {
    const { clusterId, token, tls, deadlineMs } = access;
    return new MembersClient({
      members: members.map((member) => member.id),
      channel: new TcpGroupChannel({
        members: new Map(members.map((member) => [member.id, parseAddress(member.address)])),
        clusterId,
        ...(token === undefined ? {} : { token }),
        ...(tls === undefined ? {} : { tls }),
      }),
      clock: realClientClock,
      random: Math.random,
      deadlineMs,
    });
  }

  /** Throws ClientError when no leader answers before the deadline; a refusal is an answer. */
  async change(request: MembersRequest): Promise<MembershipChangeResult> {
    return decodeMembersReply(await this.group.call({ payload: encodeMembersRequest(request), kind: 'write' }));
  }

  close(): void {
    this.group.close();
    this.options.channel.close();
  }
}
