export type { ClientClock, GroupChannel } from './channel.js';
export { ChannelError, realClientClock } from './channel.js';
export { ClientError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { ATTEMPT_TIMEOUT_MS_DEFAULT, DEADLINE_MS_DEFAULT, KvClient } from './kv-client.js';
export type { GetOptions, KvClientOptions } from './kv-client.js';
export { TcpGroupChannel } from './tcp-channel.js';
export type { TcpGroupChannelOptions } from './tcp-channel.js';
