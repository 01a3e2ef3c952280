/** RESP2 reply bytes, as redis-cli and every client library read them, whichever way the encoder builds them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RespReply } from '../../../src/api/resp/encoder.js';
import { array, bulk, encodeReply, integer, NULL_BULK, OK } from '../../../src/api/resp/encoder.js';

function bytesOf(...replies: RespReply[]): string {
  const out: Buffer[] = [];
  for (const reply of replies) encodeReply(reply, out);
  return Buffer.concat(out).toString('latin1');
}

describe('RESP reply encoding', () => {
  it('OK, nil and integers, the same bytes every time', () => {
    assert.equal(bytesOf(OK, OK, NULL_BULK, integer(42)), '+OK\r\n+OK\r\n$-1\r\n:42\r\n');
  });

  it('a small value and a value over 4 KiB are both a length, the bytes and CRLF', () => {
    const small = Buffer.from('v'.repeat(256));
    const large = Buffer.alloc(5000, 'x');
    assert.equal(bytesOf(bulk(small)), `$256\r\n${'v'.repeat(256)}\r\n`);
    assert.equal(bytesOf(bulk(large)), `$5000\r\n${'x'.repeat(5000)}\r\n`);
    assert.equal(bytesOf(bulk(new Uint8Array(0))), '$0\r\n\r\n');
  });

  it('a value that is a view into a larger buffer is encoded as the view, not the buffer', () => {
    const backing = Buffer.from('..key=value..');
    assert.equal(bytesOf(array([bulk(backing.subarray(6, 11)), NULL_BULK])), '*2\r\n$5\r\nvalue\r\n$-1\r\n');
  });
});
