/**
 * Replaces one member of a shard group by a new one, under load, without a
 * moment of reduced fault tolerance: the new member joins as a learner,
 * catches up, becomes a voter (four voters, quorum three), and only then is
 * the old one removed (three voters again). Each step is a single-server
 * change (Raft dissertation §4.1), each idempotent, so a run that was cut
 * short can simply be run again. Last, the meta group learns the group's new
 * member list, so that clients and other groups reach the new member.
 *
 * The new member must be running already with --join (it starts with no
 * membership and waits for the leader to bring it in).
 */
import type { GroupId, MemberInfo, ShardConfig } from '../meta/config.js';
import type { Membership } from '../raft/index.js';
import type { MembershipChangeResult } from '../node/raft-node.js';
import type { MembersRequest } from '../node/members-codec.js';
import type { ClientClock } from './channel.js';
import { ClientError } from './errors.js';
import type { MembersClient } from './members-client.js';
import type { MetaClient } from './meta-client.js';

export interface ReplaceMemberPlan {
  readonly gid: GroupId;
  readonly oldId: number;
  /** Its id, and the address clients and other groups reach it at (the meta config's). */
  readonly newMember: MemberInfo;
  /** Where the group's members reach it, when that differs from newMember.address (a proxy in between). */
  readonly peerAddress?: string;
}

export interface ReplaceMemberParts {
  readonly meta: MetaClient;
  /** Made for the group's members as `config` lists them, plus the new member. */
  readonly group: (members: readonly MemberInfo[]) => MembersClient;
  readonly clock: ClientClock;
  /** Told of each step as it starts, in words (progress lines for the admin). */
  readonly onStep?: (step: string) => void;
  /** How long the new member may take to catch up before the replacement gives up (it can be run again). */
  readonly catchUpDeadlineMs?: number;
}

export interface ReplaceMemberResult {
  readonly membership: Membership;
  readonly config: ShardConfig;
}

/** A step the group refused for good (a wrong id, say): nothing after it was done. */
export class ReplaceMemberError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplaceMemberError';
  }
}

const CATCH_UP_DEADLINE_MS_DEFAULT = 10 * 60_000;
const RETRY_DELAY_MS = 200;

export async function replaceMember(plan: ReplaceMemberPlan, parts: ReplaceMemberParts): Promise<ReplaceMemberResult> {
  const { gid, oldId, newMember } = plan;
  const latest = await parts.meta.query();
  const group = latest.groups.find((candidate) => candidate.gid === gid);
  if (group === undefined)
    throw new ReplaceMemberError(`group ${gid} is not in the latest config (version ${latest.version})`);
  const listed = (id: number): boolean => group.members.some((member) => member.id === id);
  if (!listed(oldId) && listed(newMember.id)) {
    return { membership: { voters: group.members.map((member) => member.id), learners: [] }, config: latest };
  }
  if (!listed(oldId)) throw new ReplaceMemberError(`member ${oldId} is not in group ${gid}: nothing to replace`);
  if (listed(newMember.id)) {
    throw new ReplaceMemberError(`member ${newMember.id} is in group ${gid} already: choose an id no member has`);
  }
  // Ids are unique in the whole cluster: servers and clients keep one address per id for every group.
  const owner = latest.groups.find((candidate) => candidate.members.some((member) => member.id === newMember.id));
  if (owner !== undefined) {
    throw new ReplaceMemberError(
      `member id ${newMember.id} belongs to group ${owner.gid}: choose an id no member of any group has`,
    );
  }
  const client = parts.group([...group.members, newMember]);
  try {
    const deadline = parts.clock.nowMs() + (parts.catchUpDeadlineMs ?? CATCH_UP_DEADLINE_MS_DEFAULT);
    const step = async (request: MembersRequest, what: string): Promise<Membership> => {
      parts.onStep?.(what);
      return (await untilDone(client.change.bind(client, request), what, deadline, parts.clock)).membership;
    };
    await step(
      { type: 'addLearner', node: newMember.id, address: plan.peerAddress ?? newMember.address },
      `adding member ${newMember.id} (${newMember.address}) to group ${gid} as a learner`,
    );
    await step(
      { type: 'promoteLearner', node: newMember.id },
      `waiting for member ${newMember.id} to catch up, then making it a voter`,
    );
    const membership = await step({ type: 'removeNode', node: oldId }, `removing member ${oldId} from group ${gid}`);
    parts.onStep?.(`telling the meta group that group ${gid}'s members are ${membership.voters.join(', ')}`);
    const members = [...group.members.filter((member) => member.id !== oldId), newMember].sort((a, b) => a.id - b.id);
    const config = await parts.meta.setMembers(gid, members);
    return { membership, config };
  } finally {
    client.close();
  }
}

/**
 * Removes member `id` from shard group `gid` for good: from the group's Raft
 * membership, then from the meta group's member list if it is there. For a
 * group that shrinks, or to undo a learner added with a wrong address (a
 * replacement that never caught up): remove it, then replace again.
 */
export async function removeMember(
  plan: { readonly gid: GroupId; readonly id: number },
  parts: ReplaceMemberParts,
): Promise<ReplaceMemberResult> {
  const latest = await parts.meta.query();
  const group = latest.groups.find((candidate) => candidate.gid === plan.gid);
  if (group === undefined) {
    throw new ReplaceMemberError(`group ${plan.gid} is not in the latest config (version ${latest.version})`);
  }
  const client = parts.group(group.members);
  try {
    const what = `removing member ${plan.id} from group ${plan.gid}`;
    parts.onStep?.(what);
    const deadline = parts.clock.nowMs() + (parts.catchUpDeadlineMs ?? CATCH_UP_DEADLINE_MS_DEFAULT);
    const change = client.change.bind(client, { type: 'removeNode', node: plan.id });
    const { membership, changed } = await untilDone(change, what, deadline, parts.clock);
    const members = group.members.filter((member) => member.id !== plan.id);
    if (members.length === group.members.length) {
      // Neither the group's Raft membership nor the config has it: most likely a typo.
      if (!changed) throw new ReplaceMemberError(`member ${plan.id} is not a member of group ${plan.gid}`);
      return { membership, config: latest };
    }
    parts.onStep?.(`telling the meta group that group ${plan.gid}'s members are ${membership.voters.join(', ')}`);
    return { membership, config: await parts.meta.setMembers(plan.gid, members) };
  } finally {
    client.close();
  }
}

/** Resends a change the group put off (another change pending, a learner still behind) until it is done. */
async function untilDone(
  change: () => Promise<MembershipChangeResult>,
  what: string,
  deadlineMs: number,
  clock: ClientClock,
): Promise<{ membership: Membership; changed: boolean }> {
  for (;;) {
    let result: MembershipChangeResult;
    try {
      result = await change();
    } catch (error) {
      // No leader answered in time (an election, a partition): the step is idempotent, so try again.
      if (!(error instanceof ClientError) || error.code !== 'deadlineExceeded') throw error;
      result = { ok: false, reason: 'pending', message: error.message };
    }
    if (result.ok) return result;
    if (result.reason === 'invalid') throw new ReplaceMemberError(`${what}: refused: ${result.message}`);
    if (clock.nowMs() >= deadlineMs) {
      const advice =
        result.reason === 'notCaughtUp'
          ? 'check that the new member runs (with --join) and that its address reaches it; then run the same ' +
            'command again to go on, or take the learner out with raftkv admin remove-member'
          : 'run the same command again to go on';
      throw new ReplaceMemberError(`${what}: still not done when the deadline passed (${result.message}); ${advice}`);
    }
    await clock.sleep(RETRY_DELAY_MS);
  }
}
