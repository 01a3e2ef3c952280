/**
 * The bucket map: one cell per bucket, colored by the group that owns it in
 * the config, with the buckets that are moving marked, and a legend.
 */
import { element } from './dom.js';
import { bucketRanges } from './format.js';

/** Above this many buckets the cells are too small for their numbers; the tooltip still names them. */
const BUCKETS_NUMBERED_MAX = 256;

/**
 * A color per gid that stays the same across refreshes and pages, for any number of groups:
 * successive gids step round the hue circle by the golden angle so neighbours differ most.
 * @param {number} gid
 * @returns {string}
 */
export function groupColor(gid) {
  if (gid === 0) return 'var(--unassigned)';
  return `hsl(${Math.round((gid * 137.508) % 360)} 62% 62%)`;
}

/**
 * @param {{ legend: HTMLElement, map: HTMLElement, summary: HTMLElement }} view
 * @param {import('./api-types.js').ShardConfig} config
 * @param {import('./api-types.js').BucketMove[]} moves
 */
export function renderBucketMap(view, config, moves) {
  const movesByBucket = new Map(moves.map((move) => [move.bucket, move]));
  view.summary.textContent = summaryText(config, moves.length);
  view.legend.replaceChildren(...legendItems(config));
  view.map.classList.toggle('unnumbered', config.buckets.length > BUCKETS_NUMBERED_MAX);
  view.map.replaceChildren(...config.buckets.map((gid, bucket) => bucketCell(bucket, gid, movesByBucket.get(bucket))));
}

/**
 * @param {import('./api-types.js').ShardConfig} config
 * @param {number} movingCount
 */
function summaryText(config, movingCount) {
  if (config.buckets.length === 0) return `config version ${config.version}: no group has joined yet`;
  const moving = movingCount === 0 ? 'none moving' : `${movingCount} moving`;
  return `config version ${config.version}, ${config.buckets.length} buckets, ${moving}`;
}

/**
 * @param {number} bucket
 * @param {number} gid
 * @param {import('./api-types.js').BucketMove | undefined} move
 */
function bucketCell(bucket, gid, move) {
  const owner = gid === 0 ? 'unassigned' : `group ${gid}`;
  const label = move
    ? `bucket ${bucket}: ${owner}, moving to group ${move.gid} (${move.state})`
    : `bucket ${bucket}: ${owner}`;
  const cell = element(
    'div',
    {
      class: move ? 'bucket in-flight' : 'bucket',
      role: 'listitem',
      'data-testid': `bucket-${bucket}`,
      'data-gid': gid,
      'data-moving-to': move?.gid,
      title: label,
      'aria-label': label,
    },
    [String(bucket)],
  );
  cell.style.setProperty('--group-color', groupColor(gid));
  return cell;
}

/** @param {import('./api-types.js').ShardConfig} config */
function legendItems(config) {
  const items = config.groups.map((group) => {
    const owned = bucketsOwnedBy(config, group.gid);
    const text = `group ${group.gid}: ${owned.length} ${owned.length === 1 ? 'bucket' : 'buckets'} (${bucketRanges(owned)})`;
    return legendItem(group.gid, text);
  });
  const unassigned = bucketsOwnedBy(config, 0);
  if (unassigned.length > 0) items.push(legendItem(0, `unassigned: ${bucketRanges(unassigned)}`));
  return items;
}

/**
 * @param {number} gid
 * @param {string} text
 */
function legendItem(gid, text) {
  const swatch = element('span', { class: 'swatch', 'aria-hidden': 'true' });
  swatch.style.setProperty('--group-color', groupColor(gid));
  return element('li', { 'data-testid': `legend-group-${gid}` }, [swatch, text]);
}

/**
 * @param {import('./api-types.js').ShardConfig} config
 * @param {number} gid
 */
function bucketsOwnedBy(config, gid) {
  return config.buckets.flatMap((owner, bucket) => (owner === gid ? [bucket] : []));
}
