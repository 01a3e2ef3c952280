/**
 * The Redis protocol with the real redis-cli (Debian's redis-tools, which CI
 * installs): any member answers, a follower by forwarding to the leader, and
 * what one member writes every other member reads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ProcessGroup } from './support/process-group.js';

const run = promisify(execFile);

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trimEnd();
}

describe('redis-cli against a three-member group', { timeout: 60_000 }, () => {
  let group: ProcessGroup;
  before(async () => {
    group = await ProcessGroup.create(3);
    await group.startAll();
  });
  after(async () => {
    await group.close();
  });

  it('writes through one member and reads through every other', async () => {
    const [first, second, third] = group.ids.map((id) => group.member(id).respPort) as [number, number, number];
    assert.equal(await redisCli(first, 'PING'), 'PONG');
    assert.equal(await redisCli(first, 'SET', 'greeting', 'hello'), 'OK');
    assert.equal(await redisCli(second, 'GET', 'greeting'), 'hello');
    assert.equal(await redisCli(third, 'APPEND', 'greeting', ' world'), '11');
    assert.equal(await redisCli(first, 'GET', 'greeting'), 'hello world');
    assert.equal(await redisCli(second, 'EXISTS', 'greeting', 'nothing'), '1');
    assert.equal(await redisCli(third, 'DEL', 'greeting', 'nothing'), '1');
    assert.equal(await redisCli(first, 'GET', 'greeting'), '');
  });

  it('answers bad input with Redis errors and keeps serving', async () => {
    const port = group.member(group.ids[0]!).respPort;
    assert.match(await redisCli(port, 'FLY', 'away'), /ERR unknown command 'FLY'/);
    assert.match(await redisCli(port, 'GET'), /ERR wrong number of arguments for 'get' command/);
    assert.equal(await redisCli(port, 'SET', 'after', 'errors'), 'OK');
    assert.equal(await redisCli(port, 'GET', 'after'), 'errors');
  });
});
