/**
 * The dashboard's entry point: polls the node that serves the page and
 * renders the cluster, this node's request stats and the admin forms.
 *
 * Polls chain (the next starts when the last has finished) so a slow node is
 * never asked twice at once. `?refresh=MS` in the page's address changes the
 * interval, e.g. for a slow link or for tests.
 */
import { wireAdminForms } from './admin-forms.js';
import { getJson } from './api.js';
import { renderBucketMap } from './bucket-map.js';
import { required } from './dom.js';
import { renderGroups } from './groups-view.js';
import { RateHistory, renderSparkline } from './sparkline.js';
import { renderStats, totalPerSecond } from './stats-view.js';
import { askForToken, wireTokenForm } from './token-form.js';

const REFRESH_MS_DEFAULT = 1500;
/** Faster would load the node (every poll asks each member for its status); slower is not "live". */
const REFRESH_MS_MIN = 200;
const REFRESH_MS_MAX = 60_000;

const refreshMs = refreshInterval(location.search);

const view = {
  connection: required('connection', HTMLElement),
  buckets: {
    summary: required('config-summary', HTMLElement),
    legend: required('bucket-legend', HTMLElement),
    map: required('bucket-map', HTMLElement),
  },
  groups: required('groups', HTMLElement),
  stats: { summary: required('stats-summary', HTMLElement), rows: required('stats-rows', HTMLElement) },
  sparkline: required('sparkline', SVGSVGElement),
  token: { form: required('token-form', HTMLFormElement), input: required('token-input', HTMLInputElement) },
};

const rateHistory = new RateHistory();
/** Configs only move forward: a poll answered after an admin action's newer config must not undo it on screen. */
let shownConfigVersion = -1;
/** @type {import('./api-types.js').BucketMove[]} */
let shownMoves = [];

/**
 * @param {string} search
 * @returns {number}
 */
function refreshInterval(search) {
  const asked = Number(new URLSearchParams(search).get('refresh'));
  if (!Number.isFinite(asked) || asked <= 0) return REFRESH_MS_DEFAULT;
  return Math.min(REFRESH_MS_MAX, Math.max(REFRESH_MS_MIN, asked));
}

/**
 * @param {import('./api-types.js').ShardConfig} config
 * @param {import('./api-types.js').BucketMove[]} moves
 */
function showConfig(config, moves) {
  if (config.version < shownConfigVersion) return;
  shownConfigVersion = config.version;
  shownMoves = moves;
  renderBucketMap(view.buckets, config, moves);
}

/** @returns {Promise<string | null>} what went wrong, or null */
async function refreshCluster() {
  /** @type {import('./api.js').ApiResult<import('./api-types.js').ClusterView>} */
  const answer = await getJson('/v1/cluster');
  if (!answer.ok) return refused('cluster', answer);
  showConfig(answer.value.config, answer.value.moves);
  renderGroups(view.groups, answer.value.groups, answer.value.config);
  return null;
}

/** @returns {Promise<string | null>} what went wrong, or null */
async function refreshStats() {
  /** @type {import('./api.js').ApiResult<import('./api-types.js').RecentStats>} */
  const answer = await getJson('/v1/stats');
  if (!answer.ok) return refused('stats', answer);
  const nowMs = Date.now();
  rateHistory.add(nowMs, totalPerSecond(answer.value));
  renderStats(view.stats, answer.value);
  renderSparkline(view.sparkline, rateHistory, nowMs);
  return null;
}

/**
 * What to show for a failed request; a node that asks for the token gets the token field shown.
 * @param {string} what
 * @param {{ message: string, unauthorized: boolean }} failure
 * @returns {string}
 */
function refused(what, failure) {
  if (failure.unauthorized) askForToken(view.token);
  return `${what}: ${failure.message}`;
}

/** @param {string[]} problems */
function showConnection(problems) {
  const every = `every ${refreshMs / 1000} s`;
  const time = new Date().toLocaleTimeString('en-GB');
  view.connection.dataset.state = problems.length === 0 ? 'ok' : 'error';
  view.connection.textContent =
    problems.length === 0
      ? `Live: ${location.host}, refreshed ${every}, last at ${time}.`
      : `Cannot refresh (${problems.join('; ')}). Retrying ${every}; what is shown may be out of date.`;
}

/**
 * Runs one refresh; an answer the page cannot render (a field missing, say) becomes a problem shown at the
 * top instead of an exception that would end the polling.
 * @param {string} what
 * @param {() => Promise<string | null>} refresh
 * @returns {Promise<string | null>}
 */
async function attempt(what, refresh) {
  try {
    return await refresh();
  } catch (error) {
    return `${what}: the page could not show the answer (${error instanceof Error ? error.message : String(error)})`;
  }
}

async function poll() {
  const problems = await Promise.all([attempt('cluster', refreshCluster), attempt('stats', refreshStats)]);
  showConnection(problems.filter((problem) => problem !== null));
  setTimeout(() => void poll(), refreshMs);
}

wireAdminForms(
  {
    move: required('move-form', HTMLFormElement),
    join: required('join-form', HTMLFormElement),
    leave: required('leave-form', HTMLFormElement),
    dialog: required('confirm-dialog', HTMLDialogElement),
    question: required('confirm-question', HTMLElement),
    result: required('admin-result', HTMLElement),
  },
  (config) => {
    showConfig(config, shownMoves);
    // The members' state changes with the config (buckets start moving): show it without waiting for the poll.
    void attempt('cluster', refreshCluster);
  },
  () => askForToken(view.token),
);
// A token just entered is tried at once rather than at the next poll.
wireTokenForm(view.token, () => void attempt('cluster', refreshCluster));
void poll();
