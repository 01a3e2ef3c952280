/**
 * The first frame of every connection says who is calling and for which
 * cluster, so that a node never takes Raft messages from another cluster's
 * member (or a client's bytes for a peer's) because an address was reused.
 *
 *   hello:  [u8 version = 1][u8 role: 1 peer, 2 client][u8 cluster id length][cluster id, UTF-8]
 *           [u32 node id, peers only]
 *   hello, version 2: version 1's fields, then [u8 token length][token, ASCII]
 *   reject: [reason, UTF-8]  (the server's last words before it closes a connection it refused)
 *
 * A caller without a token sends version 1, so that it still reaches nodes
 * older than tokens; a caller with one sends version 2, which such a node
 * refuses by its version, saying so, rather than ignoring the token.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import type { NodeId } from '../raft/index.js';
import { AUTH_TOKEN_BYTES_MAX } from '../auth/auth-token.js';
import { MessageDecodeError } from './errors.js';
import { assertWireNodeId } from './raft-message-codec.js';

const FORMAT_VERSION_PLAIN = 1;
const FORMAT_VERSION_WITH_TOKEN = 2;
const ROLE_CODES = { peer: 1, client: 2 } as const;
/** A cluster id is a name an operator types: short, and its length fits one byte. */
export const CLUSTER_ID_BYTES_MAX = 255;
/** A reason is ours and short; the cap keeps a reject frame small whatever it says. */
const REJECT_REASON_CODE_UNITS_MAX = 1024;

/** `token`: the cluster's auth token as the caller has it; absent (or null after decoding) when it has none. */
export type Hello =
  | { readonly role: 'peer'; readonly clusterId: string; readonly fromNodeId: NodeId; readonly token?: string | null }
  | { readonly role: 'client'; readonly clusterId: string; readonly token?: string | null };

/** Throws when the cluster id cannot be sent: a configuration mistake, to report when the transport starts. */
export function checkClusterId(clusterId: string): Buffer {
  const bytes = Buffer.from(clusterId, 'utf8');
  if (bytes.byteLength > CLUSTER_ID_BYTES_MAX) {
    throw new Error(`a cluster id must be at most ${CLUSTER_ID_BYTES_MAX} UTF-8 bytes, got ${bytes.byteLength}`);
  }
  return bytes;
}

/** The largest hello payload: version, role, cluster id length, the longest cluster id, a node id, the longest token. */
export const HELLO_PAYLOAD_BYTES_MAX = 3 + CLUSTER_ID_BYTES_MAX + 4 + 1 + AUTH_TOKEN_BYTES_MAX;

export function encodeHello(hello: Hello): Buffer {
  const clusterId = checkClusterId(hello.clusterId);
  const token = hello.token === undefined || hello.token === null ? null : Buffer.from(hello.token, 'latin1');
  if (token !== null && (token.byteLength === 0 || token.byteLength > AUTH_TOKEN_BYTES_MAX)) {
    throw new Error(`an auth token must be 1 to ${AUTH_TOKEN_BYTES_MAX} bytes, got ${token.byteLength}`);
  }
  const nodeIdBytes = hello.role === 'peer' ? 4 : 0;
  const tokenBytes = token === null ? 0 : 1 + token.byteLength;
  const writer = new ByteWriter(3 + clusterId.byteLength + nodeIdBytes + tokenBytes);
  const version = token === null ? FORMAT_VERSION_PLAIN : FORMAT_VERSION_WITH_TOKEN;
  writer.u8(version).u8(ROLE_CODES[hello.role]).u8(clusterId.byteLength).bytes(clusterId);
  if (hello.role === 'peer') {
    assertWireNodeId(hello.fromNodeId);
    writer.u32(hello.fromNodeId);
  }
  if (token !== null) writer.u8(token.byteLength).bytes(token);
  return writer.finish();
}

/** The hello `bytes` hold; throws MessageDecodeError saying what is wrong when they hold none. */
export function decodeHello(bytes: Uint8Array): Hello {
  const reader = new ByteReader(bytes, 'hello', MessageDecodeError);
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION_PLAIN && version !== FORMAT_VERSION_WITH_TOKEN) {
    reader.fail(
      `format version ${version} is unknown to this raftkv (it reads versions ${FORMAT_VERSION_PLAIN} and ${FORMAT_VERSION_WITH_TOKEN})`,
    );
  }
  const roleCode = reader.u8('role');
  const clusterId = reader.utf8(reader.u8('cluster id length'), 'cluster id');
  let fromNodeId: NodeId | null = null;
  switch (roleCode) {
    case ROLE_CODES.peer:
      fromNodeId = reader.u32('node id');
      break;
    case ROLE_CODES.client:
      break;
    default:
      return reader.fail(`role ${roleCode} is unknown`);
  }
  const token = version === FORMAT_VERSION_WITH_TOKEN ? latin1(reader.bytes(reader.u8('token length'), 'token')) : null;
  reader.expectEnd();
  return fromNodeId === null ? { role: 'client', clusterId, token } : { role: 'peer', clusterId, fromNodeId, token };
}

/** Byte for byte: a token is ASCII, and a stranger's bytes must not turn into a different, matching string. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function encodeReject(reason: string): Buffer {
  return Buffer.from(reason.slice(0, REJECT_REASON_CODE_UNITS_MAX), 'utf8');
}

/** Lenient on purpose: the reason is only ever shown to a person, and the connection is closing anyway. */
export function decodeReject(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
