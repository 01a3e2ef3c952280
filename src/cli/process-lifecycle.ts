/** How a server subcommand ends: cleanly on Ctrl-C or SIGTERM, with a line saying so. */

/**
 * Set by a supervisor (`raftkv local`) that gives its nodes a pipe as stdin:
 * when the supervisor dies, even by SIGKILL, the pipe closes and the node
 * stops as on SIGTERM, instead of living on as an orphan that holds its ports.
 */
export const STOP_WITH_PARENT_ENV = 'RAFTKV_STOP_WHEN_STDIN_CLOSES';

export function stopOnSignals(name: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${name}: stopping\n`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${name}: could not stop cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.env[STOP_WITH_PARENT_ENV] === '1') {
    process.stdin.once('close', stop);
    process.stdin.resume();
  }
}
