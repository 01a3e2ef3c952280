/**
 * POST /v1/admin/join, /leave, /move: the config commands of `raftkv admin`
 * as JSON, through the meta group; each answers the new config (canonical
 * JSON, as `raftkv admin query --json` prints it under "config").
 *
 *   join  {"gid": 3, "members": "31=host:port,32=host:port"}
 *   leave {"gids": [2]}
 *   move  {"buckets": "0-4", "gid": 1}    (a bucket "3" or an inclusive range "0-4")
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupInfo, ShardConfig } from '../../meta/config.js';
import { canonicalConfigValue } from '../../meta/config.js';
import { httpErrorOf } from './client-errors.js';
import type { MetaAdmin } from './http-backend.js';
import { badRequest, methodNotAllowed, notFound, sendJson } from './http-errors.js';
import { readBody } from './request-body.js';

/** Admin commands are a few fields; anything bigger is a mistake. */
export const ADMIN_BODY_BYTES_MAX = 64 * 1024;
const COMMANDS = ['join', 'leave', 'move'] as const;
type AdminCommand = (typeof COMMANDS)[number];

export async function handleAdmin(
  request: IncomingMessage,
  response: ServerResponse,
  command: string,
  admin: MetaAdmin,
): Promise<void> {
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw notFound(`there is no admin command "${command.slice(0, 40)}": POST /v1/admin/join, /leave or /move`);
  }
  if (request.method !== 'POST') throw methodNotAllowed(request.method ?? '', `/v1/admin/${command}`, ['POST']);
  const body = await readBody(request, ADMIN_BODY_BYTES_MAX, 'an admin command');
  const fields = parseObject(body, command as AdminCommand);
  let config: ShardConfig;
  try {
    config = await run(admin, command as AdminCommand, fields);
  } catch (error) {
    throw httpErrorOf(error, 'write') ?? error;
  }
  sendJson(response, 200, { config: canonicalConfigValue(config) });
}

function run(admin: MetaAdmin, command: AdminCommand, fields: Record<string, unknown>): Promise<ShardConfig> {
  switch (command) {
    case 'join':
      return admin.join([{ gid: positive(fields, 'gid', command), members: members(fields, command) }]);
    case 'leave': {
      const gids = fields['gids'];
      if (!Array.isArray(gids) || gids.length === 0 || !gids.every((gid) => Number.isSafeInteger(gid) && gid > 0)) {
        throw usage(command, 'gids is a list of group ids');
      }
      return admin.leave(gids as number[]);
    }
    case 'move': {
      const [fromBucket, toBucket] = bucketRange(fields['buckets'], command);
      return admin.move(fromBucket, toBucket, positive(fields, 'gid', command));
    }
  }
}

const EXAMPLES: Record<AdminCommand, string> = {
  join: '{"gid": 3, "members": "31=127.0.0.1:7031,32=127.0.0.1:7032"}',
  leave: '{"gids": [2]}',
  move: '{"buckets": "0-4", "gid": 1}',
};

function usage(command: AdminCommand, problem: string): Error {
  return badRequest(`${problem}: POST /v1/admin/${command} takes a JSON object like ${EXAMPLES[command]}`);
}

function parseObject(body: Buffer, command: AdminCommand): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw usage(command, 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usage(command, 'the body is not an object');
  return value as Record<string, unknown>;
}

function positive(fields: Record<string, unknown>, name: string, command: AdminCommand): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw usage(command, `${name} is a whole number of at least 1`);
  }
  return value;
}

/** "31=host:port,32=host:port" to members; the meta group checks the addresses themselves. */
function members(fields: Record<string, unknown>, command: AdminCommand): GroupInfo['members'] {
  const text = fields['members'];
  if (typeof text !== 'string') throw usage(command, 'members is a string of id=host:port pairs');
  return text.split(',').map((part) => {
    const equals = part.indexOf('=');
    const id = Number(part.slice(0, equals));
    if (equals <= 0 || !Number.isSafeInteger(id) || id < 1 || part.slice(equals + 1) === '') {
      throw usage(command, `"${part.slice(0, 80)}" is not id=host:port`);
    }
    return { id, address: part.slice(equals + 1) };
  });
}

function bucketRange(value: unknown, command: AdminCommand): [number, number] {
  const match = typeof value === 'string' ? /^(\d+)(?:-(\d+))?$/.exec(value) : null;
  if (match === null) throw usage(command, 'buckets is a string, a bucket "3" or a range "0-4"');
  const from = Number(match[1]);
  return [from, match[2] === undefined ? from : Number(match[2])];
}
