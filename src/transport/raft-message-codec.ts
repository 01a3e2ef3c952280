/**
 * Raft messages on the wire (the payload of a raftMessage frame), format version 1:
 *
 *   [u8 version = 1][u8 type][u64 term][u32 from][u32 to][body of that type]
 *
 *   1 append             [u64 prevIndex][u64 prevTerm][u64 commit][u32 count][entry]*
 *   2 appendResponse     [bool success][u64 matchIndex][u64 rejectedIndex][u64 hintIndex][u64 hintTerm]
 *   3 heartbeat          [u64 commit][text? readContext][u64 round]
 *   4 heartbeatResponse  [text? readContext][u64 round]
 *   5 requestVote        [bool preVote][u64 lastIndex][u64 lastTerm][bool leadershipTransfer]
 *   6 voteResponse       [bool preVote][bool granted]
 *   7 installSnapshot    [snapshot meta][u64 offset][bool done][u32 length][data]
 *   8 snapshotResponse   [u64 snapshotIndex][u64 nextOffset][bool installed]
 *   9 timeoutNow         nothing
 *  10 readIndexRequest   [text context]
 *  11 readIndexResponse  [text context][u64? index]
 *
 *   entry         = [u8 kind][u64 index][u64 term][command: u32 length, data | config: change | noop: nothing]
 *   change        = [u8 type][addLearner: u32 node, text? address | promoteLearner, removeNode: u32 node
 *                   | bootstrap: membership]
 *   membership    = [u32 count][u32 voter]*[u32 count][u32 learner]*
 *   snapshot meta = [u64 index][u64 term][membership][u64 sizeBytes]
 *   bool = u8 0|1; text = [u32 length][UTF-8]; X? = [u8 present 0|1][X, if present]
 *
 * Hand-written like the log's entry codec, and for the same reasons: the
 * layout is small and fixed, command and snapshot bytes are copied once (and
 * not at all when decoded: an entry's command is a view into its message), and
 * the version byte lets a later format be refused with a clear reason. Unlike
 * the entry codec, config changes are binary, not JSON: a leader sends them
 * in every AppendEntries batch that carries them.
 *
 * Decoding trusts nothing: every count is checked against the bytes that are
 * actually left before anything is read or allocated, so a forged count or
 * length fails at once with a MessageDecodeError instead of looping or
 * allocating gigabytes.
 */
import { ByteReader, ByteWriter } from '../encoding/bytes.js';
import type { AppendEntries } from '../raft/messages.js';
import type {
  ConfigChange,
  Entry,
  LogIndex,
  Membership,
  Message,
  MessageType,
  NodeId,
  SnapshotMeta,
  Term,
} from '../raft/index.js';
import { NODE_ID_MAX } from '../raft/index.js';
import { MessageDecodeError } from './errors.js';

const FORMAT_VERSION = 1;
export { NODE_ID_MAX };

const MESSAGE_TYPE_CODES = {
  append: 1,
  appendResponse: 2,
  heartbeat: 3,
  heartbeatResponse: 4,
  requestVote: 5,
  voteResponse: 6,
  installSnapshot: 7,
  snapshotResponse: 8,
  timeoutNow: 9,
  readIndexRequest: 10,
  readIndexResponse: 11,
} as const satisfies Record<MessageType, number>;
const ENTRY_KIND_CODES = { command: 1, config: 2, noop: 3 } as const satisfies Record<Entry['kind'], number>;
const CONFIG_CHANGE_CODES = {
  addLearner: 1,
  promoteLearner: 2,
  removeNode: 3,
  bootstrap: 4,
} as const satisfies Record<ConfigChange['type'], number>;

const U8_BYTES = 1;
const U32_BYTES = 4;
const U64_BYTES = 8;
/** Version, type, term, from, to. */
const ENVELOPE_BYTES = 2 * U8_BYTES + U64_BYTES + 2 * U32_BYTES;
/** Kind, index, term: what the smallest entry (a noop) takes, used to bound a forged entry count. */
const ENTRY_HEADER_BYTES = U8_BYTES + 2 * U64_BYTES;

/** A body: how many bytes it takes, and how to write them. Sized first so the message is written into one buffer. */
interface Body {
  readonly sizeBytes: number;
  write(writer: ByteWriter): void;
}

export function encodeRaftMessage(message: Message): Buffer {
  if (message.type === 'append') return encodeAppend(message);
  const body = bodyOf(message);
  const writer = new ByteWriter(ENVELOPE_BYTES + body.sizeBytes);
  writer.u8(FORMAT_VERSION).u8(MESSAGE_TYPE_CODES[message.type]).u64(message.term);
  writeNodeId(writer, message.from);
  writeNodeId(writer, message.to);
  body.write(writer);
  return writer.finish();
}

function bodyOf(message: Exclude<Message, AppendEntries>): Body {
  switch (message.type) {
    case 'appendResponse':
      return {
        sizeBytes: U8_BYTES + 4 * U64_BYTES,
        write: (w) => {
          w.u8(Number(message.success)).u64(message.matchIndex).u64(message.rejectedIndex);
          w.u64(message.hintIndex).u64(message.hintTerm);
        },
      };
    case 'heartbeat': {
      const readContext = optionalText(message.readContext);
      return {
        sizeBytes: 2 * U64_BYTES + readContext.sizeBytes,
        write: (w) => {
          w.u64(message.commit);
          readContext.write(w);
          w.u64(message.round);
        },
      };
    }
    case 'heartbeatResponse': {
      const readContext = optionalText(message.readContext);
      return {
        sizeBytes: U64_BYTES + readContext.sizeBytes,
        write: (w) => {
          readContext.write(w);
          w.u64(message.round);
        },
      };
    }
    case 'requestVote':
      return {
        sizeBytes: 2 * U8_BYTES + 2 * U64_BYTES,
        write: (w) => {
          w.u8(Number(message.preVote)).u64(message.lastIndex).u64(message.lastTerm);
          w.u8(Number(message.leadershipTransfer));
        },
      };
    case 'voteResponse':
      return { sizeBytes: 2 * U8_BYTES, write: (w) => w.u8(Number(message.preVote)).u8(Number(message.granted)) };
    case 'installSnapshot': {
      const meta = snapshotMetaBody(message.snapshot);
      return {
        sizeBytes: meta.sizeBytes + U64_BYTES + U8_BYTES + U32_BYTES + message.data.byteLength,
        write: (w) => {
          meta.write(w);
          w.u64(message.offset).u8(Number(message.done)).u32(message.data.byteLength).bytes(message.data);
        },
      };
    }
    case 'snapshotResponse':
      return {
        sizeBytes: 2 * U64_BYTES + U8_BYTES,
        write: (w) => w.u64(message.snapshotIndex).u64(message.nextOffset).u8(Number(message.installed)),
      };
    case 'timeoutNow':
      return { sizeBytes: 0, write: () => {} };
    case 'readIndexRequest':
      return text(message.context);
    case 'readIndexResponse': {
      const context = text(message.context);
      const { index } = message;
      return {
        sizeBytes: context.sizeBytes + U8_BYTES + (index === null ? 0 : U64_BYTES),
        write: (w) => {
          context.write(w);
          if (index === null) w.u8(0);
          else w.u8(1).u64(index);
        },
      };
    }
  }
}

/**
 * AppendEntries, the message a leader sends most, sized and written in two
 * plain loops: no Body object and closures per entry, which cost more than
 * the writing itself at ~20 entries per message (the other messages are rare).
 */
function encodeAppend(message: AppendEntries): Buffer {
  const { entries } = message;
  const configs = entries.map((entry) => (entry.kind === 'config' ? configChangeBody(entry.change) : null));
  let sizeBytes = ENVELOPE_BYTES + 3 * U64_BYTES + U32_BYTES;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position]!;
    sizeBytes += ENTRY_HEADER_BYTES;
    if (entry.kind === 'command') sizeBytes += U32_BYTES + entry.data.byteLength;
    else if (entry.kind === 'config') sizeBytes += configs[position]!.sizeBytes;
  }
  const writer = new ByteWriter(sizeBytes);
  writer.u8(FORMAT_VERSION).u8(MESSAGE_TYPE_CODES.append).u64(message.term);
  writeNodeId(writer, message.from);
  writeNodeId(writer, message.to);
  writer.u64(message.prevIndex).u64(message.prevTerm).u64(message.commit).u32(entries.length);
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position]!;
    writer.u8(ENTRY_KIND_CODES[entry.kind]).u64(entry.index).u64(entry.term);
    if (entry.kind === 'command') writer.u32(entry.data.byteLength).bytes(entry.data);
    else if (entry.kind === 'config') configs[position]!.write(writer);
  }
  return writer.finish();
}

function configChangeBody(change: ConfigChange): Body {
  const code = CONFIG_CHANGE_CODES[change.type];
  switch (change.type) {
    case 'addLearner': {
      const address = optionalText(change.address ?? null);
      return {
        sizeBytes: U8_BYTES + U32_BYTES + address.sizeBytes,
        write: (w) => address.write(writeNodeId(w.u8(code), change.node)),
      };
    }
    case 'promoteLearner':
    case 'removeNode':
      return { sizeBytes: U8_BYTES + U32_BYTES, write: (w) => writeNodeId(w.u8(code), change.node) };
    case 'bootstrap': {
      const membership = membershipBody(change.membership);
      return { sizeBytes: U8_BYTES + membership.sizeBytes, write: (w) => membership.write(w.u8(code)) };
    }
  }
}

function membershipBody(membership: Membership): Body {
  const { voters, learners } = membership;
  return {
    sizeBytes: 2 * U32_BYTES + (voters.length + learners.length) * U32_BYTES,
    write: (w) => {
      for (const list of [voters, learners]) {
        w.u32(list.length);
        for (const node of list) writeNodeId(w, node);
      }
    },
  };
}

function snapshotMetaBody(meta: SnapshotMeta): Body {
  const membership = membershipBody(meta.membership);
  return {
    sizeBytes: 3 * U64_BYTES + membership.sizeBytes,
    write: (w) => {
      w.u64(meta.index).u64(meta.term);
      membership.write(w);
      w.u64(meta.sizeBytes);
    },
  };
}

function text(value: string): Body {
  const bytes = Buffer.from(value, 'utf8');
  return { sizeBytes: U32_BYTES + bytes.byteLength, write: (w) => w.u32(bytes.byteLength).bytes(bytes) };
}

function optionalText(value: string | null): Body {
  if (value === null) return { sizeBytes: U8_BYTES, write: (w) => w.u8(0) };
  const present = text(value);
  return { sizeBytes: U8_BYTES + present.sizeBytes, write: (w) => present.write(w.u8(1)) };
}

function writeNodeId(writer: ByteWriter, node: NodeId): ByteWriter {
  assertWireNodeId(node);
  return writer.u32(node);
}

/** A node id that does not fit is a bug of whoever configured the group, not bad input: an assertion. */
export function assertWireNodeId(node: NodeId): void {
  if (!Number.isInteger(node) || node < 0 || node > NODE_ID_MAX) {
    throw new Error(`node id ${node} does not fit the wire format (an integer in 0..${NODE_ID_MAX})`);
  }
}

/** The message `bytes` hold; throws MessageDecodeError saying what is wrong when they hold none. */
export function decodeRaftMessage(bytes: Uint8Array): Message {
  const reader = new ByteReader(bytes, 'raft message', MessageDecodeError);
  const version = reader.u8('format version');
  if (version !== FORMAT_VERSION) {
    reader.fail(`format version ${version} is unknown to this raftkv (it reads version ${FORMAT_VERSION})`);
  }
  const typeCode = reader.u8('message type');
  const envelope = { term: reader.u64('term'), from: reader.u32('sender'), to: reader.u32('receiver') };
  const message = decodeBody(reader, typeCode, envelope);
  reader.expectEnd();
  return message;
}

interface EnvelopeFields {
  readonly term: Term;
  readonly from: NodeId;
  readonly to: NodeId;
}

function decodeBody(reader: ByteReader, typeCode: number, envelope: EnvelopeFields): Message {
  switch (typeCode) {
    case MESSAGE_TYPE_CODES.append: {
      const prevIndex = reader.u64('previous index');
      const prevTerm = reader.u64('previous term');
      const commit = reader.u64('commit index');
      const entries = readEntries(reader);
      checkEntriesFollow(reader, entries, prevIndex, prevTerm, envelope.term);
      return { type: 'append', ...envelope, prevIndex, prevTerm, entries, commit };
    }
    case MESSAGE_TYPE_CODES.appendResponse:
      return {
        type: 'appendResponse',
        ...envelope,
        success: readBool(reader, 'success flag'),
        matchIndex: reader.u64('match index'),
        rejectedIndex: reader.u64('rejected index'),
        hintIndex: reader.u64('hint index'),
        hintTerm: reader.u64('hint term'),
      };
    case MESSAGE_TYPE_CODES.heartbeat:
      return {
        type: 'heartbeat',
        ...envelope,
        commit: reader.u64('commit index'),
        readContext: readOptionalText(reader, 'read context'),
        round: reader.u64('heartbeat round'),
      };
    case MESSAGE_TYPE_CODES.heartbeatResponse:
      return {
        type: 'heartbeatResponse',
        ...envelope,
        readContext: readOptionalText(reader, 'read context'),
        round: reader.u64('heartbeat round'),
      };
    case MESSAGE_TYPE_CODES.requestVote:
      return {
        type: 'requestVote',
        ...envelope,
        preVote: readBool(reader, 'pre-vote flag'),
        lastIndex: reader.u64('last index'),
        lastTerm: reader.u64('last term'),
        leadershipTransfer: readBool(reader, 'leadership transfer flag'),
      };
    case MESSAGE_TYPE_CODES.voteResponse:
      return {
        type: 'voteResponse',
        ...envelope,
        preVote: readBool(reader, 'pre-vote flag'),
        granted: readBool(reader, 'granted flag'),
      };
    case MESSAGE_TYPE_CODES.installSnapshot:
      return {
        type: 'installSnapshot',
        ...envelope,
        snapshot: readSnapshotMeta(reader),
        offset: reader.u64('snapshot offset'),
        done: readBool(reader, 'done flag'),
        data: reader.bytes(reader.u32('snapshot data length'), 'snapshot data'),
      };
    case MESSAGE_TYPE_CODES.snapshotResponse:
      return {
        type: 'snapshotResponse',
        ...envelope,
        snapshotIndex: reader.u64('snapshot index'),
        nextOffset: reader.u64('next offset'),
        installed: readBool(reader, 'installed flag'),
      };
    case MESSAGE_TYPE_CODES.timeoutNow:
      return { type: 'timeoutNow', ...envelope };
    case MESSAGE_TYPE_CODES.readIndexRequest:
      return { type: 'readIndexRequest', ...envelope, context: readText(reader, 'read context') };
    case MESSAGE_TYPE_CODES.readIndexResponse: {
      const context = readText(reader, 'read context');
      const index: LogIndex | null = readBool(reader, 'index-present flag') ? reader.u64('read index') : null;
      return { type: 'readIndexResponse', ...envelope, context, index };
    }
    default:
      return reader.fail(`message type ${typeCode} is unknown`);
  }
}

/**
 * Entries of one append follow prevIndex one by one, with terms that never go
 * down, from prevTerm up to the sender's term. The core asserts this of every
 * leader; a forged message that breaks it is refused here, where a refusal
 * closes one connection, instead of tripping an assertion in the core.
 */
function checkEntriesFollow(
  reader: ByteReader,
  entries: readonly Entry[],
  prevIndex: LogIndex,
  prevTerm: Term,
  messageTerm: Term,
): void {
  let previousTerm = prevTerm;
  entries.forEach((entry, offset) => {
    if (entry.index !== prevIndex + 1 + offset) {
      reader.fail(
        `entry ${offset} has index ${entry.index}, not ${prevIndex + 1 + offset}: entries must follow prevIndex`,
      );
    }
    if (entry.term < previousTerm || entry.term > messageTerm) {
      reader.fail(
        `entry ${entry.index} has term ${entry.term}, outside ${previousTerm}..${messageTerm}: ` +
          "terms must not go down nor pass the sender's",
      );
    }
    previousTerm = entry.term;
  });
}

function readEntries(reader: ByteReader): Entry[] {
  const count = readCount(reader, 'entry', ENTRY_HEADER_BYTES);
  const entries: Entry[] = [];
  for (let position = 0; position < count; position++) entries.push(readEntry(reader));
  return entries;
}

function readEntry(reader: ByteReader): Entry {
  const kindCode = reader.u8('entry kind');
  const index = reader.u64('entry index');
  const term = reader.u64('entry term');
  if (index < 1) reader.fail('an entry has index 0; the first entry of a log has index 1');
  switch (kindCode) {
    case ENTRY_KIND_CODES.command:
      // A view into the message, not a copy: the entry's bytes are most of the message anyway, and the log
      // store copies them into its record.
      return { kind: 'command', index, term, data: reader.view(reader.u32('command length'), 'command') };
    case ENTRY_KIND_CODES.config:
      return { kind: 'config', index, term, change: readConfigChange(reader) };
    case ENTRY_KIND_CODES.noop:
      return { kind: 'noop', index, term };
    default:
      return reader.fail(`entry kind ${kindCode} is unknown`);
  }
}

function readConfigChange(reader: ByteReader): ConfigChange {
  const code = reader.u8('config change type');
  switch (code) {
    case CONFIG_CHANGE_CODES.addLearner: {
      const node = reader.u32('node id');
      const address = readOptionalText(reader, 'learner address');
      return address === null ? { type: 'addLearner', node } : { type: 'addLearner', node, address };
    }
    case CONFIG_CHANGE_CODES.promoteLearner:
      return { type: 'promoteLearner', node: reader.u32('node id') };
    case CONFIG_CHANGE_CODES.removeNode:
      return { type: 'removeNode', node: reader.u32('node id') };
    case CONFIG_CHANGE_CODES.bootstrap:
      return { type: 'bootstrap', membership: readMembership(reader) };
    default:
      return reader.fail(`config change type ${code} is unknown`);
  }
}

function readMembership(reader: ByteReader): Membership {
  const voters = readNodeIds(reader, 'voter');
  const learners = readNodeIds(reader, 'learner');
  return { voters, learners };
}

function readNodeIds(reader: ByteReader, what: string): NodeId[] {
  const count = readCount(reader, what, U32_BYTES);
  const nodes: NodeId[] = [];
  for (let position = 0; position < count; position++) nodes.push(reader.u32(`${what} id`));
  return nodes;
}

function readSnapshotMeta(reader: ByteReader): SnapshotMeta {
  const index = reader.u64('snapshot index');
  const term = reader.u64('snapshot term');
  const membership = readMembership(reader);
  return { index, term, membership, sizeBytes: reader.u64('snapshot size') };
}

/** A u32 count of items of at least `itemBytesMin` each, refused at once when the bytes left cannot hold them. */
function readCount(reader: ByteReader, what: string, itemBytesMin: number): number {
  const count = reader.u32(`${what} count`);
  if (count * itemBytesMin > reader.remainingBytes) {
    reader.fail(
      `a ${what} count of ${count} needs at least ${count * itemBytesMin} bytes; ${reader.remainingBytes} remain`,
    );
  }
  return count;
}

function readBool(reader: ByteReader, field: string): boolean {
  const value = reader.u8(field);
  if (value > 1) reader.fail(`the ${field} is ${value}, not 0 or 1`);
  return value === 1;
}

function readText(reader: ByteReader, field: string): string {
  return reader.utf8(reader.u32(`${field} length`), field);
}

function readOptionalText(reader: ByteReader, field: string): string | null {
  return readBool(reader, `${field}-present flag`) ? readText(reader, field) : null;
}
