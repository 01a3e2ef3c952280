/** How numbers read on the page: pure functions, no DOM. */

/**
 * Ascending bucket ids as ranges, as `raftkv admin query` prints them: [0,1,2,3,7,9,10] -> "0-3, 7, 9-10".
 * @param {number[]} buckets
 * @returns {string}
 */
export function bucketRanges(buckets) {
  /** @type {string[]} */
  const parts = [];
  let start = -1;
  for (let i = 0; i < buckets.length; i++) {
    const bucket = /** @type {number} */ (buckets[i]);
    if (start === -1) start = bucket;
    const next = buckets[i + 1];
    if (next === bucket + 1) continue;
    parts.push(start === bucket ? String(start) : `${start}-${bucket}`);
    start = -1;
  }
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/**
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * 3725 -> "1h 2m": uptime is read at a glance, so two units are enough.
 * @param {number} seconds
 * @returns {string}
 */
export function formatDuration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/**
 * Rates and latencies with as many digits as a reader can use.
 * @param {number} value
 * @returns {string}
 */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return '-';
  if (value === 0) return '0';
  if (value >= 100) return Math.round(value).toLocaleString('en');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
