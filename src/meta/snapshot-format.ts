/**
 * The meta state machine's snapshot: newline-delimited JSON, UTF-8, format 1.
 *
 *   {"format":1,"appliedIndex":42,"bucketCount":10,"configCount":3,"clientCount":2}
 *   {"version":1,"buckets":[...],"groups":[...]}          one line per config, versions 1..configCount
 *   {"clientId":"admin-1","lastSequence":4,"lastSeenIndex":40,"reply":{"version":3}}
 *   {"clientId":"admin-2","lastSequence":9,"lastSeenIndex":41,"reply":{"error":{"code":...}}}
 *
 * Version 0 is not written: it follows from the bucket count. Clients are
 * written least recently seen first. A remembered ok reply is written as the
 * version of the config it returned, which is in the chain already, so a
 * snapshot holds each config once however many clients saw it.
 *
 * The counts in the header make a stream cut at a line boundary detectable;
 * every line is checked as strictly as a command, and the whole stream is
 * read before anything is replaced, so a damaged one leaves the state as it was.
 */
import { TextDecoder } from 'node:util';
import type { LogIndex } from '../raft/types.js';
import { CLIENT_ID_BYTES_MAX } from '../kv/commands.js';
import type { ClientRecord } from './client-table.js';
import type { MetaReply } from './commands.js';
import { canonicalErrorValue, parseErrorValue, REPLY_BYTES_MAX } from './command-codec.js';
import type { ShardConfig } from './config.js';
import { BUCKET_COUNT_MAX, canonicalConfigValue } from './config.js';
import { parseConfigValue } from './config-codec.js';
import { MetaDecodeError, MetaSnapshotCorruptionError } from './errors.js';
import { fields, integer, parseJsonText, text } from './json-shape.js';

const FORMAT_VERSION = 1;
/** Longest line: one config or one client's reply, both bounded by what a reply may hold. */
const LINE_CHARS_MAX = REPLY_BYTES_MAX;

/** Everything the state machine holds, as of one log index. */
export interface MetaSnapshotState {
  readonly appliedIndex: LogIndex;
  readonly bucketCount: number | null;
  /** Versions 1..n, in order. */
  readonly configs: readonly ShardConfig[];
  /** Least recently seen first. */
  readonly clients: readonly (readonly [string, ClientRecord])[];
}

const encoder = new TextEncoder();

/**
 * The snapshot of `state` in chunks of exactly `chunkBytesMax` (the last one
 * shorter). Lines are encoded as the chunks are read; `state` must not change
 * meanwhile (the state machine hands over copies of its arrays, and configs
 * and replies are immutable).
 */
export async function* snapshotChunks(state: MetaSnapshotState, chunkBytesMax: number): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for (const line of snapshotLines(state)) {
    const bytes = encoder.encode(`${line}\n`);
    pending.push(bytes);
    pendingBytes += bytes.byteLength;
    while (pendingBytes >= chunkBytesMax) {
      const joined = Buffer.concat(pending);
      yield await Promise.resolve(joined.subarray(0, chunkBytesMax));
      pending = [joined.subarray(chunkBytesMax)];
      pendingBytes = joined.byteLength - chunkBytesMax;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

function* snapshotLines(state: MetaSnapshotState): Generator<string> {
  yield JSON.stringify({
    format: FORMAT_VERSION,
    appliedIndex: state.appliedIndex,
    bucketCount: state.bucketCount,
    configCount: state.configs.length,
    clientCount: state.clients.length,
  });
  for (const config of state.configs) yield JSON.stringify(canonicalConfigValue(config));
  for (const [clientId, record] of state.clients) {
    const reply = record.lastReply.ok
      ? { version: record.lastReply.config.version }
      : { error: canonicalErrorValue(record.lastReply.error) };
    yield JSON.stringify({
      clientId,
      lastSequence: record.lastSequence,
      lastSeenIndex: record.lastSeenIndex,
      reply,
    });
  }
}

/** Reads a whole snapshot stream; MetaSnapshotCorruptionError when it is damaged or ends at another index. */
export async function readSnapshot(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  expectedIndex: LogIndex,
): Promise<MetaSnapshotState> {
  const reader = new SnapshotReader(expectedIndex);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let buffered = '';
  try {
    for await (const chunk of chunks) {
      buffered += utf8(decoder, chunk);
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        reader.line(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
      if (buffered.length > LINE_CHARS_MAX) throw new MetaDecodeError(`a line is longer than ${LINE_CHARS_MAX}`);
    }
    buffered += utf8(decoder, null);
  } catch (error) {
    throw reader.corruption(error);
  }
  if (buffered.length > 0) throw new MetaSnapshotCorruptionError('the stream ends inside a line');
  return reader.finish();
}

/** The text of the next chunk (null: the end of the stream); a byte that is not UTF-8 is a decode error. */
function utf8(decoder: TextDecoder, chunk: Uint8Array | null): string {
  try {
    return chunk === null ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch {
    throw new MetaDecodeError('the stream is not valid UTF-8');
  }
}

/** Takes the lines one by one and checks each against what the header promised. */
class SnapshotReader {
  private header: {
    appliedIndex: number;
    bucketCount: number | null;
    configCount: number;
    clientCount: number;
  } | null = null;
  private readonly configs: ShardConfig[] = [];
  private readonly clients: [string, ClientRecord][] = [];
  private readonly clientIds = new Set<string>();
  private lineNumber = 0;

  constructor(private readonly expectedIndex: LogIndex) {}

  line(line: string): void {
    this.lineNumber += 1;
    const value = parseJsonText(line, 'snapshot');
    if (this.header === null) {
      this.header = this.readHeader(value);
    } else if (this.configs.length < this.header.configCount) {
      this.configs.push(this.readConfig(value, this.header.bucketCount));
    } else if (this.clients.length < this.header.clientCount) {
      this.clients.push(this.readClient(value, this.header.appliedIndex));
    } else {
      throw new MetaDecodeError('a line after the last one the header announced');
    }
  }

  finish(): MetaSnapshotState {
    const header = this.header;
    if (header === null) throw new MetaSnapshotCorruptionError('the stream is empty');
    if (this.configs.length < header.configCount || this.clients.length < header.clientCount) {
      throw new MetaSnapshotCorruptionError(
        `the stream ends after ${this.configs.length} of ${header.configCount} configs and ` +
          `${this.clients.length} of ${header.clientCount} clients`,
      );
    }
    return {
      appliedIndex: header.appliedIndex,
      bucketCount: header.bucketCount,
      configs: this.configs,
      clients: this.clients,
    };
  }

  corruption(error: unknown): Error {
    if (error instanceof MetaDecodeError) {
      return new MetaSnapshotCorruptionError(`line ${this.lineNumber}: ${error.problem}`);
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  private readHeader(value: unknown): NonNullable<SnapshotReader['header']> {
    const record = fields(value, 'header', ['format', 'appliedIndex', 'bucketCount', 'configCount', 'clientCount']);
    integer(record['format'], 'header.format', FORMAT_VERSION, FORMAT_VERSION);
    const appliedIndex = integer(record['appliedIndex'], 'header.appliedIndex', 0);
    if (appliedIndex !== this.expectedIndex) {
      throw new MetaDecodeError(
        `header: the snapshot ends at log index ${appliedIndex}, but the node installs it as index ${this.expectedIndex}`,
      );
    }
    const bucketCount =
      record['bucketCount'] === null ? null : integer(record['bucketCount'], 'header.bucketCount', 1, BUCKET_COUNT_MAX);
    const configCount = integer(record['configCount'], 'header.configCount', 0);
    if (bucketCount === null && configCount > 0) {
      throw new MetaDecodeError('header: configs without a bucket count (a config exists only after the first join)');
    }
    return {
      appliedIndex,
      bucketCount,
      configCount,
      clientCount: integer(record['clientCount'], 'header.clientCount', 0),
    };
  }

  private readConfig(value: unknown, bucketCount: number | null): ShardConfig {
    const config = parseConfigValue(value, 'config');
    const version = this.configs.length + 1;
    if (config.version !== version)
      throw new MetaDecodeError(`config: version ${config.version} where ${version} belongs`);
    if (config.buckets.length !== bucketCount) {
      throw new MetaDecodeError(
        `config ${version}: ${config.buckets.length} buckets, not the ${bucketCount} of the header`,
      );
    }
    return config;
  }

  private readClient(value: unknown, appliedIndex: LogIndex): [string, ClientRecord] {
    const record = fields(value, 'client', ['clientId', 'lastSequence', 'lastSeenIndex', 'reply']);
    const clientId = text(record['clientId'], 'client.clientId', CLIENT_ID_BYTES_MAX);
    if (clientId.length === 0 || this.clientIds.has(clientId)) {
      throw new MetaDecodeError(`client: client id ${JSON.stringify(clientId)} is empty or given twice`);
    }
    this.clientIds.add(clientId);
    return [
      clientId,
      {
        lastSequence: integer(record['lastSequence'], 'client.lastSequence', 1),
        lastSeenIndex: integer(record['lastSeenIndex'], 'client.lastSeenIndex', 1, appliedIndex),
        lastReply: this.readReply(record['reply']),
      },
    ];
  }

  private readReply(value: unknown): MetaReply {
    const record = fields(value, 'client.reply', [], ['version', 'error']);
    if (Object.keys(record).length !== 1) throw new MetaDecodeError('client.reply: expected a version or an error');
    if (record['error'] !== undefined)
      return { ok: false, error: parseErrorValue(record['error'], 'client.reply.error') };
    const version = integer(record['version'], 'client.reply.version', 1, this.configs.length);
    return { ok: true, config: this.configs[version - 1]! };
  }
}
