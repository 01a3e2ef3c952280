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
import type { ClientClock, GroupChannel } from './channel.js';
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

export class MembersClient {
  private readonly group: GroupClient;

  constructor(private readonly options: MembersClientOptions) {
    this.group = new GroupClient({ ...options, service: 'members' });
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
