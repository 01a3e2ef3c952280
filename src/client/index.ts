export type { ClientClock, GroupChannel } from './channel.js';
/** What a GroupChannel carries, for those who write their own. */
export type { ServiceError, ServiceName, ServiceRequest, ServiceResult } from '../transport/service-protocol.js';
export { ChannelError, realClientClock } from './channel.js';
export { ClientError, MetaRefusedError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { ATTEMPT_TIMEOUT_MS_DEFAULT, DEADLINE_MS_DEFAULT, GroupClient } from './group-client.js';
export type { GroupCall, GroupClientOptions } from './group-client.js';
export { KvClient } from './kv-client.js';
export type { KvClientOptions } from './kv-client.js';
export type { GetOptions, SetOptions, SetOutcome, SetTtl, ValueWithExpiry } from './kv-operations.js';
export { TcpGroupChannel } from './tcp-channel.js';
/** TLS for TcpGroupChannel's `tls` option: the CA, and a client certificate if the servers ask for one. */
export type { ClientTls, Pem } from '../transport/tls.js';
export type { TcpGroupChannelOptions } from './tcp-channel.js';
export { MetaClient } from './meta-client.js';
export type { MetaClientOptions } from './meta-client.js';
export { ShardedKvClient } from './sharded-client.js';
export type { ShardedKvClientOptions } from './sharded-client.js';
