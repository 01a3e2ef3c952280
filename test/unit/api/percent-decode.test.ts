/** Keys in /v1/kv/<key> as a curl user writes them: plain, UTF-8, or percent-escaped bytes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentDecode } from '../../../src/api/http/kv-routes.js';

const hex = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('hex'));

describe('percentDecode, the key of /v1/kv/<key>', () => {
  it('a plain key is its UTF-8 bytes', () => {
    assert.equal(hex(percentDecode('user:42')), Buffer.from('user:42').toString('hex'));
    assert.equal(hex(percentDecode('clé-ключ')), Buffer.from('clé-ключ', 'utf8').toString('hex'));
  });

  it('escapes are bytes, in either case, mixed with UTF-8 text', () => {
    assert.equal(hex(percentDecode('user%3A42')), Buffer.from('user:42').toString('hex'));
    assert.equal(hex(percentDecode('%ff%FE%00')), 'fffe00');
    assert.equal(hex(percentDecode('é%41')), Buffer.from('éA', 'utf8').toString('hex'));
    assert.equal(hex(percentDecode('%25')), '25');
  });

  it('a broken escape is refused', () => {
    for (const broken of ['%', '%4', '%G1', 'a%4g', 'end%']) assert.equal(percentDecode(broken), null, broken);
  });
});
