/**
 * Builds DOM nodes from data. Every text from the server (addresses, error
 * messages) goes in through textContent, never innerHTML, so a member address
 * or an error message cannot inject markup into the page.
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attributes] null, undefined and false leave the attribute out
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children);
  return node;
}

/**
 * The element with `id`, which index.html must have: a missing one is a bug in the page, not in the data.
 * @template {Element} T
 * @param {string} id
 * @param {{ new (): T, name: string }} type
 * @returns {T}
 */
export function required(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`dashboard: index.html has no ${type.name} with id ${id}`);
  return node;
}
