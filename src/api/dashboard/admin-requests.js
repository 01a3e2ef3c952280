/**
 * What each admin form asks the node to do: the form's fields checked and
 * turned into the POST body of /v1/admin/move, join or leave, with the
 * question the confirm dialog puts to the user. Pure: no DOM beyond FormData.
 */
import { bucketRanges } from './format.js';

/**
 * @typedef {{ action: string, path: string, body: unknown, question: string }} AdminRequest
 * @typedef {AdminRequest | { problem: string }} ParsedRequest
 */

/**
 * "0-4" or "7": the syntax of `raftkv admin move`; the node checks the range against the bucket count.
 * @param {FormData} fields
 * @returns {ParsedRequest}
 */
export function moveRequest(fields) {
  const buckets = text(fields, 'buckets');
  if (!/^\d+(-\d+)?$/.test(buckets)) return { problem: 'Buckets must be one bucket (7) or a range (0-4).' };
  const gid = groupId(text(fields, 'gid'));
  if (gid === null) return { problem: 'The target group must be a group id: a whole number from 1.' };
  return {
    action: 'move',
    path: '/v1/admin/move',
    body: { buckets, gid },
    question: `Move bucket${buckets.includes('-') ? 's' : ''} ${buckets} to group ${gid}? Clients follow the buckets while their data is copied.`,
  };
}

/**
 * @param {FormData} fields
 * @returns {ParsedRequest}
 */
export function joinRequest(fields) {
  const gid = groupId(text(fields, 'gid'));
  if (gid === null) return { problem: 'The new group needs a group id: a whole number from 1.' };
  const members = text(fields, 'members').replace(/\s+/g, '');
  if (!/^\d+=[^,=]+(,\d+=[^,=]+)*$/.test(members)) {
    return {
      problem: 'Members must read ID=HOST:PORT, separated by commas, e.g. 31=127.0.0.1:7031,32=127.0.0.1:7032.',
    };
  }
  return {
    action: 'join',
    path: '/v1/admin/join',
    body: { gid, members },
    question: `Add group ${gid} (${members}) and move buckets to it? Its members should be running already.`,
  };
}

/**
 * @param {FormData} fields
 * @returns {ParsedRequest}
 */
export function leaveRequest(fields) {
  const words = text(fields, 'gids')
    .split(/[\s,]+/)
    .filter(Boolean);
  const gids = words.map(groupId);
  if (words.length === 0 || gids.includes(null)) {
    return { problem: 'Name the groups to remove by id, separated by commas, e.g. 2 or 2,3.' };
  }
  const list = gids.join(', ');
  return {
    action: 'leave',
    path: '/v1/admin/leave',
    body: { gids },
    question: `Remove group${gids.length === 1 ? '' : 's'} ${list}? Their buckets move to the groups that stay.`,
  };
}

/**
 * One line for a config, as the result of an admin action.
 * @param {import('./api-types.js').ShardConfig} config
 * @returns {string}
 */
export function configSentence(config) {
  const owners = config.groups.map((group) => {
    const owned = config.buckets.flatMap((gid, bucket) => (gid === group.gid ? [bucket] : []));
    return `group ${group.gid} owns ${bucketRanges(owned)}`;
  });
  return `config version ${config.version}${owners.length === 0 ? ', no groups' : `: ${owners.join('; ')}`}`;
}

/**
 * @param {FormData} fields
 * @param {string} name
 */
function text(fields, name) {
  const value = fields.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * @param {string} word
 * @returns {number | null}
 */
function groupId(word) {
  if (!/^\d+$/.test(word)) return null;
  const gid = Number(word);
  return gid >= 1 && Number.isSafeInteger(gid) ? gid : null;
}
