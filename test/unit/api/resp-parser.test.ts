import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RespParser, RespProtocolError } from '../../../src/api/resp/parser.js';
import { array, bulk, encodeReply, error, integer, NULL_BULK, OK } from '../../../src/api/resp/encoder.js';
import { SeededRandom } from '../../../src/sim/random.js';

function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

function parseAll(parser: RespParser, ...pieces: (string | Buffer)[]): string[][] {
  return pieces.flatMap((piece) => parser.push(Buffer.from(piece)).map((args) => args.map((arg) => arg.toString())));
}

describe('RESP request parser', () => {
  const pipeline =
    command('SET', 'key', 'va\r\nlue') + 'PING\r\n' + command('GET', 'key') + command('MSET', 'a', '', 'b', 'x');
  const expected = [['SET', 'key', 'va\r\nlue'], ['PING'], ['GET', 'key'], ['MSET', 'a', '', 'b', 'x']];

  it('parses pipelined commands, whole or split at every byte', () => {
    assert.deepEqual(parseAll(new RespParser(), pipeline), expected);
    for (let cut = 1; cut < pipeline.length; cut++) {
      const parser = new RespParser();
      assert.deepEqual(parseAll(parser, pipeline.slice(0, cut), pipeline.slice(cut)), expected, `cut at ${cut}`);
    }
  });

  it('parses a stream delivered one byte at a time, and in random pieces', () => {
    const parser = new RespParser();
    assert.deepEqual(parseAll(parser, ...pipeline.split('')), expected);
    const random = new SeededRandom(5);
    const bytes = Buffer.from(pipeline.repeat(20));
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < bytes.length;) {
      const size = 1 + random.int(40);
      pieces.push(bytes.subarray(offset, offset + size));
      offset += size;
    }
    assert.deepEqual(parseAll(new RespParser(), ...pieces), Array.from({ length: 20 }, () => expected).flat());
  });

  it('takes a large value arriving in many pieces', () => {
    const value = 'v'.repeat(1_000_000);
    const bytes = Buffer.from(command('SET', 'big', value));
    const parser = new RespParser();
    const got: Buffer[][] = [];
    for (let offset = 0; offset < bytes.length; offset += 1000)
      got.push(...parser.push(bytes.subarray(offset, offset + 1000)));
    assert.equal(got.length, 1);
    assert.equal(got[0]![2]!.length, 1_000_000);
  });

  it('accepts inline commands with or without CR, and skips empty lines', () => {
    assert.deepEqual(parseAll(new RespParser(), 'GET  key\r\n\r\nPING\nECHO hi\r\n'), [
      ['GET', 'key'],
      ['PING'],
      ['ECHO', 'hi'],
    ]);
  });

  for (const [input, message] of [
    ['*2\r\n$3\r\nGET\r\n:1\r\n', /expected '\$', got ':'/],
    ['*x\r\n', /invalid multibulk length 'x'/],
    ['*1\r\n$-5\r\n', /invalid bulk length '-5'/],
    ['*1\r\n$3\r\nGETX\r\n', /bulk string not followed by CRLF/],
    ['*1\r\n$99999999999\r\n', /invalid bulk length 99999999999/],
    ['*1\n', /multibulk length not followed by CRLF|invalid multibulk length/],
  ] as const) {
    it(`refuses malformed input with a clear error: ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => new RespParser().push(Buffer.from(input)),
        (thrown: unknown) => {
          assert.ok(thrown instanceof RespProtocolError);
          assert.match(thrown.message, message);
          return true;
        },
      );
    });
  }

  it('enforces its limits on argument count, bulk size and inline length', () => {
    const parser = new RespParser({ bulkBytesMax: 10, argumentsMax: 2, inlineBytesMax: 16 });
    assert.throws(() => parser.push(Buffer.from('*3\r\n')), /invalid multibulk length 3/);
    assert.throws(
      () =>
        new RespParser({ bulkBytesMax: 10, argumentsMax: 2, inlineBytesMax: 16 }).push(Buffer.from('*1\r\n$11\r\n')),
      /invalid bulk length 11/,
    );
    assert.throws(
      () => new RespParser({ bulkBytesMax: 10, argumentsMax: 2, inlineBytesMax: 16 }).push(Buffer.from('x'.repeat(17))),
      /too big inline request/,
    );
  });

  it('never throws anything but a protocol error on random bytes', () => {
    const random = new SeededRandom(11);
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.from(
        Array.from({ length: 1 + random.int(64) }, () =>
          random.pick([42, 36, 13, 10, 48, 49, 50, 65, random.int(256)]),
        ),
      );
      try {
        new RespParser({ bulkBytesMax: 1000, argumentsMax: 100, inlineBytesMax: 100 }).push(bytes);
      } catch (thrown) {
        assert.ok(thrown instanceof RespProtocolError, `round ${round}: ${String(thrown)}`);
      }
    }
  });
});

describe('RESP reply encoder', () => {
  it('encodes every kind of reply as Redis does', () => {
    const out: Buffer[] = [];
    for (const reply of [
      OK,
      error('ERR unknown command'),
      integer(42),
      bulk('hé'),
      NULL_BULK,
      array([bulk('a'), NULL_BULK]),
      array(null),
    ]) {
      encodeReply(reply, out);
    }
    assert.equal(
      Buffer.concat(out).toString(),
      '+OK\r\n-ERR unknown command\r\n:42\r\n$3\r\nhé\r\n$-1\r\n*2\r\n$1\r\na\r\n$-1\r\n*-1\r\n',
    );
  });
});
