/**
 * The client protocol: what a client connection carries in its request and
 * response frames, and the interface of whatever answers them. One port
 * serves several services (a member's KV group, the meta group, shard-to-shard
 * bucket transfers); a request names its service, and its payload is opaque
 * bytes that only that service reads. Format version 1:
 *
 *   request:  [u8 version = 1][u32 BE request id][u8 service][u8 flags: bit 0 stale][payload, to the end]
 *             services: 1 kv, 2 meta, 3 shard, 4 status (every node: its Raft state, node/status-codec),
 *                       5 members (every node: a membership change of its group, node/members-codec)
 *   response: [u8 version = 1][u32 BE request id][u8 status][body]
 *     status 1 ok:    [reply, to the end]
 *     status 2 error: [u8 code][u8 leader present 0|1][u32 BE leader, if present][u16 BE length][message, UTF-8]
 *                     codes: 1 notLeader, 2 outcomeUnknown, 3 overloaded, 4 timeout, 5 stopped, 6 unsupported
 *
 * The request id is the client's, chosen per connection; the server copies it
 * into the response, so responses may come back in any order (pipelining).
 * Payload and reply are the service's own bytes (for kv, a command and a reply
 * of command-codec, the very bytes the log and the dedup table hold), passed
 * through untouched. Decoding is strict: a header out of place is a
 * MessageDecodeError that closes the connection; a request for a service id
 * this raftkv does not know is sound enough to be answered 'unsupported'.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import type { NodeId } from '../raft/index.js';
import { MessageDecodeError } from './errors.js';

/** The services a raftkv port may offer. */
export type ServiceName = 'kv' | 'meta' | 'shard' | 'status' | 'members';

export interface ServiceRequest {
  readonly service: ServiceName;
  /** Read this replica's state without confirming leadership: fast, possibly stale. Reads only. */
  readonly stale: boolean;
  /** The request in the service's own format. */
  readonly payload: Uint8Array;
}

/**
 * Why a request was not served. notLeader: go to `leader` (or look for it);
 * outcomeUnknown, timeout: retry with the same client id and sequence;
 * overloaded: back off, then retry; stopped: this node is going away;
 * unsupported: this node does not serve that service at all (do not retry here).
 */
export type ServiceErrorCode = 'notLeader' | 'outcomeUnknown' | 'overloaded' | 'timeout' | 'stopped' | 'unsupported';

export interface ServiceError {
  readonly code: ServiceErrorCode;
  readonly message: string;
  /** For notLeader: the member that leads, when this node knows it. */
  readonly leader: NodeId | null;
}

export type ServiceResult =
  { readonly ok: true; readonly reply: Uint8Array } | { readonly ok: false; readonly error: ServiceError };

/** What answers the requests that reach a node: one replica group's service, or several behind a router. */
export interface GroupService {
  /** Never rejects: every failure is a ServiceResult the client can act on. */
  handle(request: ServiceRequest): Promise<ServiceResult>;
}

/** Every service, in the order their codes run. */
export const SERVICE_NAMES: readonly ServiceName[] = ['kv', 'meta', 'shard', 'status', 'members'];

const SERVICE_CODES = { kv: 1, meta: 2, shard: 3, status: 4, members: 5 } as const satisfies Record<
  ServiceName,
  number
>;
const SERVICES_BY_CODE = new Map<number, ServiceName>(SERVICE_NAMES.map((name) => [SERVICE_CODES[name], name]));
const FORMAT_VERSION = 1;
const FLAG_STALE = 1;
const STATUS_OK = 1;
const STATUS_ERROR = 2;
const ERROR_CODES = {
  notLeader: 1,
  outcomeUnknown: 2,
  overloaded: 3,
  timeout: 4,
  stopped: 5,
  unsupported: 6,
} as const satisfies Record<ServiceErrorCode, number>;
const ERROR_CODES_BY_NUMBER = new Map<number, ServiceErrorCode>(
  Object.entries(ERROR_CODES).map(([code, number]) => [number, code as ServiceErrorCode]),
);
/** Request ids are u32: a client wraps around long after any request of the same id has been answered. */
export const REQUEST_ID_MAX = 0xffff_ffff;
/** Version and request id. */
const ID_HEADER_BYTES = 1 + 4;
/** Counted in UTF-16 code units, at most 3 UTF-8 bytes each, so the bytes fit the u16 length. */
const ERROR_MESSAGE_CODE_UNITS_MAX = Math.floor(0xffff / 3);

export interface ServiceRequestMessage {
  readonly requestId: number;
  readonly request: ServiceRequest;
}

export interface ServiceResponseMessage {
  readonly requestId: number;
  readonly result: ServiceResult;
}

/**
 * A decoded request. ok false: the header is sound but names a service this
 * raftkv does not know, so the server answers `result` ('unsupported') and
 * keeps serving the connection.
 */
export type DecodedServiceRequest =
  | { readonly ok: true; readonly requestId: number; readonly request: ServiceRequest }
  | { readonly ok: false; readonly requestId: number; readonly result: ServiceResult };

/** The answer of a node that does not serve what was asked of it. */
export function unsupported(message: string): ServiceResult {
  return { ok: false, error: { code: 'unsupported', message, leader: null } };
}

export function encodeServiceRequest(message: ServiceRequestMessage): Buffer {
  checkRequestId(message.requestId);
  const { service, stale, payload } = message.request;
  return new ByteWriter(ID_HEADER_BYTES + 2 + payload.byteLength)
    .u8(FORMAT_VERSION)
    .u32(message.requestId)
    .u8(SERVICE_CODES[service])
    .u8(stale ? FLAG_STALE : 0)
    .bytes(payload)
    .finish();
}

/** Throws MessageDecodeError when the bytes are not a request at all (no sound header to answer). */
export function decodeServiceRequest(bytes: Uint8Array): DecodedServiceRequest {
  const reader = new ByteReader(bytes, 'service request', MessageDecodeError);
  const requestId = readHeader(reader);
  const serviceCode = reader.u8('service');
  const flags = reader.u8('flags');
  if ((flags & ~FLAG_STALE) !== 0) reader.fail(`the flags byte 0x${flags.toString(16)} sets unknown bits`);
  const service = SERVICES_BY_CODE.get(serviceCode);
  if (service === undefined) {
    const known = SERVICE_NAMES.map((name) => `${SERVICE_CODES[name]} ${name}`).join(', ');
    return {
      ok: false,
      requestId,
      result: unsupported(`service id ${serviceCode} is unknown to this raftkv (it knows ${known})`),
    };
  }
  const payload = reader.rest('payload');
  return { ok: true, requestId, request: { service, stale: (flags & FLAG_STALE) !== 0, payload } };
}

export function encodeServiceResponse(message: ServiceResponseMessage): Buffer {
  checkRequestId(message.requestId);
  const { result } = message;
  if (result.ok) {
    return new ByteWriter(ID_HEADER_BYTES + 1 + result.reply.byteLength)
      .u8(FORMAT_VERSION)
      .u32(message.requestId)
      .u8(STATUS_OK)
      .bytes(result.reply)
      .finish();
  }
  const { error } = result;
  const text = Buffer.from(error.message.slice(0, ERROR_MESSAGE_CODE_UNITS_MAX), 'utf8');
  const leaderBytes = error.leader === null ? 0 : 4;
  const writer = new ByteWriter(ID_HEADER_BYTES + 3 + leaderBytes + 2 + text.byteLength)
    .u8(FORMAT_VERSION)
    .u32(message.requestId)
    .u8(STATUS_ERROR)
    .u8(ERROR_CODES[error.code]);
  if (error.leader === null) writer.u8(0);
  else writer.u8(1).u32(error.leader);
  return writer.u16(text.byteLength).bytes(text).finish();
}

/** Throws MessageDecodeError saying what is wrong when the bytes hold no response. */
export function decodeServiceResponse(bytes: Uint8Array): ServiceResponseMessage {
  const reader = new ByteReader(bytes, 'service response', MessageDecodeError);
  const requestId = readHeader(reader);
  const status = reader.u8('status');
  switch (status) {
    case STATUS_OK:
      return { requestId, result: { ok: true, reply: reader.rest('reply') } };
    case STATUS_ERROR: {
      const error = readServiceError(reader);
      reader.expectEnd();
      return { requestId, result: { ok: false, error } };
    }
    default:
      return reader.fail(`response status ${status} is unknown`);
  }
}

function readServiceError(reader: ByteReader): ServiceError {
  const codeNumber = reader.u8('error code');
  const code = ERROR_CODES_BY_NUMBER.get(codeNumber);
  if (code === undefined) return reader.fail(`error code ${codeNumber} is unknown`);
  const leaderPresent = reader.u8('leader-present flag');
  if (leaderPresent > 1) reader.fail(`the leader-present flag is ${leaderPresent}, not 0 or 1`);
  const leader = leaderPresent === 1 ? reader.u32('leader') : null;
  const message = reader.utf8(reader.u16('message length'), 'message');
  return { code, message, leader };
}

function readHeader(reader: ByteReader): number {
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION) {
    reader.fail(`format version ${version} is unknown to this raftkv (it reads version ${FORMAT_VERSION})`);
  }
  return reader.u32('request id');
}

/** A request id out of range is a bug of the connection that numbers requests: an assertion. */
function checkRequestId(requestId: number): void {
  if (!Number.isInteger(requestId) || requestId < 0 || requestId > REQUEST_ID_MAX) {
    throw new Error(`a request id must be an integer in 0..${REQUEST_ID_MAX}, got ${requestId}`);
  }
}
