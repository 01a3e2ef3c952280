/** The shape of one entry of the RESP command table, and what a command may see of its connection. */
import type { RespReply } from './encoder.js';
import type { RespSession } from './resp-backend.js';

/** A connection's state that commands read and change. */
export interface CommandContext {
  readonly session: RespSession;
  /** Unique within the server's lifetime: CLIENT ID and HELLO answer it, logs name it. */
  readonly connectionId: number;
  /** Set by CLIENT SETNAME or HELLO SETNAME; null until then. */
  clientName: string | null;
  /** Set by QUIT: the server sends this command's reply, then closes the connection. */
  closeAfterReply: boolean;
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
