/** This node's recent request rates and latencies per operation (GET /v1/stats). */
import { element } from './dom.js';
import { formatNumber } from './format.js';

/**
 * Sum of all operations' rates: what the sparkline plots.
 * @param {import('./api-types.js').RecentStats} stats
 * @returns {number}
 */
export function totalPerSecond(stats) {
  return Object.values(stats.operations).reduce((sum, operation) => sum + operation.perSecond, 0);
}

/**
 * @param {{ rows: HTMLElement, summary: HTMLElement }} view
 * @param {import('./api-types.js').RecentStats} stats
 */
export function renderStats(view, stats) {
  const names = Object.keys(stats.operations).sort();
  const windowText = `the last ${stats.windowSeconds} s`;
  view.summary.textContent =
    names.length === 0
      ? `No requests served by this node in ${windowText}.`
      : `${formatNumber(totalPerSecond(stats))} ops/s served by this node over ${windowText}.`;
  view.rows.replaceChildren(...names.map((name) => operationRow(name, stats.operations[name])));
}

/**
 * @param {string} name
 * @param {import('./api-types.js').OperationStats | undefined} operation
 */
function operationRow(name, operation) {
  if (operation === undefined) throw new Error(`dashboard: no stats for ${name}`);
  const numbers = [operation.perSecond, operation.p50Ms, operation.p99Ms].map(formatNumber);
  numbers.push(operation.count.toLocaleString('en'), operation.errors.toLocaleString('en'));
  return element('tr', { 'data-testid': `stats-${name}`, class: operation.errors > 0 ? 'has-errors' : null }, [
    element('th', { scope: 'row' }, [name]),
    ...numbers.map((text) => element('td', { class: 'number' }, [text])),
  ]);
}
