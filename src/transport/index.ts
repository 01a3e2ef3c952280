/**
 * What the rest of raftkv uses of the transport layer: the simulated network,
 * the real one over TCP, and the client protocol its client connections speak.
 */
export { SimNetwork } from './sim-network.js';
export type { DropReason, SimNetworkOptions } from './sim-network.js';

export {
  CONNECT_TIMEOUT_MS_DEFAULT,
  QUEUE_BYTES_MAX_DEFAULT,
  QUEUE_MESSAGES_MAX_DEFAULT,
  RECONNECT_DELAY_MS_MAX_DEFAULT,
  RECONNECT_DELAY_MS_MIN_DEFAULT,
  TcpPeerTransport,
} from './tcp-transport.js';
export type { PeerTransportCounters, TcpPeerTransportOptions } from './tcp-transport.js';
export type { PeerAddress } from './peer-link.js';
export { formatAddress, parseAddress } from './peer-link.js';
export {
  CLIENT_CONNECTIONS_MAX_DEFAULT,
  CLIENT_IDLE_MS_DEFAULT,
  CLIENT_REQUESTS_IN_FLIGHT_MAX_DEFAULT,
  HELLO_PENDING_MAX_DEFAULT,
  HELLO_TIMEOUT_MS_DEFAULT,
  PEER_CONNECTIONS_MAX_DEFAULT,
  RESPONSE_QUEUE_BYTES_MAX_DEFAULT,
  TcpServer,
} from './tcp-server.js';
export type { ClientConnectionLimits, TcpServerOptions } from './tcp-server.js';
export type { ServerCounters } from './inbound-connection.js';
export type { ServerTimers } from './server-timers.js';
export {
  CALLS_IN_FLIGHT_MAX_DEFAULT,
  CLIENT_CONNECT_TIMEOUT_MS_DEFAULT,
  TcpClientConnection,
} from './client-connection.js';
export type { TcpClientConnectionOptions } from './client-connection.js';
export {
  decodeServiceRequest,
  decodeServiceResponse,
  encodeServiceRequest,
  encodeServiceResponse,
  REQUEST_ID_MAX,
  SERVICE_NAMES,
  unsupported,
} from './service-protocol.js';
export type {
  DecodedServiceRequest,
  GroupService,
  ServiceError,
  ServiceErrorCode,
  ServiceName,
  ServiceRequest,
  ServiceRequestMessage,
  ServiceResponseMessage,
  ServiceResult,
} from './service-protocol.js';
export { notServed, routeServices } from './service-router.js';

export { ConnectionError, FrameError, MessageDecodeError } from './errors.js';
export type { ConnectionErrorReason, FrameErrorReason } from './errors.js';
export { encodeFrame, FRAME_BYTES_MAX_DEFAULT, FRAME_PROTOCOL_VERSION, FrameDecoder, frameSizeBytes } from './frame.js';
export type { Frame, FrameDecoderOptions, FrameKind, FrameParts } from './frame.js';
export { decodeRaftMessage, encodeRaftMessage, NODE_ID_MAX } from './raft-message-codec.js';
export { CLUSTER_ID_BYTES_MAX } from './handshake.js';
export type { ClientTls, NodeTls, Pem } from './tls.js';
export { clientConnectOptions, serverContextOptions, tlsFailureHint } from './tls.js';
export { TlsGate } from './tls-gate.js';
export type { TlsGateOptions } from './tls-gate.js';
