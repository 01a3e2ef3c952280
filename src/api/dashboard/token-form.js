/**
 * The token field in the page's header: hidden until a node asks for a
 * token (an answer 401) or the tab already holds one, so a cluster without
 * authentication never shows it.
 */
import { storedToken, storeToken } from './token-store.js';

/**
 * @typedef {object} TokenView
 * @property {HTMLFormElement} form
 * @property {HTMLInputElement} input
 */

/**
 * @param {TokenView} view
 * @param {() => void} onChange called after the user saved a token, to refresh at once
 */
export function wireTokenForm(view, onChange) {
  view.form.hidden = storedToken() === null;
  view.form.addEventListener('submit', (event) => {
    event.preventDefault();
    storeToken(view.input.value.trim());
    view.input.value = '';
    view.input.placeholder = storedToken() === null ? 'paste the token' : 'token saved for this tab';
    onChange();
  });
}

/**
 * Shows the field and puts the cursor in it, when a node has refused the page for lack of a token.
 * @param {TokenView} view
 */
export function askForToken(view) {
  if (!view.form.hidden) return;
  view.form.hidden = false;
  view.input.focus();
}
