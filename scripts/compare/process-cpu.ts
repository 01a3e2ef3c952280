/**
 * CPU time of processes from /proc, for `npm run bench:compare`: a CPU
 * profile samples wall-clock time, so on a busy machine it cannot tell work
 * from waiting for a core; /proc/<pid>/stat can.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface MeteredProcess {
  readonly label: string;
  readonly pid: number | undefined;
}

/** CPU seconds (user + system) a process has used so far, or NaN where /proc cannot tell. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Starts metering; the function returned says what each process used since, and per request. */
export function meterCpu(processes: readonly MeteredProcess[]): (seconds: number, requests: number) => string {
  const before = processes.map((process) => cpuSeconds(process.pid));
  return (seconds, requests) => {
    const used = processes.map((process, at) => cpuSeconds(process.pid) - before[at]!);
    const total = used.reduce((sum, value) => sum + value, 0);
    const each = processes.map((process, at) => `${process.label} ${((100 * used[at]!) / seconds).toFixed(0)}%`);
    return (
      `CPU used, in % of one core: ${each.join(', ')}; ` +
      `${((1e6 * total) / Math.max(1, requests)).toFixed(0)} µs of CPU per request across them`
    );
  };
}
