/** Shared helpers of the kv tests: a log that numbers entries, temp directories, engine dumps. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeCommand } from '../../../src/kv/command-codec.js';
import type { KvCommand, KvReply } from '../../../src/kv/commands.js';
import { utf8 } from '../../../src/kv/commands.js';
import type { KvEngine } from '../../../src/kv/engine.js';
import type { KvStateMachine } from '../../../src/kv/state-machine.js';

/** Applies `command` at the next log index, as a node would once it is committed. */
export function applyNext(machine: KvStateMachine, command: KvCommand, term = 1): Promise<KvReply> {
  return machine.apply(machine.appliedIndex + 1, encodeCommand(command), term);
}

/** A client that numbers its own requests, as the client library does. */
export class TestClient {
  private sequence = 0;

  constructor(readonly clientId: string) {}

  put(key: string | Uint8Array, value: string | Uint8Array): KvCommand {
    return { type: 'put', ...this.next(), key: bytesOf(key), value: bytesOf(value) };
  }

  append(key: string, value: string | Uint8Array): KvCommand {
    return { type: 'append', ...this.next(), key: utf8(key), value: bytesOf(value) };
  }

  delete(key: string): KvCommand {
    return { type: 'delete', ...this.next(), key: utf8(key) };
  }

  cas(key: string, expected: string | null, value: string): KvCommand {
    return {
      type: 'cas',
      ...this.next(),
      key: utf8(key),
      expected: expected === null ? null : utf8(expected),
      value: utf8(value),
    };
  }

  private next(): { clientId: string; sequence: number } {
    this.sequence++;
    return { clientId: this.clientId, sequence: this.sequence };
  }
}

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? utf8(value) : value;
}

/** The value of a get reply as text, or null; fails the test on an error reply. */
export function textOf(reply: KvReply): string | null {
  if (!reply.ok) throw new Error(`expected a value, got ${reply.error.code}: ${reply.error.message}`);
  if (reply.value === undefined) throw new Error('expected a get reply, got one without a value field');
  return reply.value === null ? null : Buffer.from(reply.value).toString('utf8');
}

/** Everything an engine holds, as hex pairs, for comparing two engines entry by entry. */
export async function dumpEngine(engine: KvEngine): Promise<[string, string][]> {
  const entries: [string, string][] = [];
  for await (const { key, value } of engine.entries()) {
    entries.push([Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex')]);
  }
  return entries;
}

/** Runs `body` in a fresh temp directory and removes it afterwards, whatever happens. */
export async function inTempDirectory(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-kv-'));
  try {
    await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Collects an async stream of chunks. */
export async function collectChunks(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const collected: Uint8Array[] = [];
  for await (const chunk of chunks) collected.push(new Uint8Array(chunk));
  return collected;
}

/** Chunks as an async stream, one turn of the event loop apart, as a snapshot file or a peer delivers them. */
export async function* streamOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await new Promise((resolve) => setImmediate(resolve));
    yield chunk;
  }
}
