/**
 * Passwords on the RESP port (requirepass style), command by command: what a
 * connection may do before AUTH, the replies Redis clients expect, and what
 * a server without a password says to a client that sends one anyway.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshContext, run } from './resp-context.js';

const TOKEN = 'a-token-of-the-cluster-0123456789';
const NOAUTH = '-NOAUTH Authentication required.\r\n';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';

describe('RESP AUTH', () => {
  it('refuses every command but AUTH, HELLO and QUIT with NOAUTH until the password is given', async () => {
    const context = freshContext(undefined, TOKEN);
    for (const args of [['PING'], ['GET', 'k'], ['SET', 'k', 'v'], ['INFO'], ['COMMAND', 'DOCS'], ['FLUSHALL']]) {
      assert.equal(await run(context, ...args), NOAUTH, args.join(' '));
    }
    assert.equal(await run(context, 'AUTH', TOKEN), '+OK\r\n');
    assert.equal(await run(context, 'PING'), '+PONG\r\n');
    assert.equal(await run(context, 'SET', 'k', 'v'), '+OK\r\n');
    assert.equal(await run(context, 'GET', 'k'), '$1\r\nv\r\n');
  });

  it('takes the Redis 6 form with the default user, and refuses a wrong password or another user', async () => {
    const context = freshContext(undefined, TOKEN);
    assert.equal(await run(context, 'AUTH', 'not-the-token'), WRONGPASS);
    assert.equal(await run(context, 'AUTH', 'admin', TOKEN), WRONGPASS, 'there is no user but default');
    assert.equal(await run(context, 'AUTH', `${TOKEN}x`), WRONGPASS);
    assert.equal(await run(context, 'GET', 'k'), NOAUTH, 'still not authenticated');
    assert.equal(await run(context, 'AUTH', 'default', TOKEN), '+OK\r\n');
    assert.equal(await run(context, 'GET', 'k'), '$-1\r\n');
    // As in Redis: a later wrong AUTH does not undo the earlier right one.
    assert.equal(await run(context, 'AUTH', 'wrong'), WRONGPASS);
    assert.equal(await run(context, 'GET', 'k'), '$-1\r\n');
    assert.equal(await run(context, 'AUTH'), "-ERR wrong number of arguments for 'auth' command\r\n");
    assert.equal(await run(context, 'AUTH', 'a', 'b', 'c'), '-ERR syntax error\r\n');
  });

  it('counts each wrong password', async () => {
    let failures = 0;
    const context = freshContext(undefined, TOKEN);
    const counting = { ...context, auth: { ...context.auth, onFailure: () => void failures++ } };
    await run(counting, 'AUTH', 'guess-1');
    await run(counting, 'AUTH', 'default', 'guess-2');
    await run(counting, 'HELLO', '2', 'AUTH', 'default', 'guess-3');
    await run(counting, 'AUTH', TOKEN);
    assert.equal(failures, 3);
  });

  it('HELLO authenticates with AUTH, and without it is refused on a connection not yet authenticated', async () => {
    const context = freshContext(undefined, TOKEN);
    assert.match(
      await run(context, 'HELLO', '2'),
      /^-NOAUTH HELLO must be called with the client already authenticated/,
    );
    assert.equal(await run(context, 'HELLO', '2', 'AUTH', 'default', 'wrong', 'SETNAME', 'app'), WRONGPASS);
    assert.equal(context.clientName, null, 'a refused HELLO sets no name');
    assert.match(await run(context, 'HELLO', '2', 'AUTH', 'default', TOKEN, 'SETNAME', 'app'), /^\*14\r\n/);
    assert.equal(context.clientName, 'app');
    assert.equal(await run(context, 'DBSIZE'), ':0\r\n');
  });

  it('QUIT works before AUTH', async () => {
    const context = freshContext(undefined, TOKEN);
    assert.equal(await run(context, 'QUIT'), '+OK\r\n');
    assert.equal(context.closeAfterReply, true);
  });

  it('a server without a password says so to AUTH, in the words client libraries recognise', async () => {
    const context = freshContext();
    assert.match(
      await run(context, 'AUTH', 'something'),
      /^-ERR AUTH <password> called without any password configured/,
    );
    assert.equal(await run(context, 'AUTH', 'default', 'anything'), '+OK\r\n');
    assert.equal(await run(context, 'AUTH', 'someone', 'anything'), WRONGPASS);
  });
});
