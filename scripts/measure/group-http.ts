/**
 * What the measurement scripts ask of a running `raftkv node` group over its
 * HTTP API: who leads, a member's status, a key's value, a metric.
 */
import type { ProcessGroup } from '../../test/e2e/support/process-group.js';

const POLL_MS = 50;

export interface MemberStatus {
  readonly role: string;
  readonly leaderId: number | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly logBytes: number;
}

/** The member's /v1/status, or null while it does not answer. */
export async function memberStatus(httpPort: number): Promise<MemberStatus | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/status`);
    return response.ok ? ((await response.json()) as MemberStatus) : null;
  } catch {
    return null;
  }
}

/** Polls until `probe` answers non-null or `timeoutMs` passes (then throws, naming `what`). */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== null) return answer;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The leader's id once some member names one. */
export function groupLeader(group: ProcessGroup, timeoutMs: number): Promise<number> {
  return waitFor('a leader', timeoutMs, async () => {
    for (const id of group.ids) {
      const status = await memberStatus(group.member(id).httpPort);
      if (status?.leaderId != null) return status.leaderId;
    }
    return null;
  });
}

/** GET /v1/kv/<key> on a member: the value's bytes, or null while it answers anything but 200. */
export async function readKey(httpPort: number, key: string, stale: boolean): Promise<Buffer | null> {
  try {
    const query = stale ? '?stale=true' : '';
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/kv/${encodeURIComponent(key)}${query}`);
    return response.ok ? Buffer.from(await response.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

/** Each line of a member's /metrics as name (with labels) -> value. */
export async function memberMetrics(httpPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}
