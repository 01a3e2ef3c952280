/** Driving one MetaStateMachine by hand, entry by entry, as a node would. */
import assert from 'node:assert/strict';
import type {
  GroupId,
  GroupInfo,
  MemberInfo,
  MetaCommand,
  MetaError,
  MetaErrorCode,
  MetaReply,
  MetaStateMachineOptions,
  ShardConfig,
} from '../../../src/meta/index.js';
import { encodeMetaCommand, MetaStateMachine } from '../../../src/meta/index.js';

export { groupInfo } from '../../support/meta-sim.js';

export class MachineDriver {
  readonly machine: MetaStateMachine;
  private sequences = new Map<string, number>();

  constructor(options: MetaStateMachineOptions = {}) {
    this.machine = new MetaStateMachine(options);
  }

  /** Applies one command as the next log entry. */
  async apply(command: MetaCommand): Promise<MetaReply> {
    return this.applyBytes(encodeMetaCommand(command));
  }

  async applyBytes(bytes: Uint8Array): Promise<MetaReply> {
    const index = this.machine.appliedIndex + 1;
    const [reply] = await this.machine.applyBatch([{ index, term: 1, command: bytes }]);
    assert.ok(reply !== undefined);
    return reply;
  }

  async noop(): Promise<void> {
    const index = this.machine.appliedIndex + 1;
    assert.deepEqual(await this.machine.applyBatch([{ index, term: 1, command: null }]), [undefined]);
  }

  /** The next stamp of `clientId` (each client counts from 1). */
  stamp(clientId = 'admin'): { clientId: string; sequence: number } {
    const sequence = (this.sequences.get(clientId) ?? 0) + 1;
    this.sequences.set(clientId, sequence);
    return { clientId, sequence };
  }

  join(groups: GroupInfo[], bucketCount?: number, clientId?: string): Promise<MetaReply> {
    return this.apply({
      type: 'join',
      ...this.stamp(clientId),
      groups,
      ...(bucketCount === undefined ? {} : { bucketCount }),
    });
  }

  leave(gids: GroupId[], clientId?: string): Promise<MetaReply> {
    return this.apply({ type: 'leave', ...this.stamp(clientId), gids });
  }

  move(fromBucket: number, toBucket: number, gid: GroupId, clientId?: string): Promise<MetaReply> {
    return this.apply({ type: 'move', ...this.stamp(clientId), fromBucket, toBucket, gid });
  }

  members(gid: GroupId, members: readonly MemberInfo[], clientId?: string): Promise<MetaReply> {
    return this.apply({ type: 'members', ...this.stamp(clientId), gid, members });
  }
}

export function expectConfig(reply: MetaReply): ShardConfig {
  if (!reply.ok) assert.fail(`expected a config, got ${reply.error.code}: ${reply.error.message}`);
  return reply.config;
}

export function expectError<C extends MetaErrorCode>(reply: MetaReply, code: C): Extract<MetaError, { code: C }> {
  if (reply.ok) assert.fail(`expected ${code}, got config ${reply.config.version}`);
  assert.equal(reply.error.code, code, reply.error.message);
  return reply.error as Extract<MetaError, { code: C }>;
}
