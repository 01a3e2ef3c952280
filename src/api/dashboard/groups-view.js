/**
 * Every Raft group (the meta group first) with its members' state: who
 * leads, how far each log has come, or why a member could not be asked.
 */
import { element } from './dom.js';
import { bucketRanges, formatBytes, formatDuration } from './format.js';

const COLUMNS = ['id', 'address', 'role', 'term', 'commit', 'applied', 'last', 'snapshot', 'log', 'uptime'];

/**
 * @param {HTMLElement} container
 * @param {import('./api-types.js').GroupView[]} groups
 * @param {import('./api-types.js').ShardConfig} config
 */
export function renderGroups(container, groups, config) {
  container.replaceChildren(...groups.map((group) => groupSection(group, config)));
}

/**
 * @param {import('./api-types.js').GroupView} group
 * @param {import('./api-types.js').ShardConfig} config
 */
function groupSection(group, config) {
  const headingId = `group-${group.gid}-heading`;
  const table = element('table', { 'aria-labelledby': headingId }, [
    element('thead', {}, [
      element(
        'tr',
        {},
        COLUMNS.map((name) => element('th', { scope: 'col' }, [name])),
      ),
    ]),
    element('tbody', {}, group.members.map(memberRow)),
  ]);
  return element('section', { class: 'group', 'data-testid': `group-${group.gid}`, 'data-gid': group.gid }, [
    element('h3', { id: headingId }, [group.name, ' ', element('small', {}, [groupNote(group, config)])]),
    element('div', { class: 'table-scroll' }, [table]),
  ]);
}

/**
 * What the group's heading adds: its buckets (shard groups) and its leader, or that it has none.
 * @param {import('./api-types.js').GroupView} group
 * @param {import('./api-types.js').ShardConfig} config
 */
function groupNote(group, config) {
  const leaders = group.members.filter((member) => member.status?.role === 'leader');
  // Two members can both believe they lead for a moment (an old leader has not heard of the new term yet).
  const leader = leaders.length === 0 ? 'no leader known' : `leader ${leaders.map((member) => member.id).join(', ')}`;
  if (group.gid === 0) return leader;
  const owned = config.buckets.flatMap((owner, bucket) => (owner === group.gid ? [bucket] : []));
  return `${leader} · buckets ${bucketRanges(owned)}`;
}

/** @param {import('./api-types.js').MemberView} member */
function memberRow(member) {
  const testId = `member-${member.id}`;
  const head = [element('td', {}, [String(member.id)]), element('td', {}, [member.address])];
  const status = member.status;
  if (status === null) {
    const reason = member.error ?? 'no status';
    const attributes = { class: 'unreachable', colspan: COLUMNS.length - 2, 'data-testid': `${testId}-error` };
    return element('tr', { 'data-testid': testId, 'data-role': 'unreachable' }, [
      ...head,
      element('td', attributes, [reason]),
    ]);
  }
  const numbers = [status.term, status.commitIndex, status.appliedIndex, status.lastIndex, status.snapshotIndex]
    .map(String)
    .concat(formatBytes(status.logBytes), formatDuration(status.uptimeSeconds));
  const leader = status.role === 'leader';
  return element('tr', { 'data-testid': testId, 'data-role': status.role, class: leader ? 'leader' : null }, [
    ...head,
    element('td', {}, [status.role]),
    ...numbers.map((text) => element('td', { class: 'number' }, [text])),
  ]);
}
