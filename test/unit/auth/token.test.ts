/** The auth token: what makes one usable, how it is compared, and where a process finds it. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUTH_TOKEN_BYTES_MAX, authTokenProblem, TokenCheck } from '../../../src/auth/auth-token.js';
import { resolveToken, TokenSourceError, writeNewTokenFile } from '../../../src/auth/token-file.js';

describe('an auth token', () => {
  it('is printable ASCII without spaces, from 1 to 255 characters', () => {
    assert.equal(authTokenProblem('s3cret-Token_+/='), null);
    assert.equal(authTokenProblem('x'.repeat(AUTH_TOKEN_BYTES_MAX)), null);
    assert.match(authTokenProblem('') ?? '', /empty/);
    assert.match(authTokenProblem('x'.repeat(AUTH_TOKEN_BYTES_MAX + 1)) ?? '', /at most 255/);
    assert.match(
      authTokenProblem('two words') ?? '',
      /printable ASCII characters, without spaces.*openssl rand -hex 32/,
    );
    assert.match(authTokenProblem('naïve') ?? '', /printable ASCII/);
  });

  it('matches only itself, whatever the length or the shared prefix of what is presented', () => {
    const check = new TokenCheck('the-cluster-token');
    assert.equal(check.matches('the-cluster-token'), true);
    assert.equal(check.matches(Buffer.from('the-cluster-token')), true);
    for (const other of ['', 'the-cluster-toke', 'the-cluster-tokenn', 'THE-CLUSTER-TOKEN', 'x']) {
      assert.equal(check.matches(other), false, other);
    }
    assert.throws(() => new TokenCheck('has space'), /not a usable auth token/);
  });
});

describe('where a process finds its token', () => {
  let directory = '';
  const sources = { fileFlag: '--token-file', envName: 'RAFTKV_TOKEN' };
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-token-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads a file without the whitespace around the token, and prefers it to the variable', async () => {
    const file = path.join(directory, 'token');
    await writeFile(file, '  from-the-file\n\n');
    assert.equal(await resolveToken({ ...sources, file, envValue: 'from-the-env' }), 'from-the-file');
    assert.equal(await resolveToken({ ...sources, envValue: ' from-the-env\n' }), 'from-the-env');
    assert.equal(await resolveToken({ ...sources, envValue: '' }), undefined, 'an empty variable is no token');
    assert.equal(await resolveToken({ ...sources, envValue: undefined }), undefined);
  });

  it('names the file or variable and what is wrong with it', async () => {
    const missing = path.join(directory, 'missing');
    await assert.rejects(
      resolveToken({ ...sources, file: missing, envValue: undefined }),
      (error: unknown) =>
        error instanceof TokenSourceError &&
        error.message === `--token-file ${missing}: cannot read the token (no such file)`,
    );
    const empty = path.join(directory, 'empty');
    await writeFile(empty, '\n');
    await assert.rejects(
      resolveToken({ ...sources, file: empty, envValue: undefined }),
      /--token-file .*empty: the token is empty/,
    );
    await assert.rejects(
      resolveToken({ ...sources, envValue: 'two words' }),
      /^TokenSourceError: RAFTKV_TOKEN: the token may hold only printable ASCII/,
    );
  });

  it('makes a new random token in a file only its owner can read, and never overwrites one', async () => {
    const file = path.join(directory, 'new-token');
    const token = await writeNewTokenFile(file);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal((await readFile(file, 'utf8')).trim(), token);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await assert.rejects(writeNewTokenFile(file), /EEXIST/);
    assert.notEqual(await writeNewTokenFile(path.join(directory, 'another')), token);
  });
});
