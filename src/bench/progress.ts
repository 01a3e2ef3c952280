/**
 * Progress of a benchmark on stderr, so that stdout carries only the result:
 * a live bar (cli-progress) on a terminal; on a pipe or a file, one line when
 * a phase starts and one when it ends, since a redrawn bar there is noise.
 */
import { Presets, SingleBar } from 'cli-progress';

export interface Phase {
  readonly label: string;
  /** What `current` counts up to: milliseconds of a timed phase, keys of the load phase. */
  readonly total: number;
  readonly current: () => number;
  /** `1234 ops | 2345 ops/s | 0 errors`: what the bar shows beside it. */
  readonly status: () => string;
}

/** Starts showing a phase; the function it returns stops (and may be called twice). */
export type ProgressDisplay = (phase: Phase) => () => void;

const REDRAW_INTERVAL_MS = 200;
const LABEL_COLUMN_CHARS = 24;

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  return stream.isTTY ? (phase) => liveBar(stream, phase) : (phase) => lines(stream, phase);
}

/** Shows nothing: for callers that report their own way. */
export const silentProgress: ProgressDisplay = () => () => {};

function liveBar(stream: NodeJS.WriteStream, phase: Phase): () => void {
  const bar = new SingleBar(
    {
      format: `${phase.label.padEnd(LABEL_COLUMN_CHARS)} {bar} {percentage}% | {status}`,
      stream,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const payload = (): { status: string } => ({ status: phase.status() });
  const value = (): number => Math.min(phase.total, phase.current());
  bar.start(phase.total, 0, payload());
  const timer = setInterval(() => bar.update(value(), payload()), REDRAW_INTERVAL_MS);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    bar.update(value(), payload());
    bar.stop();
  };
}

function lines(stream: NodeJS.WriteStream, phase: Phase): () => void {
  stream.write(`bench: ${phase.label}\n`);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    stream.write(`bench: ${phase.label}: ${phase.status()}\n`);
  };
}
