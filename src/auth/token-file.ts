/**
 * Where a process finds the token: a file (which `ps` does not show, unlike
 * a flag) or an environment variable, the file winning when both are given.
 * Whitespace around the token (the newline an editor or `echo` leaves) is
 * not part of it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { authTokenProblem } from './auth-token.js';

/** A token file or variable that cannot be used; the message says which and why. */
export class TokenSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenSourceError';
  }
}

export interface TokenSources {
  /** The path given to the --...-token-file flag, if any. */
  readonly file?: string | undefined;
  readonly fileFlag: string;
  /** The environment variable's name and value (undefined or empty: not set). */
  readonly envName: string;
  readonly envValue: string | undefined;
}

/** The token, or undefined when neither source gives one; throws TokenSourceError when one is unusable. */
export async function resolveToken(sources: TokenSources): Promise<string | undefined> {
  if (sources.file !== undefined) return readTokenFile(sources.file, sources.fileFlag);
  const fromEnv = sources.envValue?.trim() ?? '';
  if (fromEnv === '') return undefined;
  const problem = authTokenProblem(fromEnv);
  if (problem !== null) throw new TokenSourceError(`${sources.envName}: ${problem}`);
  return fromEnv;
}

export async function readTokenFile(file: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new TokenSourceError(`${flag} ${file}: cannot read the token (${reason})`);
  }
  const token = text.trim();
  const problem = authTokenProblem(token);
  if (problem !== null) throw new TokenSourceError(`${flag} ${file}: ${problem}`);
  return token;
}

/** A fresh random token (32 bytes as 64 hex digits) in `file`, readable by its owner only. */
export async function writeNewTokenFile(file: string): Promise<string> {
  const token = randomBytes(32).toString('hex');
  // The umask can only take permissions away from 0o600, so no one else can read it.
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}
