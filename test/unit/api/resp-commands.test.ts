import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshContext, run } from './resp-context.js';

describe('RESP commands for connection setup', () => {
  it('HELLO refuses protocol 3 so that clients fall back to RESP2, and describes the server for 2', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'HELLO', '3'), '-NOPROTO unsupported protocol version\r\n');
    assert.equal(await run(context, 'HELLO', 'three'), '-ERR Protocol version is not an integer or out of range\r\n');
    const hello = await run(context, 'hello', '2', 'SETNAME', 'app');
    assert.match(hello, /^\*14\r\n\$6\r\nserver\r\n\$6\r\nraftkv\r\n/);
    assert.match(hello, /\$5\r\nproto\r\n:2\r\n\$2\r\nid\r\n:7\r\n/);
    assert.equal(context.clientName, 'app');
    // Without a password set, the default user needs none, as in Redis 6.
    assert.match(await run(context, 'HELLO', '2', 'AUTH', 'default', 'anything'), /^\*14\r\n/);
    assert.match(await run(context, 'HELLO', '2', 'AUTH', 'user', 'pass'), /^-WRONGPASS /);
    assert.equal(await run(context, 'HELLO', '2', 'BOGUS'), "-ERR Syntax error in HELLO option 'BOGUS'\r\n");
  });

  it('CLIENT SETNAME and GETNAME keep a name per connection, with Redis rules for names', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'CLIENT', 'GETNAME'), '$-1\r\n');
    assert.equal(await run(context, 'client', 'setname', 'worker-1'), '+OK\r\n');
    assert.equal(await run(context, 'CLIENT', 'GETNAME'), '$8\r\nworker-1\r\n');
    assert.equal(
      await run(context, 'CLIENT', 'SETNAME', 'has space'),
      '-ERR Client names cannot contain spaces, newlines or special characters.\r\n',
    );
    assert.match(await run(context, 'CLIENT', 'SETNAME', 'n'.repeat(257)), /^-ERR client names are limited to 256/);
    assert.equal(await run(context, 'CLIENT', 'SETNAME', ''), '+OK\r\n');
    assert.equal(await run(context, 'CLIENT', 'GETNAME'), '$-1\r\n');
    assert.equal(await run(context, 'CLIENT', 'ID'), ':7\r\n');
    assert.equal(await run(context, 'CLIENT', 'SETINFO', 'LIB-NAME', 'redis-py'), '+OK\r\n');
    assert.equal(
      await run(context, 'CLIENT', 'SETNAME'),
      "-ERR wrong number of arguments for 'client|setname' command\r\n",
    );
    assert.equal(await run(context, 'CLIENT', 'KILL', 'x'), "-ERR unknown subcommand 'KILL'. Try CLIENT HELP.\r\n");
  });

  it('SELECT accepts only database 0', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'SELECT', '0'), '+OK\r\n');
    assert.equal(await run(context, 'SELECT', '1'), '-ERR DB index is out of range\r\n');
    assert.equal(await run(context, 'SELECT', 'zero'), '-ERR value is not an integer or out of range\r\n');
  });

  it('COMMAND, COMMAND DOCS and COMMAND COUNT answer enough for redis-cli to start', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'COMMAND'), '*0\r\n');
    assert.equal(await run(context, 'COMMAND', 'DOCS'), '*0\r\n');
    assert.match(await run(context, 'command', 'count'), /^:\d+\r\n$/);
    assert.equal(await run(context, 'COMMAND', 'NOPE'), "-ERR unknown subcommand 'NOPE'. Try COMMAND HELP.\r\n");
  });

  it('QUIT asks for the connection to close after its reply', async () => {
    const context = freshContext();
    assert.equal(await run(context, 'QUIT'), '+OK\r\n');
    assert.equal(context.closeAfterReply, true);
  });

  it('PING takes at most one argument', async () => {
    assert.equal(await run(freshContext(), 'PING', 'a', 'b'), "-ERR wrong number of arguments for 'ping' command\r\n");
  });

  it('an unknown command quotes at most 128 bytes of what was sent', async () => {
    const reply = await run(freshContext(), 'x'.repeat(200), 'a'.repeat(100), 'b'.repeat(100), 'c');
    assert.equal(
      reply,
      `-ERR unknown command '${'x'.repeat(128)}', with args beginning with: '${'a'.repeat(100)}' '${'b'.repeat(25)}' \r\n`,
    );
  });
});
