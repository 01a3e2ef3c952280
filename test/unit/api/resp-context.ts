/** A RESP command context over a MemoryBackend, and a runner that answers replies as the bytes a client reads. */
import { TokenCheck } from '../../../src/auth/auth-token.js';
import type { CommandContext } from '../../../src/api/resp/command-spec.js';
import type { RespReply } from '../../../src/api/resp/encoder.js';
import { encodeReply } from '../../../src/api/resp/encoder.js';
import { executeCommand } from '../../../src/api/resp/resp-commands.js';
import { MemoryBackend } from './memory-backend.js';

/** A connection's context; with `token`, one that has not authenticated yet. */
export function freshContext(backend = new MemoryBackend(), token?: string): CommandContext {
  return {
    session: backend.openSession(),
    server: { role: 'test node', startedAtMs: Date.now(), tcpPort: () => 6379, connectedClients: () => 3 },
    connectionId: 7,
    clientName: null,
    closeAfterReply: false,
    auth: {
      check: token === undefined ? null : new TokenCheck(token),
      authenticated: token === undefined,
      onFailure: () => {},
    },
  };
}

/** Runs a command and answers its reply as the bytes a client would read. */
export async function run(context: CommandContext, ...args: string[]): Promise<string> {
  const reply: RespReply = await executeCommand(
    args.map((arg) => Buffer.from(arg)),
    context,
  );
  const out: Buffer[] = [];
  encodeReply(reply, out);
  return Buffer.concat(out).toString();
}
