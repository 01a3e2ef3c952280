/**
 * INFO and DBSIZE: what the server and the store are, for operators and for
 * client libraries that look before they start (ioredis reads INFO's
 * `loading` field).
 *
 * DBSIZE counts the live keys of every group (each group walks its keys, so
 * it costs time in proportion to the data, unlike Redis's counter). INFO has
 * the sections server, clients, persistence and keyspace; the keyspace line
 * gives that count as `db0:keys=N` and leaves out Redis's expires and avg_ttl,
 * which raftkv does not track.
 */
import type { RespReply } from './encoder.js';
import { bulk, integer } from './encoder.js';
import { failureReply } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';

/** What HELLO and INFO report as the version: the commands here behave as Redis 7.0's. */
export const REDIS_COMPATIBLE_VERSION = '7.0.0';
const SECTIONS = ['server', 'clients', 'persistence', 'keyspace'] as const;
type Section = (typeof SECTIONS)[number];
const SECONDS_PER_DAY = 86_400;

async function dbsize(_args: readonly Buffer[], { session }: CommandContext): Promise<RespReply> {
  const outcome = await session.countKeys();
  return outcome.ok ? integer(outcome.value) : failureReply(outcome);
}

/** INFO [section ...]: no section, "default", "all" and "everything" give every section; unknown ones give nothing. */
async function info(args: readonly Buffer[], context: CommandContext): Promise<RespReply> {
  const asked = args.slice(1).map((arg) => arg.toString('latin1').toLowerCase());
  const wantsAll = asked.length === 0 || asked.some((name) => ['default', 'all', 'everything'].includes(name));
  const sections = SECTIONS.filter((section) => wantsAll || asked.includes(section));
  const parts: string[] = [];
  for (const section of sections) {
    const lines = await sectionLines(section, context);
    if (typeof lines !== 'string' && !Array.isArray(lines)) return lines;
    parts.push([`# ${section[0]!.toUpperCase()}${section.slice(1)}`, ...lines].join('\r\n'));
  }
  return bulk(parts.join('\r\n\r\n') + (parts.length > 0 ? '\r\n' : ''));
}

async function sectionLines(section: Section, { server, session }: CommandContext): Promise<string[] | RespReply> {
  switch (section) {
    case 'server': {
      const uptimeSeconds = Math.floor((Date.now() - server.startedAtMs) / 1000);
      return [
        `redis_version:${REDIS_COMPATIBLE_VERSION}`,
        'redis_mode:standalone',
        `raftkv_role:${server.role}`,
        `process_id:${process.pid}`,
        `tcp_port:${server.tcpPort()}`,
        `uptime_in_seconds:${uptimeSeconds}`,
        `uptime_in_days:${Math.floor(uptimeSeconds / SECONDS_PER_DAY)}`,
      ];
    }
    case 'clients':
      return [`connected_clients:${server.connectedClients()}`];
    case 'persistence':
      // A replica loading a snapshot answers TRYAGAIN on its own; the service as a whole is never "loading".
      return ['loading:0'];
    case 'keyspace': {
      const outcome = await session.countKeys();
      if (!outcome.ok) return failureReply(outcome);
      // Redis leaves out a database that holds no keys.
      return outcome.value === 0 ? [] : [`db0:keys=${outcome.value}`];
    }
  }
}

export const SERVER_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['dbsize', { argumentsMin: 0, argumentsMax: 0, handle: dbsize }],
  ['info', { argumentsMin: 0, argumentsMax: Infinity, handle: info }],
]);
