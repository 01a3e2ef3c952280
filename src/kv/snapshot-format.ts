/**
 * A KV snapshot is a stream of records, format version 1, each framed as the
 * rest of raftkv frames records on disk (storage/record.ts):
 *
 *   [u32 BE payload length][u32 BE CRC-32 of the payload][payload]
 *
 * Payloads, in stream order:
 *
 *   header (once, first): [u8 1]["RKVS"][u8 format version = 1][u64 BE applied index][u64 BE applied term]
 *   dedup (any number):   [u8 2][u8 client id length][client id, UTF-8][dedup entry, as keyspace.ts stores it]
 *   pair (any number):    [u8 3][u32 BE key length][user key][value]
 *   end (once, last):     [u8 4][u64 BE dedup count][u64 BE pair count]
 *
 * Each record carries its own checksum, so damage is found where it is; the
 * end record's counts find a stream cut short at a record boundary. Chunks are
 * plain slices of the stream: a record may span chunks, so the chunk size
 * bounds memory whatever the size of one value.
 */
import type { LogIndex, Term } from '../raft/types.js';
import { RECORD_HEADER_BYTES, sealRecord } from '../storage/record.js';
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import { KvDecodeError } from './errors.js';
import { CLIENT_ID_BYTES_MAX, KEY_BYTES_MAX } from './commands.js';
import { STORED_VALUE_BYTES_MAX } from './stored-value.js';
import type { DedupEntry } from './keyspace.js';
import { decodeDedupEntry, encodeDedupEntry } from './keyspace.js';

const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('RKVS', 'ascii');
const RECORD_TYPES = { header: 1, dedup: 2, pair: 3, end: 4 } as const;
/** The largest payload a valid snapshot holds (a pair at both limits); a larger length is damage. */
/** Pairs hold stored values: a value and its expiry (stored-value.ts). */
export const SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX = 1 + 4 + KEY_BYTES_MAX + STORED_VALUE_BYTES_MAX;

export type SnapshotRecord =
  | { readonly type: 'header'; readonly appliedIndex: LogIndex; readonly appliedTerm: Term }
  | { readonly type: 'dedup'; readonly clientId: string; readonly entry: DedupEntry }
  | { readonly type: 'pair'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'end'; readonly dedupCount: number; readonly pairCount: number };

/** The whole framed record. */
export function encodeSnapshotRecord(record: SnapshotRecord): Buffer {
  switch (record.type) {
    case 'header':
      return framed(1 + MAGIC.byteLength + 1 + 8 + 8, (writer) =>
        writer.u8(RECORD_TYPES.header).bytes(MAGIC).u8(FORMAT_VERSION).u64(record.appliedIndex).u64(record.appliedTerm),
      );
    case 'dedup': {
      const clientId = Buffer.from(record.clientId, 'utf8');
      const entry = encodeDedupEntry(record.entry);
      return framed(1 + 1 + clientId.byteLength + entry.byteLength, (writer) =>
        writer.u8(RECORD_TYPES.dedup).u8(clientId.byteLength).bytes(clientId).bytes(entry),
      );
    }
    case 'pair': {
      const payloadBytes = 1 + 4 + record.key.byteLength + record.value.byteLength;
      if (payloadBytes > SNAPSHOT_RECORD_PAYLOAD_BYTES_MAX) {
        // The state machine never stores such a pair; writing it would make a snapshot no reader accepts.
        throw new Error(`snapshot: a pair of ${payloadBytes} bytes is over the record limit`);
      }
      return framed(payloadBytes, (writer) =>
        writer.u8(RECORD_TYPES.pair).u32(record.key.byteLength).bytes(record.key).bytes(record.value),
      );
    }
    case 'end':
      return framed(1 + 8 + 8, (writer) => writer.u8(RECORD_TYPES.end).u64(record.dedupCount).u64(record.pairCount));
  }
}

function framed(payloadBytes: number, fill: (writer: ByteWriter) => ByteWriter): Buffer {
  const writer = new ByteWriter(RECORD_HEADER_BYTES + payloadBytes);
  writer.u32(0).u32(0); // sealRecord fills in the length and checksum
  return sealRecord(fill(writer).finish());
}

/** The record a checksummed payload holds; throws KvDecodeError when it holds none. */
export function decodeSnapshotRecord(payload: Uint8Array): SnapshotRecord {
  const reader = new ByteReader(payload, 'snapshot record', KvDecodeError);
  const type = reader.u8('record type');
  let record: SnapshotRecord;
  switch (type) {
    case RECORD_TYPES.header: {
      const magic = reader.bytes(MAGIC.byteLength, 'magic');
      if (!MAGIC.equals(magic)) reader.fail('the header does not start with "RKVS": this is not a kv snapshot');
      const version = reader.u8('format version');
      if (version !== FORMAT_VERSION) {
        reader.fail(`snapshot format version ${version} is unknown to this raftkv (it reads ${FORMAT_VERSION})`);
      }
      record = { type: 'header', appliedIndex: reader.u64('applied index'), appliedTerm: reader.u64('applied term') };
      break;
    }
    case RECORD_TYPES.dedup: {
      const clientIdBytes = reader.u8('client id length');
      if (clientIdBytes === 0 || clientIdBytes > CLIENT_ID_BYTES_MAX) {
        reader.fail(`the client id length ${clientIdBytes} is outside 1..${CLIENT_ID_BYTES_MAX}`);
      }
      const clientId = reader.utf8(clientIdBytes, 'client id');
      return { type: 'dedup', clientId, entry: decodeDedupEntry(reader.rest('dedup entry')) };
    }
    case RECORD_TYPES.pair: {
      const key = reader.bytes(reader.u32('key length'), 'key');
      return { type: 'pair', key, value: reader.rest('value') };
    }
    case RECORD_TYPES.end:
      record = { type: 'end', dedupCount: reader.u64('dedup count'), pairCount: reader.u64('pair count') };
      break;
    default:
      return reader.fail(`snapshot record type ${type} is unknown`);
  }
  reader.expectEnd();
  return record;
}
