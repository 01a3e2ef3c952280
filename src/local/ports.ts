/** Loopback port checks for a supervisor: is a port free before a node takes it, and does a node listen yet. */
import net from 'node:net';

const POLL_INTERVAL_MS = 50;

/** Resolves null when `port` can be listened on at `host`, or the reason it cannot (EADDRINUSE, EACCES, ...). */
export function portProblem(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

export function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until something listens on `port`, or `gaveUp()` says to stop waiting (it died, or time ran out). */
export async function waitForPort(host: string, port: number, gaveUp: () => string | null): Promise<void> {
  for (;;) {
    if (await portAccepts(host, port)) return;
    const reason = gaveUp();
    if (reason !== null) throw new Error(reason);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
