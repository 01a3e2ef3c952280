/** Counters the RESP server keeps for operators (INFO, /metrics) and tests. */
export interface RespServerStats {
  connectionsOpen: number;
  /** Turned away because `connectionsMax` were open. */
  connectionsRefused: number;
  /** Wrong passwords given with AUTH or HELLO AUTH. */
  authFailures: number;
  /** Connections closed because their client broke the protocol. */
  protocolErrors: number;
  /** Most requests ever parsed but not yet answered on one connection: shows the read backpressure at work. */
  requestsQueuedPeak: number;
  /** Most argument bytes ever queued that way on one connection. */
  requestBytesQueuedPeak: number;
}

export function emptyRespServerStats(): RespServerStats {
  return {
    connectionsOpen: 0,
    connectionsRefused: 0,
    authFailures: 0,
    protocolErrors: 0,
    requestsQueuedPeak: 0,
    requestBytesQueuedPeak: 0,
  };
}
