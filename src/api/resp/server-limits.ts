/** Every bound the RESP server keeps, per connection and in all. */
import type { RespLimits } from './parser.js';
import { DEFAULT_RESP_LIMITS } from './parser.js';

export interface RespServerLimits extends RespLimits {
  /**
   * Requests parsed but not yet answered, per connection. At this many the
   * server stops reading the socket until the queue shrinks, so a client
   * pipelining faster than the store answers is slowed by TCP, not buffered.
   * The queue can pass it by the requests of the one chunk that reached it.
   */
  readonly requestsQueuedMax: number;
  /**
   * Bytes of the arguments of requests parsed but not yet answered, per
   * connection: reading stops at this many too, so a pipeline of large values
   * (up to 1 MiB each) holds megabytes, not a gigabyte. Reading resumes below
   * half of it. The chunk that reached it can add its own requests.
   */
  readonly requestBytesQueuedMax: number;
  /** Open connections; one more is told "max number of clients reached" and closed, as Redis does. */
  readonly connectionsMax: number;
  /**
   * Reply bytes gathered before they are written at once. Replies produced
   * in one turn of the event loop go out in one write, sooner if they reach
   * this; it also bounds what is held beside the socket's own write buffer.
   */
  readonly replyBatchBytesMax: number;
  /**
   * How long a connection the server is closing (QUIT, protocol error) waits
   * for the client to hang up after the last reply was sent, before the
   * server cuts it. Waiting keeps the last reply from being lost to a reset.
   */
  readonly closeLingerMs: number;
  /**
   * How long close() waits for requests in flight to be answered before it
   * cuts the connections anyway: longer than a session's deadline (5 s) plus
   * the linger, so that normally every running request gets its answer.
   */
  readonly shutdownGraceMs: number;
}

export const DEFAULT_RESP_SERVER_LIMITS: RespServerLimits = {
  ...DEFAULT_RESP_LIMITS,
  requestsQueuedMax: 1024,
  requestBytesQueuedMax: 8 << 20,
  connectionsMax: 10_000,
  replyBatchBytesMax: 64 << 10,
  closeLingerMs: 2_000,
  shutdownGraceMs: 8_000,
};

/** The defaults with `overrides` applied; throws on a limit that is not a positive integer, a configuration bug. */
export function resolveRespServerLimits(overrides: Partial<RespServerLimits> = {}): RespServerLimits {
  const limits: RespServerLimits = { ...DEFAULT_RESP_SERVER_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new Error(`RESP server limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return limits;
}
