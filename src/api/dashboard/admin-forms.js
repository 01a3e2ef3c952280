/**
 * The admin forms on the page: each submit is checked, confirmed in the
 * page's own dialog (not window.confirm, which blocks the page and which a
 * test cannot click), sent, and its outcome shown where the user looks.
 */
import { postJson } from './api.js';
import { configSentence, joinRequest, leaveRequest, moveRequest } from './admin-requests.js';

/**
 * @typedef {object} AdminView
 * @property {HTMLFormElement} move
 * @property {HTMLFormElement} join
 * @property {HTMLFormElement} leave
 * @property {HTMLDialogElement} dialog a <dialog> holding a <form method="dialog"> whose confirm button has value "confirm"
 * @property {HTMLElement} question where the dialog shows what is about to happen
 * @property {HTMLElement} result
 */

/**
 * @param {AdminView} view
 * @param {(config: import('./api-types.js').ShardConfig) => void} onConfig called with the config a successful action made
 * @param {() => void} onUnauthorized called when the node refused an action for want of the auth token
 */
export function wireAdminForms(view, onConfig, onUnauthorized) {
  const forms = [
    { form: view.move, parse: moveRequest },
    { form: view.join, parse: joinRequest },
    { form: view.leave, parse: leaveRequest },
  ];
  for (const { form, parse } of forms) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(view, parse(new FormData(form)), onConfig, onUnauthorized);
    });
  }
}

/**
 * @param {AdminView} view
 * @param {import('./admin-requests.js').ParsedRequest} parsed
 * @param {(config: import('./api-types.js').ShardConfig) => void} onConfig
 * @param {() => void} onUnauthorized
 */
async function submit(view, parsed, onConfig, onUnauthorized) {
  if ('problem' in parsed) return showResult(view.result, 'error', parsed.problem);
  // Said before the dialog opens, so whoever reads the result never mistakes the last action's outcome for this one's.
  showResult(view.result, 'confirming', `Confirm or cancel the ${parsed.action}.`);
  if (!(await askConfirmation(view, parsed.question))) {
    return showResult(view.result, 'cancelled', `${parsed.action} cancelled: nothing was sent.`);
  }
  showResult(view.result, 'pending', `Sending ${parsed.action}…`);
  setBusy(view, true);
  try {
    /** @type {import('./api.js').ApiResult<unknown>} */
    const answer = await postJson(parsed.path, parsed.body);
    if (!answer.ok) {
      if (answer.unauthorized) onUnauthorized();
      return showResult(view.result, 'error', `${parsed.action} failed: ${answer.message}`);
    }
    const config = configOf(answer.value);
    showResult(view.result, 'ok', `${parsed.action} done: ${configSentence(config)}.`);
    onConfig(config);
  } finally {
    setBusy(view, false);
  }
}

/**
 * The spec'd answer is the config itself; a {"config": ...} wrapper is accepted too, since both
 * shapes carry the same thing.
 * @param {unknown} body
 * @returns {import('./api-types.js').ShardConfig}
 */
function configOf(body) {
  const value = typeof body === 'object' && body !== null && 'config' in body ? body.config : body;
  return /** @type {import('./api-types.js').ShardConfig} */ (value);
}

/**
 * Opens the dialog and resolves when it closes: true only for the confirm button (Escape and Cancel say no).
 * @param {AdminView} view
 * @param {string} question
 * @returns {Promise<boolean>}
 */
export function askConfirmation(view, question) {
  view.question.textContent = question;
  view.dialog.returnValue = '';
  view.dialog.showModal();
  return new Promise((resolve) => {
    view.dialog.addEventListener('close', () => resolve(view.dialog.returnValue === 'confirm'), { once: true });
  });
}

/**
 * @param {HTMLElement} result
 * @param {'confirming' | 'pending' | 'ok' | 'error' | 'cancelled'} state
 * @param {string} message
 */
function showResult(result, state, message) {
  result.dataset.state = state;
  result.textContent = message;
}

/**
 * One admin action at a time: a second one sent before the first is answered would race it.
 * @param {AdminView} view
 * @param {boolean} busy
 */
function setBusy(view, busy) {
  for (const form of [view.move, view.join, view.leave]) {
    for (const button of form.querySelectorAll('button')) button.disabled = busy;
  }
}
