/**
 * How a client reaches the members of one replica group: by node id, one
 * request at a time per call. The TCP channel does it over sockets, the
 * simulated one over the seeded network; the client cannot tell them apart.
 */
import type { NodeId } from '../raft/index.js';
import type { ServiceRequest, ServiceResult } from '../transport/index.js';

export interface GroupChannel {
  /**
   * Sends `request` to `node` and resolves with its answer. Rejects with a
   * ChannelError when there is no answer within `timeoutMs` or the node
   * cannot be reached: the request may or may not have arrived.
   */
  call(node: NodeId, request: ServiceRequest, timeoutMs: number): Promise<ServiceResult>;
  /** Releases connections; calls after close reject. */
  close(): void;
}

export class ChannelError extends Error {
  constructor(
    readonly node: NodeId,
    /**
     * timeout: no answer in time; unreachable: no connection; closed: this
     * channel was closed; busy: too many calls in flight to that node (the
     * connection is fine: back off); rejected: the node refused us (another
     * cluster id), which retrying will not change.
     */
    readonly reason: 'timeout' | 'unreachable' | 'closed' | 'busy' | 'rejected',
    message: string,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** Time as a client needs it: real time in a process, the scheduler in a simulation. */
export interface ClientClock {
  nowMs(): number;
  sleep(delayMs: number): Promise<void>;
}

export const realClientClock: ClientClock = {
  nowMs: () => performance.now(),
  sleep: (delayMs) => new Promise((resolve) => setTimeout(resolve, delayMs)),
};
