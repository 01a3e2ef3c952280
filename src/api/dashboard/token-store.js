/**
 * The cluster's auth token as the page keeps it: in sessionStorage, so it
 * lasts while the tab is open and is gone when it closes (it never reaches
 * disk the way localStorage would keep it), and is sent as a bearer header.
 */

const STORAGE_KEY = 'raftkv.authToken';

/** @returns {string | null} */
export function storedToken() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be off (a privacy setting): the page then works as for a cluster without a token.
    return null;
  }
}

/** @param {string} token an empty one forgets the token */
export function storeToken(token) {
  try {
    if (token === '') sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // See storedToken.
  }
}

/**
 * The headers that carry the token, when there is one.
 * @returns {Record<string, string>}
 */
export function authorizationHeaders() {
  const token = storedToken();
  return token === null ? {} : { authorization: `Bearer ${token}` };
}
