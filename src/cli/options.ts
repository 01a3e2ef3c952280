/** Flag parsers that turn bad input into one clear line instead of a stack trace. */
import { InvalidArgumentError } from '@commander-js/extra-typings';

export function integerOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`${flag} takes a whole number ${range}, got "${value}"`);
    }
    return parsed;
  };
}

/** A host:port; the host may be a name, an IPv4 address or a bracketed IPv6 address. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(flag: string, text: string): HostPort {
  const colon = text.lastIndexOf(':');
  const host = colon > 0 ? text.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : '';
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`${flag} takes host:port (like 127.0.0.1:7001), got "${text}"`);
  }
  return { host, port };
}

export function hostPortOption(flag: string): (value: string) => HostPort {
  return (value) => parseHostPort(flag, value);
}

/** `1=host:port,2=host:port,...`: every member of a group with its peer address. */
export function membersOption(flag: string): (value: string) => Map<number, HostPort> {
  return (value) => {
    const members = new Map<number, HostPort>();
    for (const part of value.split(',')) {
      const equals = part.indexOf('=');
      const id = Number(part.slice(0, equals));
      if (equals <= 0 || !Number.isInteger(id) || id < 1) {
        throw new InvalidArgumentError(
          `${flag} takes id=host:port pairs separated by commas (like 1=127.0.0.1:7001,2=127.0.0.1:7002), got "${part}"`,
        );
      }
      if (members.has(id)) throw new InvalidArgumentError(`${flag} names member ${id} twice`);
      members.set(id, parseHostPort(flag, part.slice(equals + 1)));
    }
    return members;
  };
}
