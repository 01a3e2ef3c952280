/** Shared helpers of the shard tests: configs, keys of a bucket, and a group member driven entry by entry. */
import assert from 'node:assert/strict';
import type { KvCommand } from '../../../src/kv/commands.js';
import { utf8 } from '../../../src/kv/commands.js';
import type { KvEngine } from '../../../src/kv/engine.js';
import type { GroupId, ShardConfig } from '../../../src/meta/config.js';
import { freezeConfig, UNASSIGNED } from '../../../src/meta/config.js';
import { bucketOf } from '../../../src/shard/bucket.js';
import type { InstallPartsOptions } from '../../../src/shard/bucket-transfer.js';
import { installParts } from '../../../src/shard/bucket-transfer.js';
import { encodeShardCommand } from '../../../src/shard/command-codec.js';
import type { ShardCommand, ShardReply } from '../../../src/shard/commands.js';
import type { ShardStateMachineOptions } from '../../../src/shard/state-machine.js';
import { ShardStateMachine } from '../../../src/shard/state-machine.js';
import type { EngineHarness } from '../kv/engine-suite.js';

/** eraft's default, and what these tests use. */
export const BUCKET_COUNT = 10;

/** A config as the meta group makes them: `buckets` gives each bucket's owner; every owner is a group. */
export function configOf(version: number, buckets: readonly GroupId[]): ShardConfig {
  const gids = [...new Set(buckets.filter((gid) => gid !== UNASSIGNED))].sort((a, b) => a - b);
  return freezeConfig({
    version,
    buckets: [...buckets],
    groups: gids.map((gid) => ({ gid, members: [{ id: 1, address: `g${gid}-n1.test:7000` }] })),
  });
}

/** `count` distinct keys ("k0", "k1", ...) that fall into `bucket`. */
export function keysInBucket(bucket: number, count: number, prefix = 'k'): string[] {
  const keys: string[] = [];
  for (let n = 0; keys.length < count; n++) {
    const key = `${prefix}${n}`;
    if (bucketOf(utf8(key), BUCKET_COUNT) === bucket) keys.push(key);
  }
  return keys;
}

/** The error code of a reply (or an export's refusal), or null for success. */
export function errorCode(
  reply: { readonly ok: true } | { readonly ok: false; readonly error: { readonly code: string } } | undefined,
): string | null {
  assert.ok(reply !== undefined, 'expected a reply');
  return reply.ok ? null : reply.error.code;
}

/** One member of a shard group: a machine over an engine whose durable state outlives restarts. */
export class Member {
  private constructor(
    private readonly harness: EngineHarness,
    readonly options: ShardStateMachineOptions,
    public engine: KvEngine,
    public machine: ShardStateMachine,
  ) {}

  static async start(harness: EngineHarness, options: ShardStateMachineOptions): Promise<Member> {
    const engine = await harness.open();
    return new Member(harness, options, engine, await ShardStateMachine.open(engine, options));
  }

  /**
   * Closes the engine and opens the machine again over what it left, as a
   * restarted process would (with other options, if given: a misconfigured
   * restart). If the machine refuses to open, the engine stays open for stop().
   */
  async restart(options: ShardStateMachineOptions = this.options): Promise<void> {
    await this.engine.close();
    this.engine = await this.harness.open();
    this.machine = await ShardStateMachine.open(this.engine, options);
  }

  async stop(): Promise<void> {
    await this.engine.close();
  }

  /** Applies `command` at the next log index, as a node would once it is committed. */
  async apply(command: ShardCommand, term = 1): Promise<ShardReply> {
    return this.machine.apply(this.machine.appliedIndex + 1, encodeShardCommand(command), term);
  }

  kv(command: KvCommand, term = 1): Promise<ShardReply> {
    return this.apply({ type: 'kv', command }, term);
  }

  config(config: ShardConfig, term = 1): Promise<ShardReply> {
    return this.apply({ type: 'config', config }, term);
  }

  deleteBucket(bucket: number, configVersion: number): Promise<ShardReply> {
    return this.apply({ type: 'deleteBucket', bucket, configVersion });
  }

  /** What a driver does: exports `bucket` from `from`, at this member's version, and applies its parts here. */
  async pull(from: Member, bucket: number, options: InstallPartsOptions = {}): Promise<ShardReply[]> {
    const exported = from.machine.exportBucket(bucket, this.machine.currentConfig.version);
    assert.ok(exported.ok, exported.ok ? '' : exported.error.message);
    const replies: ShardReply[] = [];
    for await (const part of installParts(exported.export, options)) replies.push(await this.apply(part));
    return replies;
  }

  /** The bucket states as [bucket, type] pairs, ascending, for comparing at a glance. */
  states(): [number, string][] {
    return [...this.machine.bucketStates()].map(([bucket, state]) => [bucket, state.type]);
  }
}

/** Starts members over fresh harnesses and stops them all at the end of a test. */
export class Members {
  private readonly started: { member: Member; harness: EngineHarness }[] = [];

  constructor(private readonly createHarness: () => Promise<EngineHarness>) {}

  async start(gid: GroupId, options: Partial<ShardStateMachineOptions> = {}): Promise<Member> {
    const harness = await this.createHarness();
    const member = await Member.start(harness, { ...options, gid });
    this.started.push({ member, harness });
    return member;
  }

  async stopAll(): Promise<void> {
    for (const { member, harness } of this.started) {
      await member.stop();
      await harness.destroy();
    }
  }
}

/** The value of a get reply as text, or null; fails the test on an error reply. */
export function textOf(reply: ShardReply): string | null {
  if (!reply.ok) throw new Error(`expected a value, got ${reply.error.code}: ${reply.error.message}`);
  if (reply.value === undefined) throw new Error('expected a get reply, got one without a value field');
  return reply.value === null ? null : Buffer.from(reply.value).toString('utf8');
}

/** Reads `key` the way a linearizable read does after its barrier. */
export function read(member: Member, key: string): ShardReply {
  return member.machine.get(utf8(key));
}
