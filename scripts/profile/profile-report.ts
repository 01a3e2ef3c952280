/** A ProfileSummary as text: the shares first, then the heaviest functions and areas, then the call tree. */
import type { ProfileSummary, Weighted } from './cpu-profile.js';

const TOP_FUNCTIONS = 25;
const TOP_AREAS = 15;
const TOP_STRETCHES = 10;

function percent(ms: number, ofMs: number): string {
  return ofMs === 0 ? '-' : `${((100 * ms) / ofMs).toFixed(1)}%`;
}

function table(title: string, rows: readonly Weighted[], count: number, totalMs: number, busyMs: number): string[] {
  return [
    `${title} (ms, share of the window, share of the busy time)`,
    ...rows
      .slice(0, count)
      .map(
        (row) =>
          `  ${row.ms.toFixed(0).padStart(7)}  ${percent(row.ms, totalMs).padStart(6)}  ${percent(row.ms, busyMs).padStart(6)}  ${row.name}`,
      ),
  ];
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const total = summary.windowMs;
  const busy = total - summary.idleMs;
  const stretches = summary.busyStretchesMs;
  const over = (ms: number): number => stretches.filter((stretch) => stretch >= ms).length;
  const busyInStretchesOver = (ms: number): number =>
    stretches.filter((stretch) => stretch >= ms).reduce((sum, stretch) => sum + stretch, 0);
  return [
    `window ${(total / 1000).toFixed(2)} s, ${summary.samples} samples`,
    `  idle ${percent(summary.idleMs, total)}, busy ${percent(busy, total)} ` +
      `(of which GC ${percent(summary.gcMs, busy)}, V8/native outside JS ${percent(summary.programMs, busy)})`,
    `  busy stretches without an idle sample: ${stretches.length}; longest ` +
      `${stretches
        .slice(0, TOP_STRETCHES)
        .map((ms) => ms.toFixed(1))
        .join(', ')} ms; ` +
      `${over(10)} of 10 ms or more, ${over(50)} of 50 ms or more ` +
      `(holding ${percent(busyInStretchesOver(10), busy)} and ${percent(busyInStretchesOver(50), busy)} of the busy time)`,
    '',
    ...table('self time by function', summary.selfByFunction, TOP_FUNCTIONS, total, busy),
    '',
    ...table('self time by area', summary.selfByArea, TOP_AREAS, total, busy),
    '',
    ...table(
      'inclusive time by area (a sample counts for every area on its stack)',
      summary.inclusiveByArea,
      TOP_AREAS,
      total,
      busy,
    ),
    '',
    ...table('inclusive time by function', summary.inclusiveByFunction, TOP_FUNCTIONS, total, busy),
    '',
    'top-down (inclusive ms, share of the busy time)',
    ...summary.topDown.map(
      (line) =>
        `  ${line.ms.toFixed(0).padStart(7)}  ${percent(line.ms, busy).padStart(6)}  ${'  '.repeat(line.depth)}${line.name}`,
    ),
  ].join('\n');
}
