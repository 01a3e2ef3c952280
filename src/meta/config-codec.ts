/**
 * A config read back from JSON (a reply on the wire, a snapshot record),
 * checked as strictly as one we build: the shape field by field, then the
 * invariants of config.ts. Written with canonicalConfigValue.
 */
import type { GroupInfo, MemberInfo, ShardConfig } from './config.js';
import {
  BUCKET_COUNT_MAX,
  configProblem,
  freezeConfig,
  GROUP_ID_MAX,
  GROUPS_MAX,
  MEMBER_ID_MAX,
  MEMBERS_PER_GROUP_MAX,
} from './config.js';
import { MetaDecodeError } from './errors.js';
import { fields, integer, list, text } from './json-shape.js';
import { ADDRESS_CHARS_MAX, addressProblem } from './member-address.js';

/** The config in a JSON value, frozen; MetaDecodeError for anything out of place. */
export function parseConfigValue(value: unknown, path: string): ShardConfig {
  const record = fields(value, path, ['version', 'buckets', 'groups']);
  const config: ShardConfig = {
    version: integer(record['version'], `${path}.version`, 0),
    buckets: list(record['buckets'], `${path}.buckets`, BUCKET_COUNT_MAX).map((gid, bucket) =>
      integer(gid, `${path}.buckets[${bucket}]`, 0, GROUP_ID_MAX),
    ),
    groups: list(record['groups'], `${path}.groups`, GROUPS_MAX).map((group, k) =>
      parseGroup(group, `${path}.groups[${k}]`),
    ),
  };
  const problem = configProblem(config);
  if (problem !== null) throw new MetaDecodeError(`${path}: ${problem}`);
  return freezeConfig(config);
}

function parseGroup(value: unknown, path: string): GroupInfo {
  const record = fields(value, path, ['gid', 'members']);
  return {
    gid: integer(record['gid'], `${path}.gid`, 1, GROUP_ID_MAX),
    members: list(record['members'], `${path}.members`, MEMBERS_PER_GROUP_MAX).map((member, k) =>
      parseMember(member, `${path}.members[${k}]`),
    ),
  };
}

function parseMember(value: unknown, path: string): MemberInfo {
  const record = fields(value, path, ['id', 'address']);
  const address = text(record['address'], `${path}.address`, ADDRESS_CHARS_MAX);
  const problem = addressProblem(address);
  if (problem !== null) throw new MetaDecodeError(`${path}.address: ${problem}`);
  return { id: integer(record['id'], `${path}.id`, 1, MEMBER_ID_MAX), address };
}
