/** redis-benchmark against raftkv's RESP port for `npm run bench:compare`: its arguments and its CSV. */

export interface RespResult {
  readonly opsPerSecond: number;
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null };
  readonly requests: number;
}

/**
 * `-t set` or `-t get` with 64 clients, 256-byte values, random keys from a
 * space of `keys`; redis-benchmark stops after a count, so `requests` is sized
 * by the caller from the rate it expects.
 */
export function redisBenchmarkArgs(
  port: number,
  test: 'set' | 'get',
  requests: number,
  clients: number,
  valueBytes: number,
  keys: number,
): string[] {
  return [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-t',
    test,
    '-n',
    String(requests),
    '-c',
    String(clients),
    '-d',
    String(valueBytes),
    '-r',
    String(keys),
    '--csv',
  ];
}

/**
 * redis-benchmark 7's --csv: a header line ("test","rps","avg_latency_ms",
 * ...,"p50_latency_ms",...,"p99_latency_ms",...) and one line per test.
 * Columns are found by name, so another version's order does not matter.
 */
export function parseRedisBenchmarkCsv(stdout: string, test: string, requests: number): RespResult | null {
  const column = redisBenchmarkColumns(stdout, test);
  const opsPerSecond = column?.('rps') ?? null;
  if (column === null || opsPerSecond === null) return null;
  return { opsPerSecond, latencyMs: { p50: column('p50_latency_ms'), p99: column('p99_latency_ms') }, requests };
}

/** The numbers of one test's line of that CSV, by column name (null where absent or not a number); null without the line. */
export function redisBenchmarkColumns(stdout: string, test: string): ((name: string) => number | null) | null {
  const rows = stdout
    .split(/\r?\n|\r/)
    .filter((line) => line.startsWith('"'))
    .map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
  const header = rows.find((cells) => cells[0] === 'test');
  const row = rows.find((cells) => cells[0]?.toUpperCase() === test.toUpperCase());
  if (header === undefined || row === undefined) return null;
  return (name) => {
    const at = header.indexOf(name);
    const value = at < 0 ? NaN : Number(row[at]);
    return Number.isFinite(value) ? value : null;
  };
}
