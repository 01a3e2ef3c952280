/** The shape of one entry of the RESP command table, and what a command may see of its connection. */
import type { TokenCheck } from '../../auth/auth-token.js';
import type { RespReply } from './encoder.js';
import type { RespSession } from './resp-backend.js';

/** What INFO tells of the server a connection belongs to. */
export interface ServerFacts {
  /** What this node is in raftkv terms, e.g. "shard member" or "kv group member". */
  readonly role: string;
  /** Wall-clock ms since the epoch when the RESP server started. */
  readonly startedAtMs: number;
  /** The port it listens on; 0 before it listens. */
  tcpPort(): number;
  /** Connections open now. */
  connectedClients(): number;
}

/** Whether a connection has given the password (auth-commands.ts). */
export interface ConnectionAuth {
  /** The cluster's token; null when the server asks for none. */
  readonly check: TokenCheck | null;
  /** True from the start when there is no token, else once AUTH (or HELLO AUTH) gave it. */
  authenticated: boolean;
  /** Told of each wrong password (for the log and the counters). */
  readonly onFailure: () => void;
}

/** A connection's state that commands read and change. */
export interface CommandContext {
  readonly session: RespSession;
  readonly server: ServerFacts;
  /** Unique within the server's lifetime: CLIENT ID and HELLO answer it, logs name it. */
  readonly connectionId: number;
  /** Set by CLIENT SETNAME or HELLO SETNAME; null until then. */
  clientName: string | null;
  /** Set by QUIT: the server sends this command's reply, then closes the connection. */
  closeAfterReply: boolean;
  readonly auth: ConnectionAuth;
}

/** `args[0]` is the command name as sent; arity is checked before a handler runs. */
export type CommandHandler = (args: readonly Buffer[], context: CommandContext) => RespReply | Promise<RespReply>;

export interface CommandSpec {
  /** Fewest arguments after the name. */
  readonly argumentsMin: number;
  /** Most arguments after the name; Infinity for DEL-like commands. */
  readonly argumentsMax: number;
  readonly handle: CommandHandler;
}
