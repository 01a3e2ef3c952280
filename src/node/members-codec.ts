/**
 * The 'members' service on the wire: one single-server membership change
 * asked of a group's leader, and its answer. UTF-8 JSON, like the status
 * service: admins send a handful of these in a cluster's life, and people
 * read them in traces. Strict both ways: a request that is not exactly a
 * change is refused before it reaches Raft, a reply that is not exactly an
 * answer is an error at the admin, not a guess.
 *
 *   request: {"type":"addLearner","node":14,"address":"10.0.0.4:7014"}
 *            {"type":"promoteLearner","node":14} | {"type":"removeNode","node":13}
 *   reply:   {"ok":true,"voters":[11,12,14],"learners":[],"changed":true}   (false: it was so already)
 *            {"ok":false,"reason":"pending"|"notCaughtUp"|"invalid","message":"..."}
 */
import type { Membership } from '../raft/index.js';
import { NODE_ID_MAX } from '../raft/index.js';
import { addressProblem } from '../meta/member-address.js';
import type { MembershipChangeResult } from './raft-node.js';

/** The changes an admin may ask for (bootstrap is the first leader's alone). */
export type MembersRequest =
  | { readonly type: 'addLearner'; readonly node: number; readonly address: string }
  | { readonly type: 'promoteLearner'; readonly node: number }
  | { readonly type: 'removeNode'; readonly node: number };

/** Far above any honest request or reply (at most 9 members, a 261-character address). */
export const MEMBERS_MESSAGE_BYTES_MAX = 4096;
const REASONS = ['pending', 'notCaughtUp', 'invalid'] as const;

export class MembersDecodeError extends Error {
  constructor(what: string, problem: string) {
    super(`a membership ${what} is malformed: ${problem}`);
    this.name = 'MembersDecodeError';
  }
}

export function encodeMembersRequest(request: MembersRequest): Uint8Array {
  return Buffer.from(JSON.stringify(request), 'utf8');
}

/** Throws MembersDecodeError saying what is out of place. */
export function decodeMembersRequest(bytes: Uint8Array): MembersRequest {
  const record = jsonObject(bytes, 'request');
  const fail = (problem: string): never => {
    throw new MembersDecodeError('request', problem);
  };
  const node = record['node'];
  if (typeof node !== 'number' || !Number.isInteger(node) || node < 1 || node > NODE_ID_MAX) {
    return fail(`"node" must be a member id in 1..${NODE_ID_MAX}`);
  }
  const type = record['type'];
  switch (type) {
    case 'addLearner': {
      const address = record['address'];
      if (typeof address !== 'string') return fail('an addLearner request needs the new member\'s "address"');
      const problem = addressProblem(address);
      if (problem !== null) return fail(`the address ${JSON.stringify(address)} is not host:port: ${problem}`);
      expectKeys(record, ['type', 'node', 'address'], fail);
      return { type, node, address };
    }
    case 'promoteLearner':
    case 'removeNode':
      expectKeys(record, ['type', 'node'], fail);
      return { type, node };
    default:
      return fail(`"type" must be addLearner, promoteLearner or removeNode, not ${JSON.stringify(type)}`);
  }
}

export function encodeMembersReply(result: MembershipChangeResult): Uint8Array {
  const body = result.ok
    ? { ok: true, voters: result.membership.voters, learners: result.membership.learners, changed: result.changed }
    : { ok: false, reason: result.reason, message: result.message };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** Throws MembersDecodeError saying what is out of place. */
export function decodeMembersReply(bytes: Uint8Array): MembershipChangeResult {
  const record = jsonObject(bytes, 'reply');
  const fail = (problem: string): never => {
    throw new MembersDecodeError('reply', problem);
  };
  if (record['ok'] === true) {
    const membership: Membership = {
      voters: idList(record['voters'], fail),
      learners: idList(record['learners'], fail),
    };
    const changed = record['changed'];
    if (typeof changed !== 'boolean') return fail('"changed" must be true or false');
    return { ok: true, membership, changed };
  }
  const reason = REASONS.find((known) => known === record['reason']);
  const message = record['message'];
  if (record['ok'] !== false || reason === undefined || typeof message !== 'string') {
    return fail('neither a membership nor a refusal with a known reason and a message');
  }
  return { ok: false, reason, message };
}

function jsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  if (bytes.byteLength > MEMBERS_MESSAGE_BYTES_MAX) {
    throw new MembersDecodeError(what, `${bytes.byteLength} bytes, over the limit of ${MEMBERS_MESSAGE_BYTES_MAX}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new MembersDecodeError(what, `not UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MembersDecodeError(what, 'not a JSON object');
  }
  return value as Record<string, unknown>;
}

function expectKeys(record: Record<string, unknown>, keys: readonly string[], fail: (problem: string) => never): void {
  const extra = Object.keys(record).filter((key) => !keys.includes(key));
  if (extra.length > 0) fail(`unknown field ${JSON.stringify(extra[0])}`);
}

function idList(value: unknown, fail: (problem: string) => never): number[] {
  if (!Array.isArray(value) || !value.every((id) => Number.isInteger(id) && id >= 1 && id <= NODE_ID_MAX)) {
    return fail('voters and learners must be lists of member ids');
  }
  return value as number[];
}
