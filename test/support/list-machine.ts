/**
 * A tiny ReplicatedStateMachine for node tests: it appends each command (as
 * text) to a list and replies with the list's length. Its snapshot is the
 * list as JSON, in small chunks, so that transfers take several messages.
 */
import type { LogIndex } from '../../src/raft/index.js';
import type { ApplyEntry, ReplicatedStateMachine } from '../../src/node/index.js';

const SNAPSHOT_CHUNK_BYTES = 64;

export class ListMachine implements ReplicatedStateMachine {
  items: string[] = [];
  appliedIndex: LogIndex = 0;

  applyBatch(entries: readonly ApplyEntry[]): Promise<unknown[]> {
    return Promise.resolve(
      entries.map((entry) => {
        this.advanceTo(entry.index);
        if (entry.command === null) return undefined;
        this.items.push(new TextDecoder().decode(entry.command));
        return this.items.length;
      }),
    );
  }

  /** Serialized now, not at the first read: applies may go on while the node writes the snapshot. */
  snapshot(): AsyncGenerator<Uint8Array> {
    const bytes = new TextEncoder().encode(JSON.stringify({ appliedIndex: this.appliedIndex, items: this.items }));
    return (async function* chunked() {
      for (let offset = 0; offset < bytes.byteLength; offset += SNAPSHOT_CHUNK_BYTES) {
        yield await Promise.resolve(bytes.slice(offset, offset + SNAPSHOT_CHUNK_BYTES));
      }
    })();
  }

  async restore(chunks: AsyncIterable<Uint8Array>, index: LogIndex): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    const parsed = JSON.parse(Buffer.concat(parts).toString('utf8')) as { appliedIndex: number; items: string[] };
    if (parsed.appliedIndex !== index) throw new Error(`snapshot says ${parsed.appliedIndex}, expected ${index}`);
    this.items = parsed.items;
    this.appliedIndex = index;
  }

  private advanceTo(index: LogIndex): void {
    if (index !== this.appliedIndex + 1) throw new Error(`applying ${index} after ${this.appliedIndex}`);
    this.appliedIndex = index;
  }
}
