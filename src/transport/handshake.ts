/**
 * The first frame of every connection says who is calling and for which
 * cluster, so that a node never takes Raft messages from another cluster's
 * member (or a client's bytes for a peer's) because an address was reused.
 *
 *   hello:  [u8 version = 1][u8 role: 1 peer, 2 client][u8 cluster id length][cluster id, UTF-8]
 *           [u32 node id, peers only]
 *   reject: [reason, UTF-8]  (the server's last words before it closes a connection it refused)
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import type { NodeId } from '../raft/index.js';
import { MessageDecodeError } from './errors.js';
import { assertWireNodeId } from './raft-message-codec.js';

const FORMAT_VERSION = 1;
const ROLE_CODES = { peer: 1, client: 2 } as const;
/** A cluster id is a name an operator types: short, and its length fits one byte. */
export const CLUSTER_ID_BYTES_MAX = 255;
/** A reason is ours and short; the cap keeps a reject frame small whatever it says. */
const REJECT_REASON_CODE_UNITS_MAX = 1024;

export type Hello =
  | { readonly role: 'peer'; readonly clusterId: string; readonly fromNodeId: NodeId }
  | { readonly role: 'client'; readonly clusterId: string };

/** Throws when the cluster id cannot be sent: a configuration mistake, to report when the transport starts. */
export function checkClusterId(clusterId: string): Buffer {
  const bytes = Buffer.from(clusterId, 'utf8');
  if (bytes.byteLength > CLUSTER_ID_BYTES_MAX) {
    throw new Error(`a cluster id must be at most ${CLUSTER_ID_BYTES_MAX} UTF-8 bytes, got ${bytes.byteLength}`);
  }
  return bytes;
}

/** The largest hello payload: version, role, cluster id length, the longest cluster id, a node id. */
export const HELLO_PAYLOAD_BYTES_MAX = 3 + CLUSTER_ID_BYTES_MAX + 4;

export function encodeHello(hello: Hello): Buffer {
  const clusterId = checkClusterId(hello.clusterId);
  const nodeIdBytes = hello.role === 'peer' ? 4 : 0;
  const writer = new ByteWriter(3 + clusterId.byteLength + nodeIdBytes);
  writer.u8(FORMAT_VERSION).u8(ROLE_CODES[hello.role]).u8(clusterId.byteLength).bytes(clusterId);
  if (hello.role === 'peer') {
    assertWireNodeId(hello.fromNodeId);
    writer.u32(hello.fromNodeId);
  }
  return writer.finish();
}

/** The hello `bytes` hold; throws MessageDecodeError saying what is wrong when they hold none. */
export function decodeHello(bytes: Uint8Array): Hello {
  const reader = new ByteReader(bytes, 'hello', MessageDecodeError);
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION) {
    reader.fail(`format version ${version} is unknown to this raftkv (it reads version ${FORMAT_VERSION})`);
  }
  const roleCode = reader.u8('role');
  const clusterId = reader.utf8(reader.u8('cluster id length'), 'cluster id');
  let hello: Hello;
  switch (roleCode) {
    case ROLE_CODES.peer:
      hello = { role: 'peer', clusterId, fromNodeId: reader.u32('node id') };
      break;
    case ROLE_CODES.client:
      hello = { role: 'client', clusterId };
      break;
    default:
      return reader.fail(`role ${roleCode} is unknown`);
  }
  reader.expectEnd();
  return hello;
}

export function encodeReject(reason: string): Buffer {
  return Buffer.from(reason.slice(0, REJECT_REASON_CODE_UNITS_MAX), 'utf8');
}

/** Lenient on purpose: the reason is only ever shown to a person, and the connection is closing anyway. */
export function decodeReject(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
