/**
 * The development certificates of `raftkv certs`: signed by their CA, valid
 * for the names asked, accepted by a real TLS handshake (OpenSSL inside
 * Node) for those names and refused for others.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { makeDevCertificates } from '../../../src/certs/dev-certs.js';
import type { DevCertificateFiles } from '../../../src/certs/dev-certs.js';

/** Connects to a TLS server presenting `files`' certificate; resolves with the client's verdict. */
async function handshake(files: DevCertificateFiles, host: string, servername?: string): Promise<string> {
  const [cert, key, ca] = await Promise.all([readFile(files.cert), readFile(files.key), readFile(files.ca)]);
  const server = createServer({ cert, key }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise<string>((resolve) => {
      const socket = connect({ host, port, ca, ...(servername === undefined ? {} : { servername }) }, () => {
        socket.end();
        resolve('trusted');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  } finally {
    server.close();
  }
}

describe('raftkv certs: a development CA and node certificates', () => {
  let directory: string;
  let files: DevCertificateFiles;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-certs-'));
    files = await makeDevCertificates({
      directory,
      certName: 'node',
      names: ['db1.example.com', '10.0.0.5', 'fd00::5'],
    });
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('signs the node certificate with the CA, for loopback and every name given', async () => {
    const ca = new X509Certificate(await readFile(files.ca));
    const node = new X509Certificate(await readFile(files.cert));
    assert.equal(ca.ca, true);
    assert.equal(node.ca, false);
    assert.ok(node.checkIssued(ca) && node.verify(ca.publicKey), 'the CA signed it');
    assert.ok(ca.verify(ca.publicKey), 'the CA signed itself');
    assert.equal(node.checkHost('localhost'), 'localhost');
    assert.equal(node.checkHost('db1.example.com'), 'db1.example.com');
    assert.equal(node.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(node.checkIP('::1'), '::1');
    assert.equal(node.checkIP('10.0.0.5'), '10.0.0.5');
    assert.equal(node.checkIP('fd00::5'), 'fd00::5');
    assert.equal(node.checkHost('db2.example.com'), undefined);
    assert.ok(node.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'serverAuth');
    assert.ok(node.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'clientAuth: nodes present it to their peers');
    assert.ok(node.checkPrivateKey(createPrivateKey(await readFile(files.key))), "the key is the certificate's");
  });

  it('makes certificates a TLS client trusts for the names in them, and no other', async () => {
    assert.equal(await handshake(files, '127.0.0.1'), 'trusted');
    assert.equal(await handshake(files, '127.0.0.1', 'localhost'), 'trusted');
    assert.equal(await handshake(files, '127.0.0.1', 'db2.example.com'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('keeps private keys private to their owner', async () => {
    for (const file of [files.key, files.caKey]) assert.equal((await stat(file)).mode & 0o077, 0, file);
  });

  it('signs a second certificate with the CA already in the directory', async () => {
    const second = await makeDevCertificates({ directory, certName: 'node-2', names: ['db2.example.com'] });
    assert.equal(second.caCreated, false);
    assert.equal(await handshake(second, '127.0.0.1', 'db2.example.com'), 'trusted');
    assert.equal(await readFile(second.ca, 'utf8'), await readFile(files.ca, 'utf8'));
  });

  it('refuses to replace a certificate unless told to', async () => {
    await assert.rejects(
      makeDevCertificates({ directory, certName: 'node', names: [] }),
      /node\.pem exists already: choose another name, or replace it with --force/,
    );
    const replaced = await makeDevCertificates({ directory, certName: 'node', names: [], overwrite: true });
    assert.equal(await handshake(replaced, '127.0.0.1', 'db1.example.com'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('refuses a name that is neither a host name nor an address', async () => {
    await assert.rejects(
      makeDevCertificates({ directory, certName: 'bad', names: ['no spaces please'] }),
      /"no spaces please" is neither a host name nor an IP address/,
    );
  });

  it('certificates of another CA are not trusted', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'raftkv-certs-other-'));
    try {
      const foreign = await makeDevCertificates({ directory: other, certName: 'node', names: [] });
      assert.equal(await handshake({ ...foreign, ca: files.ca }, '127.0.0.1'), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
