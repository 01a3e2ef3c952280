/** Counting live keys (DBSIZE) over stored values, shared by the KV and shard state machines. */
import type { KvOk } from './commands.js';
import type { EngineEntry } from './engine.js';
import { decodeStoredValue, isExpired } from './stored-value.js';

/** Entries whose stored value has not expired by `nowMs`; consumes the iterator. */
export async function countLive(
  entries: AsyncIterable<EngineEntry> | Iterable<EngineEntry>,
  nowMs: number,
): Promise<number> {
  let count = 0;
  for await (const { value } of entries) if (!isExpired(decodeStoredValue(value), nowMs)) count++;
  return count;
}

/** The count travels as decimal text in the value field, as incrBy's result does. */
export function countReply(count: number): KvOk {
  return { ok: true, value: Buffer.from(String(count), 'latin1') };
}

/** The count a count reply carries. */
export function countOf(reply: KvOk): number {
  if (reply.value == null) throw new Error('count: the group answered without a count');
  return Number(Buffer.from(reply.value).toString('latin1'));
}
