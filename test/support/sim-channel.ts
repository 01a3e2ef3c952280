/**
 * Client traffic on the simulated network: the packets of the client
 * protocol, and a GroupChannel that sends requests from one client endpoint
 * to any member by node id and waits, in simulated time, for the answer.
 */
import { ChannelError } from '../../src/client/channel.js';
import type { GroupChannel } from '../../src/client/channel.js';
import type { NodeId } from '../../src/raft/index.js';
import type { Scheduler } from '../../src/sim/scheduler.js';
import type { ServiceRequest, ServiceResult } from '../../src/transport/service-protocol.js';
import type { SimNetwork } from '../../src/transport/sim-network.js';

export type ClientPacket =
  | {
      readonly kind: 'request';
      readonly from: number;
      readonly to: number;
      readonly call: number;
      readonly request: ServiceRequest;
    }
  | {
      readonly kind: 'result';
      readonly from: number;
      readonly to: number;
      readonly call: number;
      readonly result: ServiceResult;
    };

export class SimChannel implements GroupChannel {
  private nextCall = 0;
  private readonly pending = new Map<number, { resolve: (result: ServiceResult) => void; cancel: () => void }>();

  constructor(
    readonly endpoint: number,
    private readonly network: SimNetwork<ClientPacket>,
    private readonly scheduler: Scheduler,
  ) {
    network.attach(endpoint, (packet) => {
      if (packet.kind !== 'result') return;
      const waiting = this.pending.get(packet.call);
      if (waiting === undefined) return;
      this.pending.delete(packet.call);
      waiting.cancel();
      waiting.resolve(packet.result);
    });
  }

  call(node: NodeId, request: ServiceRequest, timeoutMs: number): Promise<ServiceResult> {
    const call = ++this.nextCall;
    const scheduler = this.scheduler;
    return new Promise((resolve, reject) => {
      const timer = scheduler.after(timeoutMs, () => {
        this.pending.delete(call);
        reject(new ChannelError(node, 'timeout', `node ${node} did not answer within ${timeoutMs} ms`));
      });
      this.pending.set(call, { resolve, cancel: () => scheduler.cancel(timer) });
      this.network.send({ kind: 'request', from: this.endpoint, to: node, call, request });
    });
  }

  close(): void {
    this.network.detach(this.endpoint);
  }
}
