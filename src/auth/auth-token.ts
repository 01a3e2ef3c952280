/**
 * The cluster's client secret: one token that every client presents (RESP
 * AUTH, HTTP bearer, the binary protocol's hello) and every node checks. A
 * token is what an operator puts in a file and a user types after `-a` or
 * in a header, so it is printable ASCII without spaces; its length fits the
 * one length byte of the hello.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Longest token: the hello gives its length one byte. 64 hex digits (32 random bytes) fit with room to spare. */
export const AUTH_TOKEN_BYTES_MAX = 255;
/** Shorter tokens work, but a guessable one can be found by trying; the server warns below this. */
export const AUTH_TOKEN_CHARS_ADVISED_MIN = 16;
/** Visible ASCII: safe in an HTTP header, a RESP argument, a shell word and a file, without quoting rules. */
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** Why `text` cannot be a token, as a sentence; null when it can. */
export function authTokenProblem(text: string): string | null {
  if (text.length === 0) return 'the token is empty';
  if (text.length > AUTH_TOKEN_BYTES_MAX) {
    return `the token is ${text.length} characters long; at most ${AUTH_TOKEN_BYTES_MAX} are allowed`;
  }
  if (!TOKEN_SHAPE.test(text)) {
    return 'the token may hold only printable ASCII characters, without spaces (make one with: openssl rand -hex 32)';
  }
  return null;
}

/**
 * Tells whether a presented token is the cluster's. Both sides are hashed
 * first, so the comparison takes the same time whatever is presented: it
 * reveals neither how many leading characters were right nor the length.
 */
export class TokenCheck {
  private readonly digest: Buffer;

  constructor(token: string) {
    const problem = authTokenProblem(token);
    if (problem !== null) throw new Error(`not a usable auth token: ${problem}`);
    this.digest = sha256(Buffer.from(token, 'latin1'));
  }

  /** `presented` as the client sent it (RESP and the hello carry bytes, HTTP a string). */
  matches(presented: string | Uint8Array): boolean {
    const bytes = typeof presented === 'string' ? Buffer.from(presented, 'latin1') : presented;
    return timingSafeEqual(sha256(bytes), this.digest);
  }
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
