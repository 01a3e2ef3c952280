/**
 * The state machine the simulation replicates: it remembers the value of
 * every applied command by log index, like the MIT 6.824 test harness does,
 * so that any two members can be compared entry by entry.
 */
import type { LogIndex } from '../raft/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(value: string): Uint8Array {
  return encoder.encode(value);
}

export function decodeCommand(data: Uint8Array): string {
  return decoder.decode(data);
}

export class AppliedValues {
  private values = new Map<LogIndex, string>();
  lastApplied: LogIndex = 0;

  apply(index: LogIndex, value: string | null): void {
    if (index !== this.lastApplied + 1) {
      throw new Error(`state machine: applying ${index} after ${this.lastApplied}: out of order`);
    }
    if (value !== null) this.values.set(index, value);
    this.lastApplied = index;
  }

  valueAt(index: LogIndex): string | undefined {
    return this.values.get(index);
  }

  get commandCount(): number {
    return this.values.size;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify({ lastApplied: this.lastApplied, values: [...this.values] }));
  }

  static restore(data: Uint8Array): AppliedValues {
    const parsed = JSON.parse(decoder.decode(data)) as { lastApplied: number; values: [number, string][] };
    const machine = new AppliedValues();
    machine.values = new Map(parsed.values);
    machine.lastApplied = parsed.lastApplied;
    return machine;
  }
}
