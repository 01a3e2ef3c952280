import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBackend } from './memory-backend.js';
import { freshContext, run } from './resp-context.js';

const NIL = '$-1\r\n';
const OK = '+OK\r\n';

function bulkOf(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

describe('RESP string commands, as Redis 7 answers them', () => {
  it('SET NX writes only an absent key and XX only a present one, answering nil when it did not write', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'SET', 'k', 'one', 'XX'), NIL);
    assert.equal(await run(context, 'GET', 'k'), NIL);
    assert.equal(await run(context, 'SET', 'k', 'one', 'nx'), OK);
    assert.equal(await run(context, 'SET', 'k', 'two', 'NX'), NIL);
    assert.equal(await run(context, 'GET', 'k'), bulkOf('one'));
    assert.equal(await run(context, 'SET', 'k', 'two', 'XX'), OK);
    assert.equal(await run(context, 'GET', 'k'), bulkOf('two'));
  });

  it('SET GET answers the previous value whether or not it wrote, and GETSET is SET GET', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'SET', 'k', 'one', 'GET'), NIL);
    assert.equal(await run(context, 'SET', 'k', 'two', 'NX', 'GET'), bulkOf('one'));
    assert.equal(await run(context, 'GET', 'k'), bulkOf('one'));
    assert.equal(await run(context, 'GETSET', 'k', 'three'), bulkOf('one'));
    assert.equal(await run(context, 'GET', 'k'), bulkOf('three'));
  });

  it('EX and PX expire a key by the clock; a plain SET clears the expiry and KEEPTTL keeps it', async () => {
    const backend = new MemoryBackend();
    const context = freshContext(backend);
    assert.equal(await run(context, 'SET', 'k', 'v', 'EX', '10'), OK);
    assert.equal(await run(context, 'TTL', 'k'), ':10\r\n');
    assert.equal(await run(context, 'PTTL', 'k'), ':10000\r\n');
    backend.nowMs += 4_400;
    assert.equal(await run(context, 'TTL', 'k'), ':6\r\n', 'rounded to the nearest second');
    assert.equal(await run(context, 'SET', 'k', 'w', 'KEEPTTL'), OK);
    assert.equal(await run(context, 'PTTL', 'k'), ':5600\r\n');
    backend.nowMs += 5_600;
    assert.equal(await run(context, 'GET', 'k'), bulkOf('w'), 'still there at its expiry time');
    backend.nowMs += 1;
    assert.equal(await run(context, 'GET', 'k'), NIL);
    assert.equal(await run(context, 'TTL', 'k'), ':-2\r\n');
    assert.equal(await run(context, 'EXISTS', 'k'), ':0\r\n');
    assert.equal(await run(context, 'SET', 'k', 'v', 'NX', 'PX', '1500'), OK, 'an expired key counts as absent');
    assert.equal(await run(context, 'SET', 'k', 'plain'), OK);
    assert.equal(await run(context, 'TTL', 'k'), ':-1\r\n');
    assert.equal(await run(context, 'SET', 'at', 'v', 'PXAT', String(backend.nowMs + 250)), OK);
    assert.equal(await run(context, 'PTTL', 'at'), ':250\r\n');
  });

  it('answers bad SET options with the errors Redis gives, and changes nothing', async () => {
    const context = freshContext();
    const cases: [string[], string][] = [
      [['NX', 'XX'], '-ERR syntax error\r\n'],
      [['EX', '10', 'PX', '100'], '-ERR syntax error\r\n'],
      [['EX', '10', 'KEEPTTL'], '-ERR syntax error\r\n'],
      [['EX'], '-ERR syntax error\r\n'],
      [['SOON'], '-ERR syntax error\r\n'],
      [['EX', 'ten'], '-ERR value is not an integer or out of range\r\n'],
      [['EX', '0'], "-ERR invalid expire time in 'set' command\r\n"],
      [['PX', '-5'], "-ERR invalid expire time in 'set' command\r\n"],
      [['EX', '9223372036854775807'], "-ERR invalid expire time in 'set' command\r\n"],
    ];
    for (const [options, reply] of cases) {
      assert.equal(await run(context, 'SET', 'k', 'v', ...options), reply, options.join(' '));
    }
    assert.equal(await run(context, 'GET', 'k'), NIL);
    assert.equal(await run(context, 'SET', 'k'), "-ERR wrong number of arguments for 'set' command\r\n");
  });

  it('INCR, INCRBY, DECR and DECRBY count in 64-bit signed integers, refusing what Redis refuses', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'INCR', 'n'), ':1\r\n');
    assert.equal(await run(context, 'INCRBY', 'n', '41'), ':42\r\n');
    assert.equal(await run(context, 'DECR', 'n'), ':41\r\n');
    assert.equal(await run(context, 'DECRBY', 'n', '50'), ':-9\r\n');
    assert.equal(await run(context, 'GET', 'n'), bulkOf('-9'));
    assert.equal(await run(context, 'SET', 'big', '9223372036854775806'), OK);
    assert.equal(await run(context, 'INCR', 'big'), ':9223372036854775807\r\n', 'exact beyond 2^53');
    assert.equal(await run(context, 'INCR', 'big'), '-ERR increment or decrement would overflow\r\n');
    assert.equal(await run(context, 'GET', 'big'), bulkOf('9223372036854775807'));
    assert.equal(await run(context, 'DECRBY', 'n', '-9223372036854775808'), '-ERR decrement would overflow\r\n');
    for (const value of ['abc', ' 1', '01', '+1', '1.5', '', '9223372036854775808']) {
      assert.equal(await run(context, 'SET', 's', value), OK);
      assert.equal(await run(context, 'INCR', 's'), '-ERR value is not an integer or out of range\r\n', value);
    }
    assert.equal(await run(context, 'INCRBY', 'n', 'x'), '-ERR value is not an integer or out of range\r\n');
    assert.equal(await run(context, 'GET', 'n'), bulkOf('-9'));
  });

  it('INCR keeps the expiry of the key, and starts from 0 on an expired one', async () => {
    const backend = new MemoryBackend();
    const context = freshContext(backend);
    assert.equal(await run(context, 'SET', 'n', '5', 'EX', '10'), OK);
    assert.equal(await run(context, 'INCR', 'n'), ':6\r\n');
    assert.equal(await run(context, 'TTL', 'n'), ':10\r\n');
    backend.nowMs += 10_001;
    assert.equal(await run(context, 'INCR', 'n'), ':1\r\n');
    assert.equal(await run(context, 'TTL', 'n'), ':-1\r\n');
  });

  it('GETDEL, STRLEN, MGET and MSET', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'MSET', 'a', '1', 'b', 'two'), OK);
    assert.equal(await run(context, 'MGET', 'a', 'nothing', 'b'), `*3\r\n${bulkOf('1')}${NIL}${bulkOf('two')}`);
    assert.equal(await run(context, 'STRLEN', 'b'), ':3\r\n');
    assert.equal(await run(context, 'STRLEN', 'nothing'), ':0\r\n');
    assert.equal(await run(context, 'GETDEL', 'b'), bulkOf('two'));
    assert.equal(await run(context, 'GETDEL', 'b'), NIL);
    assert.equal(await run(context, 'MSET', 'a', '1', 'b'), "-ERR wrong number of arguments for 'mset' command\r\n");
    assert.equal(await run(context, 'MGET'), "-ERR wrong number of arguments for 'mget' command\r\n");
  });

  it('DBSIZE counts live keys; INFO has server, clients and keyspace sections', async () => {
    const backend = new MemoryBackend();
    const context = freshContext(backend);
    assert.equal(await run(context, 'DBSIZE'), ':0\r\n');
    assert.equal(await run(context, 'MSET', 'a', '1', 'b', '2'), OK);
    assert.equal(await run(context, 'SET', 'c', '3', 'PX', '10'), OK);
    assert.equal(await run(context, 'DBSIZE'), ':3\r\n');
    backend.nowMs += 11;
    assert.equal(await run(context, 'DBSIZE'), ':2\r\n');
    const info = await run(context, 'INFO');
    assert.match(info, /# Server\r\nredis_version:7\.0\.0\r\n/);
    assert.match(info, /\r\nraftkv_role:test node\r\n/);
    assert.match(info, /\r\nuptime_in_seconds:\d+\r\n/);
    assert.match(info, /# Clients\r\nconnected_clients:3\r\n/);
    assert.match(info, /# Keyspace\r\ndb0:keys=2\r\n/);
    const keyspace = await run(context, 'info', 'keyspace');
    assert.equal(keyspace, bulkOf('# Keyspace\r\ndb0:keys=2\r\n'));
    assert.equal(await run(context, 'INFO', 'nosuchsection'), bulkOf(''));
  });
});
