/** A RESP command context over a MemoryBackend, and a runner that answers replies as the bytes a client reads. */
import type { CommandContext } from '../../../src/api/resp/command-spec.js';
import type { RespReply } from '../../../src/api/resp/encoder.js';
import { encodeReply } from '../../../src/api/resp/encoder.js';
import { executeCommand } from '../../../src/api/resp/resp-commands.js';
import { MemoryBackend } from './memory-backend.js';

export function freshContext(backend = new MemoryBackend()): CommandContext {
  return {
    session: backend.openSession(),
    server: { role: 'test node', startedAtMs: Date.now(), tcpPort: () => 6379, connectedClients: () => 3 },
    connectionId: 7,
    clientName: null,
    closeAfterReply: false,
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
