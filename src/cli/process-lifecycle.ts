/** How a server subcommand ends: cleanly on Ctrl-C or SIGTERM, with a line saying so. */
export function stopOnSignals(name: string, close: () => Promise<void>): void {
  const stop = (): void => {
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
}
