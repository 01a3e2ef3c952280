/**
 * What counts as a member address in the config table: host:port, where the
 * host is a DNS name, an IPv4 address, or an IPv6 address in brackets.
 *
 * Checked when a group joins, because every client and shard server will
 * dial these addresses: a typo found at join time is one clear error, a typo
 * found at dial time is a group that nobody can reach.
 */
import { isIPv6 } from 'node:net';

/** Longest address: a 253-character DNS name, the brackets of an IPv6 host, ':' and a 5-digit port. */
export const ADDRESS_CHARS_MAX = 261;
const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
const PORT_DIGITS = /^[0-9]{1,5}$/;
const PORT_MAX = 65_535;

/** Why `address` is not a usable host:port, or null when it is. */
export function addressProblem(address: string): string | null {
  if (address.length === 0) return 'it is empty';
  if (address.length > ADDRESS_CHARS_MAX) return `it is longer than ${ADDRESS_CHARS_MAX} characters`;
  const colon = address.lastIndexOf(':');
  if (colon === -1) return 'it has no ":port"';
  const host = address.slice(0, colon);
  const port = address.slice(colon + 1);
  if (!PORT_DIGITS.test(port) || Number(port) < 1 || Number(port) > PORT_MAX) {
    return `the port is not a number in 1..${PORT_MAX}`;
  }
  if (host.startsWith('[') && host.endsWith(']')) {
    return isIPv6(host.slice(1, -1)) ? null : 'the bracketed host is not an IPv6 address';
  }
  if (host.includes(':')) return 'an IPv6 host must be in brackets, as in [::1]:7000';
  return DNS_NAME.test(host) ? null : 'the host is not a DNS name or an IPv4 address';
}

/** `text` cut to a length fit to quote in an error message. */
export function quoted(text: string, charsMax = 64): string {
  return JSON.stringify(text.length > charsMax ? `${text.slice(0, charsMax)}...` : text);
}
