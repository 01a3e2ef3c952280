/**
 * The KV service's client protocol: what a client connection carries in its
 * request and response frames, format version 1.
 *
 *   request:  [u8 version = 1][u32 BE request id][u8 flags: bit 0 stale][command (command-codec), to the end]
 *   response: [u8 version = 1][u32 BE request id][u8 status][body]
 *     status 1 ok:    [reply (command-codec), to the end]
 *     status 2 error: [u8 code][u8 leader present 0|1][u32 BE leader, if present][u16 BE length][message, UTF-8]
 *                     codes: 1 notLeader, 2 outcomeUnknown, 3 overloaded, 4 timeout, 5 stopped
 *
 * The request id is the client's, chosen per connection; the server copies it
 * into the response, so responses may come back in any order (pipelining).
 * The command and reply are the very bytes the log and the dedup table hold,
 * so nothing is encoded twice in two ways.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import type { NodeErrorCode } from '../node/errors.js';
import { decodeCommand, decodeReply, encodeCommand, encodeReply } from './command-codec.js';
import { failed, malformedCommand } from './commands.js';
import { KvDecodeError } from './errors.js';
import type { KvRequest, ServiceError, ServiceResult } from './service.js';

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
} as const satisfies Record<NodeErrorCode, number>;
const ERROR_CODES_BY_NUMBER = new Map<number, NodeErrorCode>(
  Object.entries(ERROR_CODES).map(([code, number]) => [number, code as NodeErrorCode]),
);
/** Request ids are u32: a client wraps around long after any request of the same id has been answered. */
export const REQUEST_ID_MAX = 0xffff_ffff;
/** Version, request id, flags or status. */
const HEADER_BYTES = 1 + 4 + 1;
/** Counted in UTF-16 code units, at most 3 UTF-8 bytes each, so the bytes fit the u16 length. */
const ERROR_MESSAGE_CODE_UNITS_MAX = Math.floor(0xffff / 3);

export interface ServiceRequestMessage {
  readonly requestId: number;
  readonly request: KvRequest;
}

export interface ServiceResponseMessage {
  readonly requestId: number;
  readonly result: ServiceResult;
}

/**
 * A decoded request. ok false: the header is sound but the command is not, so
 * the server can answer this request (with a malformedCommand reply) and keep
 * serving the connection.
 */
export type DecodedServiceRequest =
  | { readonly ok: true; readonly requestId: number; readonly request: KvRequest & { readonly stale: boolean } }
  | { readonly ok: false; readonly requestId: number; readonly problem: string };

export function encodeServiceRequest(message: ServiceRequestMessage): Buffer {
  checkRequestId(message.requestId);
  const command = encodeCommand(message.request.command);
  return new ByteWriter(HEADER_BYTES + command.byteLength)
    .u8(FORMAT_VERSION)
    .u32(message.requestId)
    .u8(message.request.stale === true ? FLAG_STALE : 0)
    .bytes(command)
    .finish();
}

/** Throws KvDecodeError when the bytes are not a request at all (no request id to answer to). */
export function decodeServiceRequest(bytes: Uint8Array): DecodedServiceRequest {
  const reader = new ByteReader(bytes, 'service request', KvDecodeError);
  const requestId = readHeader(reader);
  const flags = reader.u8('flags');
  if ((flags & ~FLAG_STALE) !== 0) reader.fail(`the flags byte 0x${flags.toString(16)} sets unknown bits`);
  try {
    const command = decodeCommand(reader.rest('command'));
    return { ok: true, requestId, request: { command, stale: (flags & FLAG_STALE) !== 0 } };
  } catch (error) {
    if (error instanceof KvDecodeError) return { ok: false, requestId, problem: error.problem };
    throw error;
  }
}

/** The answer to a request whose command did not decode: what the state machine answers to such a command. */
export function malformedRequestResult(problem: string): ServiceResult {
  return { ok: true, reply: failed(malformedCommand(problem)) };
}

export function encodeServiceResponse(message: ServiceResponseMessage): Buffer {
  checkRequestId(message.requestId);
  const { result } = message;
  if (result.ok) {
    const reply = encodeReply(result.reply);
    return new ByteWriter(HEADER_BYTES + reply.byteLength)
      .u8(FORMAT_VERSION)
      .u32(message.requestId)
      .u8(STATUS_OK)
      .bytes(reply)
      .finish();
  }
  const { error } = result;
  const text = Buffer.from(error.message.slice(0, ERROR_MESSAGE_CODE_UNITS_MAX), 'utf8');
  const leaderBytes = error.leader === null ? 0 : 4;
  const writer = new ByteWriter(HEADER_BYTES + 2 + leaderBytes + 2 + text.byteLength)
    .u8(FORMAT_VERSION)
    .u32(message.requestId)
    .u8(STATUS_ERROR)
    .u8(ERROR_CODES[error.code]);
  if (error.leader === null) writer.u8(0);
  else writer.u8(1).u32(error.leader);
  return writer.u16(text.byteLength).bytes(text).finish();
}

/** Throws KvDecodeError saying what is wrong when the bytes hold no response. */
export function decodeServiceResponse(bytes: Uint8Array): ServiceResponseMessage {
  const reader = new ByteReader(bytes, 'service response', KvDecodeError);
  const requestId = readHeader(reader);
  const status = reader.u8('status');
  switch (status) {
    case STATUS_OK:
      return { requestId, result: { ok: true, reply: decodeReply(reader.rest('reply')) } };
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
