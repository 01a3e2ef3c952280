/**
 * Passwords on the RESP port, as Redis's requirepass has them: a node
 * started with the cluster's auth token answers every command of a
 * connection with NOAUTH until that connection sends AUTH with the token
 * (or HELLO with AUTH). The one user is Redis's "default", so that both
 * `AUTH token` and Redis 6's `AUTH default token` (what redis-cli --user
 * and client libraries with a username send) work.
 *
 * A wrong password costs the client nothing but a reply: no delay, because
 * a delay per connection does not slow a guesser who opens many, and a
 * token of 32 random bytes is out of reach of guessing anyway. What an
 * operator gets instead is a warning in the log, with the client's address,
 * on the first wrong password of each connection (later ones on the same
 * connection are counted, not logged, so a guesser cannot flood the log).
 */
import type { RespReply } from './encoder.js';
import { error, OK } from './encoder.js';
import { syntaxError } from './error-replies.js';
import type { CommandContext, CommandSpec } from './command-spec.js';

/** The only user name there is, as in a Redis without ACLs. */
const DEFAULT_USER = 'default';
/** What a connection may send before it authenticates: what it needs to authenticate, and to leave. */
const ALLOWED_BEFORE_AUTH: ReadonlySet<string> = new Set(['auth', 'hello', 'quit']);

export const NOAUTH_REPLY = error('NOAUTH Authentication required.');
const WRONGPASS_REPLY = error('WRONGPASS invalid username-password pair or user is disabled.');
/** Redis's words, which client libraries recognise (ioredis warns and goes on rather than failing). */
const NO_PASSWORD_SET = error(
  'ERR AUTH <password> called without any password configured for the default user. ' +
    'Are you sure your configuration is correct?',
);

/** The reply that stops `name` from running on an unauthenticated connection; null lets it run. */
export function authGate(name: string | null, context: CommandContext): RespReply | null {
  if (context.auth.authenticated) return null;
  return name !== null && ALLOWED_BEFORE_AUTH.has(name) ? null : NOAUTH_REPLY;
}

/**
 * Checks a user and password, authenticating the connection when they are
 * right; answers the error to send when they are not. A failure leaves an
 * already authenticated connection authenticated, as Redis does.
 */
export function authenticate(user: Buffer, password: Buffer, context: CommandContext): RespReply | null {
  const { auth } = context;
  const userIsDefault = user.toString('latin1') === DEFAULT_USER;
  if (auth.check === null) return userIsDefault ? null : WRONGPASS_REPLY;
  // The password is checked even for another user: the time taken does not tell which part was wrong.
  const passwordRight = auth.check.matches(password);
  if (userIsDefault && passwordRight) {
    auth.authenticated = true;
    return null;
  }
  auth.onFailure();
  return WRONGPASS_REPLY;
}

/** AUTH password, or AUTH username password. */
function authCommand(args: readonly Buffer[], context: CommandContext): RespReply {
  if (args.length > 3) return syntaxError();
  if (args.length === 2 && context.auth.check === null) return NO_PASSWORD_SET;
  const [user, password] = args.length === 2 ? [Buffer.from(DEFAULT_USER), args[1]!] : [args[1]!, args[2]!];
  return authenticate(user, password, context) ?? OK;
}

export const AUTH_COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['auth', { argumentsMin: 1, argumentsMax: Infinity, handle: authCommand }],
]);
