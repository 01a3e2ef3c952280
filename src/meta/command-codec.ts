/**
 * The bytes of a meta command (what a Raft entry of the meta group carries)
 * and of a reply (what the dedup table keeps and the wire sends back): UTF-8
 * JSON with keys in a fixed order, format 1.
 *
 *   {"format":1,"type":"join","clientId":"admin-1","sequence":7,
 *    "groups":[{"gid":1,"members":[{"id":1,"address":"node1:7000"}]}],"bucketCount":10}
 *   {"format":1,"type":"leave","clientId":"admin-1","sequence":8,"gids":[1]}
 *   {"format":1,"type":"move","clientId":"admin-1","sequence":9,"fromBucket":0,"toBucket":4,"gid":2}
 *   {"format":1,"type":"members","clientId":"admin-1","sequence":10,"gid":2,
 *    "members":[{"id":21,"address":"node21:7000"},{"id":24,"address":"node24:7000"}]}
 *   {"format":1,"type":"query","version":null}
 *
 *   {"ok":true,"config":{"version":3,"buckets":[...],"groups":[...]}}
 *   {"ok":false,"error":{"code":"unknownGroup","gid":4,"message":"..."}}
 *
 * JSON rather than a binary layout: admin commands are rare and small, and an
 * operator can read them in a log dump. Decoding is as strict as the binary
 * codecs' (exact fields, exact types, size limit), because every replica
 * must decode the same bytes the same way. The codec checks shapes only:
 * a join or members with a negative gid or a bad address decodes, and the
 * state machine answers it with the error that names the problem. Members
 * are written in the order given (the state machine sorts them).
 *
 * Keys are written in a fixed order whatever order the objects were built in,
 * so equal replies are equal bytes on every replica.
 */
import { CLIENT_ID_BYTES_MAX } from '../kv/commands.js';
import type { GroupInfo, MemberInfo } from './config.js';
import { canonicalConfigValue } from './config.js';
import { parseConfigValue } from './config-codec.js';
import type { ClientStamp, MetaCommand, MetaCommandType, MetaError, MetaErrorCode, MetaReply } from './commands.js';
import { MetaDecodeError } from './errors.js';
import { boolean, field, fields, integer, list, oneOf, parseJsonBytes, text } from './json-shape.js';

const FORMAT_VERSION = 1;
/**
 * Largest command: well under the Raft message limit (1 MiB by default). A
 * join of 100 groups of 9 members is ~60 KiB; a bigger one is split into several joins.
 */
export const COMMAND_BYTES_MAX = 256 * 1024;
/** Largest reply: a config of BUCKET_COUNT_MAX buckets and GROUPS_MAX groups of 9 members fits. */
export const REPLY_BYTES_MAX = 4 * 1024 * 1024;
/** Longest text field of an error (problem, message, address); ours are far shorter. */
const ERROR_TEXT_CHARS_MAX = 4096;
const COMMAND_TYPES = ['join', 'leave', 'move', 'members', 'query'] as const satisfies readonly MetaCommandType[];

const encoder = new TextEncoder();

export function encodeMetaCommand(command: MetaCommand): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(canonicalCommandValue(command)));
  // A command that would not decode is a bug of the caller: say so here, not as a reply from the log.
  decodeMetaCommand(bytes);
  return bytes;
}

/** The command in `bytes`; MetaDecodeError when they are not one of format 1. */
export function decodeMetaCommand(bytes: Uint8Array): MetaCommand {
  const value = parseJsonBytes(bytes, 'command', COMMAND_BYTES_MAX);
  const type = oneOf(field(value, 'command', 'type'), 'command.type', COMMAND_TYPES);
  switch (type) {
    case 'join': {
      const record = fields(value, 'command', ['format', 'type', 'clientId', 'sequence', 'groups'], ['bucketCount']);
      checkFormat(record);
      const groups = list(record['groups'], 'command.groups').map((group, k) =>
        decodeJoinGroup(group, `command.groups[${k}]`),
      );
      const bucketCount =
        record['bucketCount'] === undefined
          ? {}
          : { bucketCount: integer(record['bucketCount'], 'command.bucketCount', Number.MIN_SAFE_INTEGER) };
      return { type, ...decodeStamp(record), groups, ...bucketCount };
    }
    case 'leave': {
      const record = fields(value, 'command', ['format', 'type', 'clientId', 'sequence', 'gids']);
      checkFormat(record);
      const gids = list(record['gids'], 'command.gids').map((gid, k) =>
        integer(gid, `command.gids[${k}]`, Number.MIN_SAFE_INTEGER),
      );
      return { type, ...decodeStamp(record), gids };
    }
    case 'move': {
      const record = fields(value, 'command', [
        'format',
        'type',
        'clientId',
        'sequence',
        'fromBucket',
        'toBucket',
        'gid',
      ]);
      checkFormat(record);
      return {
        type,
        ...decodeStamp(record),
        fromBucket: integer(record['fromBucket'], 'command.fromBucket', Number.MIN_SAFE_INTEGER),
        toBucket: integer(record['toBucket'], 'command.toBucket', Number.MIN_SAFE_INTEGER),
        gid: integer(record['gid'], 'command.gid', Number.MIN_SAFE_INTEGER),
      };
    }
    case 'members': {
      const record = fields(value, 'command', ['format', 'type', 'clientId', 'sequence', 'gid', 'members']);
      checkFormat(record);
      return {
        type,
        ...decodeStamp(record),
        gid: integer(record['gid'], 'command.gid', Number.MIN_SAFE_INTEGER),
        members: decodeMembers(record['members'], 'command.members'),
      };
    }
    case 'query': {
      const record = fields(value, 'command', ['format', 'type', 'version']);
      checkFormat(record);
      const version = record['version'] === null ? null : integer(record['version'], 'command.version', 0);
      return { type, version };
    }
  }
}

export function encodeMetaReply(reply: MetaReply): Uint8Array {
  return encoder.encode(JSON.stringify(canonicalReplyValue(reply)));
}

export function decodeMetaReply(bytes: Uint8Array): MetaReply {
  return parseReplyValue(parseJsonBytes(bytes, 'reply', REPLY_BYTES_MAX), 'reply');
}

/** The reply as a fresh plain value with keys in canonical order. */
export function canonicalReplyValue(reply: MetaReply): unknown {
  return reply.ok
    ? { ok: true, config: canonicalConfigValue(reply.config) }
    : { ok: false, error: canonicalErrorValue(reply.error) };
}

export function parseReplyValue(value: unknown, path: string): MetaReply {
  const isOk = boolean(field(value, path, 'ok'), `${path}.ok`);
  const record = fields(value, path, ['ok', isOk ? 'config' : 'error']);
  return isOk
    ? { ok: true, config: parseConfigValue(record['config'], `${path}.config`) }
    : { ok: false, error: parseErrorValue(record['error'], `${path}.error`) };
}

type FieldKind = 'integer' | 'integerOrNull' | 'text';

/**
 * The fields of each error besides code and message, in their canonical
 * order. The mapped type makes the compiler hold this table to MetaError:
 * every code is here, with exactly its fields.
 */
const ERROR_FIELDS: {
  readonly [C in MetaErrorCode]: {
    readonly [K in Exclude<keyof Extract<MetaError, { code: C }>, 'code' | 'message'>]-?: FieldKind;
  };
} = {
  malformedCommand: { problem: 'text' },
  staleSequence: { sequence: 'integer', lastSequence: 'integer' },
  badBucketCount: { bucketCount: 'integer', bucketCountFixed: 'integerOrNull' },
  emptyJoin: {},
  emptyLeave: {},
  duplicateGroupId: { gid: 'integer' },
  badGroupId: { gid: 'integer' },
  tooManyGroups: { groupCount: 'integer', groupsMax: 'integer' },
  badMembers: { gid: 'integer', problem: 'text' },
  badAddress: { gid: 'integer', memberId: 'integer', problem: 'text' },
  addressInUse: { gid: 'integer', address: 'text', usedByGid: 'integer' },
  groupExists: { gid: 'integer' },
  unknownGroup: { gid: 'integer' },
  bucketOutOfRange: { fromBucket: 'integer', toBucket: 'integer', bucketCount: 'integer' },
  lastGroupOwnsBuckets: {},
  noSuchVersion: { version: 'integer', latestVersion: 'integer' },
};
const ERROR_CODES = Object.keys(ERROR_FIELDS) as MetaErrorCode[];

export function canonicalErrorValue(error: MetaError): unknown {
  const value: Record<string, unknown> = { code: error.code };
  const record = error as unknown as Record<string, unknown>;
  for (const key of Object.keys(ERROR_FIELDS[error.code])) value[key] = record[key];
  value['message'] = error.message;
  return value;
}

export function parseErrorValue(value: unknown, path: string): MetaError {
  const code = oneOf(field(value, path, 'code'), `${path}.code`, ERROR_CODES);
  const record = fields(value, path, errorKeys(code));
  const error: Record<string, unknown> = { code };
  for (const [key, kind] of Object.entries<FieldKind>(ERROR_FIELDS[code])) {
    const fieldPath = `${path}.${key}`;
    const fieldValue = record[key];
    error[key] =
      kind === 'text'
        ? text(fieldValue, fieldPath, ERROR_TEXT_CHARS_MAX)
        : kind === 'integerOrNull' && fieldValue === null
          ? null
          : integer(fieldValue, fieldPath, Number.MIN_SAFE_INTEGER);
  }
  error['message'] = text(record['message'], `${path}.message`, ERROR_TEXT_CHARS_MAX);
  return error as unknown as MetaError;
}

function errorKeys(code: MetaErrorCode): string[] {
  return ['code', ...Object.keys(ERROR_FIELDS[code]), 'message'];
}

function canonicalCommandValue(command: MetaCommand): unknown {
  const head = { format: FORMAT_VERSION, type: command.type };
  switch (command.type) {
    case 'join':
      return {
        ...head,
        ...stampValue(command),
        groups: command.groups.map(groupValue),
        ...(command.bucketCount === undefined ? {} : { bucketCount: command.bucketCount }),
      };
    case 'leave':
      return { ...head, ...stampValue(command), gids: [...command.gids] };
    case 'move':
      return {
        ...head,
        ...stampValue(command),
        fromBucket: command.fromBucket,
        toBucket: command.toBucket,
        gid: command.gid,
      };
    case 'members':
      return { ...head, ...stampValue(command), gid: command.gid, members: command.members.map(memberValue) };
    case 'query':
      return { ...head, version: command.version };
  }
}

function stampValue(stamp: ClientStamp): ClientStamp {
  return { clientId: stamp.clientId, sequence: stamp.sequence };
}

function groupValue(group: GroupInfo): GroupInfo {
  return { gid: group.gid, members: group.members.map(memberValue) };
}

function memberValue(member: MemberInfo): MemberInfo {
  return { id: member.id, address: member.address };
}

function checkFormat(record: Record<string, unknown>): void {
  integer(record['format'], 'command.format', FORMAT_VERSION, FORMAT_VERSION);
}

function decodeStamp(record: Record<string, unknown>): ClientStamp {
  const clientId = text(record['clientId'], 'command.clientId', CLIENT_ID_BYTES_MAX);
  const clientIdBytes = encoder.encode(clientId).byteLength;
  if (clientIdBytes === 0 || clientIdBytes > CLIENT_ID_BYTES_MAX) {
    throw new MetaDecodeError(`command.clientId: must be 1..${CLIENT_ID_BYTES_MAX} bytes of UTF-8`);
  }
  return { clientId, sequence: integer(record['sequence'], 'command.sequence', 1) };
}

/** A joining group's shape; what its values mean is the state machine's to check (it answers with errors). */
function decodeJoinGroup(value: unknown, path: string): GroupInfo {
  const record = fields(value, path, ['gid', 'members']);
  return {
    gid: integer(record['gid'], `${path}.gid`, Number.MIN_SAFE_INTEGER),
    members: decodeMembers(record['members'], `${path}.members`),
  };
}

/** A member list's shape (of a join or members command); ids and addresses are checked by the state machine. */
function decodeMembers(value: unknown, path: string): MemberInfo[] {
  return list(value, path).map((member, k) => decodeMember(member, `${path}[${k}]`));
}

function decodeMember(value: unknown, path: string): MemberInfo {
  const record = fields(value, path, ['id', 'address']);
  return {
    id: integer(record['id'], `${path}.id`, Number.MIN_SAFE_INTEGER),
    address: text(record['address'], `${path}.address`, COMMAND_BYTES_MAX),
  };
}
