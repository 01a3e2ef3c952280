/**
 * Total operations per second over the last minute, drawn as an SVG
 * polyline. The history lives in the page only: it starts empty when the page
 * is opened, and a gap in polling shows as a straight line across it.
 */

/** How much history the sparkline shows. */
export const HISTORY_MS = 60_000;
/** Bounds the history even if the page is told to poll very often. */
const SAMPLES_MAX = 600;
/** The peak is drawn a little below the top edge, where the stroke would be cut in half. */
const PEAK_HEADROOM = 1.1;

export class RateHistory {
  /** @type {{ timeMs: number, value: number }[]} */
  samples = [];

  /**
   * @param {number} timeMs
   * @param {number} value
   */
  add(timeMs, value) {
    this.samples.push({ timeMs, value });
    const oldestMs = timeMs - HISTORY_MS;
    while (this.samples.length > SAMPLES_MAX || (this.samples[0]?.timeMs ?? timeMs) < oldestMs) this.samples.shift();
  }

  /** The highest rate in the history; 0 when empty. */
  peak() {
    return this.samples.reduce((peak, sample) => Math.max(peak, sample.value), 0);
  }
}

/**
 * The polyline's points in a width x height box: time runs left to right
 * over the last HISTORY_MS ending at `nowMs`, zero is the bottom and the peak rate near the top.
 * @param {RateHistory} history
 * @param {number} nowMs
 * @param {number} width
 * @param {number} height
 * @returns {string}
 */
export function sparklinePoints(history, nowMs, width, height) {
  const peak = history.peak();
  return history.samples
    .map((sample) => {
      const x = width - ((nowMs - sample.timeMs) / HISTORY_MS) * width;
      const y = peak === 0 ? height : height - (sample.value / (peak * PEAK_HEADROOM)) * height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/**
 * @param {SVGSVGElement} svg with a viewBox and a <polyline>
 * @param {RateHistory} history
 * @param {number} nowMs
 */
export function renderSparkline(svg, history, nowMs) {
  const line = svg.querySelector('polyline');
  if (line === null) throw new Error('dashboard: the sparkline <svg> has no <polyline>');
  const box = svg.viewBox.baseVal;
  line.setAttribute('points', sparklinePoints(history, nowMs, box.width, box.height));
  svg.dataset.samples = String(history.samples.length);
}
