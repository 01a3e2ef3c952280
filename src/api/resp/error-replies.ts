/**
 * Every error reply the RESP server sends, worded as Redis words it where
 * Redis has one, so that client libraries and people recognise them.
 */
import type { RespReply } from './encoder.js';
import { error } from './encoder.js';
import type { BackendFailure } from './resp-backend.js';

/** Redis quotes at most this many bytes of a client's input in an error, so a huge argument cannot make a huge reply. */
const QUOTED_BYTES_MAX = 128;

export function unknownCommand(args: readonly Buffer[]): RespReply {
  // Redis's wording: each argument quoted and followed by a space, until 128 bytes are quoted.
  let quoted = '';
  for (const arg of args.slice(1)) {
    if (quoted.length >= QUOTED_BYTES_MAX) break;
    quoted += `'${quote(arg, QUOTED_BYTES_MAX - quoted.length)}' `;
  }
  return error(`ERR unknown command '${quote(args[0]!, QUOTED_BYTES_MAX)}', with args beginning with: ${quoted}`);
}

/** `name` is lower case, and `container|sub` for a subcommand, as Redis 7 writes it. */
export function wrongArity(name: string): RespReply {
  return error(`ERR wrong number of arguments for '${name}' command`);
}

export function unknownSubcommand(command: string, subcommand: Buffer): RespReply {
  return error(`ERR unknown subcommand '${quote(subcommand, QUOTED_BYTES_MAX)}'. Try ${command.toUpperCase()} HELP.`);
}

export function notAnInteger(): RespReply {
  return error('ERR value is not an integer or out of range');
}

export function syntaxError(): RespReply {
  return error('ERR syntax error');
}

/**
 * The Redis error for a failed backend call. TRYAGAIN only where nothing was
 * applied, because Redis clients retry it blindly; an unknown outcome must
 * not be retried as a new write, so it is a plain ERR (sessionExpired too:
 * an earlier attempt may have been applied).
 */
export function failureReply(failure: BackendFailure): RespReply {
  switch (failure.code) {
    case 'notLeader':
    case 'overloaded':
    case 'unavailable':
    case 'timeout':
      return error(`TRYAGAIN ${failure.message}`);
    case 'outcomeUnknown':
    case 'sessionExpired':
    case 'stopped':
    case 'wrongService':
    case 'keyTooLarge':
    case 'valueTooLarge':
    case 'casMismatch':
    case 'staleSequence':
    case 'malformedCommand':
      return error(`ERR ${failure.message}`);
    // Redis's own words: client libraries and scripts match on them.
    case 'notAnInteger':
      return notAnInteger();
    case 'incrementOverflow':
      return error('ERR increment or decrement would overflow');
  }
}

function quote(bytes: Buffer, bytesMax: number): string {
  return bytes.subarray(0, bytesMax).toString();
}
