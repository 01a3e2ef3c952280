/**
 * The --tls-* flags: a set that cannot work stops the command with a line
 * naming the flag and the file; a node certificate its CA did not sign is a
 * warning (peers will refuse it), not an error.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import path from 'node:path';
import { clientTlsFrom, serverTlsFrom, TlsFlagError } from '../../../src/cli/tls-flags.js';
import type { TestPki } from '../support/test-certs.js';
import { makeTestPki } from '../support/test-certs.js';

describe('--tls-cert, --tls-key and --tls-ca', () => {
  let pki: TestPki;
  before(async () => {
    pki = await makeTestPki();
  });
  after(async () => {
    await pki.remove();
  });

  const noWarnings = (line: string): void => assert.fail(`unexpected warning: ${line}`);

  it('a server without any of them speaks plaintext; with all three, TLS', () => {
    assert.equal(serverTlsFrom({}, noWarnings), undefined);
    const { cert, key, ca } = pki.nodeFiles;
    const tls = serverTlsFrom({ tlsCert: cert, tlsKey: key, tlsCa: ca }, noWarnings);
    assert.deepEqual(tls, pki.node);
  });

  it('a server with only some of them is told which are missing', () => {
    assert.throws(
      () => serverTlsFrom({ tlsCert: pki.nodeFiles.cert }, noWarnings),
      (error: unknown) =>
        error instanceof TlsFlagError &&
        /TLS needs --tls-cert, --tls-key and --tls-ca together; --tls-key and --tls-ca missing/.test(error.message),
    );
  });

  it('a missing file, a file that is not PEM, and a key of another certificate are named', () => {
    const { cert, key, ca } = pki.nodeFiles;
    const missing = path.join(pki.directory, 'nothing.pem');
    assert.throws(() => serverTlsFrom({ tlsCert: missing, tlsKey: key, tlsCa: ca }, noWarnings), {
      message: `--tls-cert ${missing}: cannot read it (ENOENT)`,
    });
    const notPem = path.join(pki.directory, 'ca.der');
    writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x00]));
    assert.throws(() => serverTlsFrom({ tlsCert: cert, tlsKey: key, tlsCa: notPem }, noWarnings), {
      message: `--tls-ca ${notPem}: not a PEM file (no -----BEGIN line)`,
    });
    assert.throws(
      () => serverTlsFrom({ tlsCert: cert, tlsKey: pki.rogueFiles.key, tlsCa: ca }, noWarnings),
      /--tls-cert .*node\.pem with --tls-key .*rogue.*node-key\.pem: .*is the key the certificate's/,
    );
  });

  it('warns of a node certificate that its --tls-ca did not sign', () => {
    const warnings: string[] = [];
    const { cert, key } = pki.rogueFiles;
    serverTlsFrom({ tlsCert: cert, tlsKey: key, tlsCa: pki.nodeFiles.ca }, (line) => warnings.push(line));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /is not signed by --tls-ca .*: peers that trust that CA will refuse this node/);
  });

  it('a client needs --tls-ca for TLS, and a client certificate needs both of its files', () => {
    assert.equal(clientTlsFrom({}), undefined);
    assert.deepEqual(clientTlsFrom({ tlsCa: pki.nodeFiles.ca }), { ca: pki.node.ca });
    assert.throws(() => clientTlsFrom({ tlsCert: pki.nodeFiles.cert, tlsKey: pki.nodeFiles.key }), /need --tls-ca/);
    assert.throws(
      () => clientTlsFrom({ tlsCa: pki.nodeFiles.ca, tlsCert: pki.nodeFiles.cert }),
      /a client certificate needs both --tls-cert and --tls-key/,
    );
  });
});
