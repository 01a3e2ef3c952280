/**
 * SET's options, read as Redis 7 reads them: NX | XX, GET, and one of
 * EX seconds | PX milliseconds | EXAT unix-seconds | PXAT unix-milliseconds |
 * KEEPTTL, in any order, names in any case. A conflicting or unknown option is
 * "ERR syntax error"; a time that is not an integer is "ERR value is not an
 * integer or out of range"; one that is not positive, or too far away, is
 * "ERR invalid expire time in 'set' command".
 */
import type { SetOptions, SetTtl } from './resp-backend.js';
import type { RespReply } from './encoder.js';
import { error } from './encoder.js';
import { notAnInteger, syntaxError } from './error-replies.js';
import { parseInt64 } from '../../kv/integer-value.js';

/**
 * The furthest expiry accepted, in ms (2^52 ms, ~142,000 years, from now or
 * from the epoch): an expiry time must stay an exact JavaScript number.
 */
const EXPIRY_MS_MAX = 2 ** 52;

const EXPIRY_OPTIONS = { ex: 1000, px: 1, exat: 1000, pxat: 1 } as const;
type ExpiryOption = keyof typeof EXPIRY_OPTIONS;

/** The options in `args` (what follows SET key value), or the error reply Redis gives for them. */
export function parseSetOptions(args: readonly Buffer[], command = 'set'): Required<SetOptions> | RespReply {
  let condition: Required<SetOptions>['condition'] = 'always';
  let returnPrevious = false;
  let keepTtl = false;
  let expiry: { option: ExpiryOption; text: Buffer } | null = null;
  for (let index = 0; index < args.length; index++) {
    const option = args[index]!.toString('latin1').toLowerCase();
    const next = args[index + 1];
    if (option === 'nx' && condition !== 'ifPresent') condition = 'ifAbsent';
    else if (option === 'xx' && condition !== 'ifAbsent') condition = 'ifPresent';
    else if (option === 'get') returnPrevious = true;
    else if (option === 'keepttl' && expiry === null) keepTtl = true;
    else if (isExpiryOption(option) && !keepTtl && expiry === null && next !== undefined) {
      expiry = { option, text: next };
      index++;
    } else return syntaxError();
  }
  let ttl: SetTtl = keepTtl ? { type: 'keep' } : { type: 'none' };
  if (expiry !== null) {
    const parsed = parseExpiry(expiry.option, expiry.text, command);
    if ('kind' in parsed) return parsed;
    ttl = parsed;
  }
  return { condition, returnPrevious, ttl };
}

function isExpiryOption(option: string): option is ExpiryOption {
  return Object.hasOwn(EXPIRY_OPTIONS, option);
}

function parseExpiry(option: ExpiryOption, text: Buffer, command: string): SetTtl | RespReply {
  const amount = parseInt64(text);
  if (amount === null) return notAnInteger();
  const ms = amount * BigInt(EXPIRY_OPTIONS[option]);
  if (ms <= 0n || ms > BigInt(EXPIRY_MS_MAX)) return error(`ERR invalid expire time in '${command}' command`);
  return option === 'ex' || option === 'px'
    ? { type: 'afterMs', ttlMs: Number(ms) }
    : { type: 'atMs', expiresAtMs: Number(ms) };
}
