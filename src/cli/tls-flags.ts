/**
 * The TLS flags: one set per server (--tls-cert, --tls-key, --tls-ca), used
 * on every port it serves (peer and client, RESP, HTTP) and for the
 * connections it opens to its peers; and the client commands' --tls-ca with
 * an optional client certificate. Files are read once, at start, and checked
 * (the key is the certificate's; a node's certificate is signed by the CA)
 * so that a mistake stops the command with a line that names the file,
 * rather than failing every handshake later.
 *
 * One set for every port, unlike etcd's separate peer and client sets: a
 * node's peers and its binary-protocol clients share one port, so that port
 * has one certificate anyway, and one set is one thing to get right.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Command, OptionValues } from '@commander-js/extra-typings';
import type { ClientTls, NodeTls } from '../transport/index.js';

export interface TlsFlags {
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
}

/** A TLS flag that cannot be used as given; the message names the flag and says what to do. */
export class TlsFlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsFlagError';
  }
}

export function withServerTlsFlags<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & TlsFlags> {
  return command
    .option('--tls-cert <file>', "TLS: this node's certificate (PEM), for every port and to its peers")
    .option('--tls-key <file>', "TLS: the certificate's private key (PEM)")
    .option(
      '--tls-ca <file>',
      "TLS: the cluster's CA certificate (PEM); peers must present a certificate it signed",
    ) as unknown as Command<Args, Opts & TlsFlags>;
}

export function withClientTlsFlags<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & TlsFlags> {
  return command
    .option('--tls-ca <file>', "connect with TLS, trusting the nodes' certificates this CA signed (PEM)")
    .option('--tls-cert <file>', 'with --tls-ca: a client certificate to present (PEM), if the nodes ask for one')
    .option('--tls-key <file>', 'its private key (PEM)') as unknown as Command<Args, Opts & TlsFlags>;
}

/** A server's TLS from its flags: all three, or none (plaintext); `warn` hears of doubts that are not errors. */
export function serverTlsFrom(flags: TlsFlags, warn: (line: string) => void): NodeTls | undefined {
  const { tlsCert, tlsKey, tlsCa } = flags;
  if (tlsCert === undefined && tlsKey === undefined && tlsCa === undefined) return undefined;
  if (tlsCert === undefined || tlsKey === undefined || tlsCa === undefined) {
    const missing = [tlsCert ?? '--tls-cert', tlsKey ?? '--tls-key', tlsCa ?? '--tls-ca'].filter((flag) =>
      flag.startsWith('--tls-'),
    );
    throw new TlsFlagError(
      `TLS needs --tls-cert, --tls-key and --tls-ca together; ${missing.join(' and ')} missing ` +
        '(raftkv certs makes a development set)',
    );
  }
  const tls = {
    cert: readPem('--tls-cert', tlsCert),
    key: readPem('--tls-key', tlsKey),
    ca: readPem('--tls-ca', tlsCa),
  };
  checkKeyPair(tls, tlsCert, tlsKey);
  const doubt = signedByProblem(tls, tlsCert, tlsCa);
  if (doubt !== null) warn(doubt);
  return tls;
}

/** A client's TLS from its flags: --tls-ca, with --tls-cert and --tls-key together or neither; none is plaintext. */
export function clientTlsFrom(flags: TlsFlags): ClientTls | undefined {
  const { tlsCert, tlsKey, tlsCa } = flags;
  if (tlsCa === undefined) {
    if (tlsCert !== undefined || tlsKey !== undefined) {
      throw new TlsFlagError("--tls-cert and --tls-key need --tls-ca: the CA that signed the nodes' certificates");
    }
    return undefined;
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new TlsFlagError('a client certificate needs both --tls-cert and --tls-key');
  }
  const ca = readPem('--tls-ca', tlsCa);
  if (tlsCert === undefined || tlsKey === undefined) return { ca };
  const tls = { ca, cert: readPem('--tls-cert', tlsCert), key: readPem('--tls-key', tlsKey) };
  checkKeyPair(tls, tlsCert, tlsKey);
  return tls;
}

function readPem(flag: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TlsFlagError(
      `${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  if (!text.includes('-----BEGIN ')) throw new TlsFlagError(`${flag} ${file}: not a PEM file (no -----BEGIN line)`);
  return text;
}

function checkKeyPair(tls: { cert: string; key: string; ca: string }, certFile: string, keyFile: string): void {
  try {
    createSecureContext({ cert: tls.cert, key: tls.key, ca: tls.ca });
  } catch (error) {
    throw new TlsFlagError(
      `--tls-cert ${certFile} with --tls-key ${keyFile}: ${(error as Error).message} ` +
        "(is the key the certificate's, and are both PEM?)",
    );
  }
}

/**
 * A node whose own certificate its CA did not sign is refused by every peer
 * that uses the same CA: worth a warning at start. Not an error, since the
 * certificate file may carry an intermediate that links the two.
 */
function signedByProblem(tls: NodeTls, certFile: string, caFile: string): string | null {
  try {
    const cert = new X509Certificate(tls.cert);
    const ca = new X509Certificate(tls.ca);
    if (cert.checkIssued(ca) && cert.verify(ca.publicKey)) return null;
  } catch (error) {
    return `cannot check that --tls-cert ${certFile} is signed by --tls-ca ${caFile}: ${(error as Error).message}`;
  }
  return (
    `--tls-cert ${certFile} is not signed by --tls-ca ${caFile}: peers that trust that CA will refuse this node ` +
    'unless the certificate file carries an intermediate that links them'
  );
}

/** serverTlsFrom for a command's action: a bad flag is a one-line usage error (exit 1), a doubt a warning on stderr. */
export function serverTlsOrExit(command: Command, flags: TlsFlags, name: string): NodeTls | undefined {
  return orExit(command, () =>
    serverTlsFrom(flags, (line) => void process.stderr.write(`${name}: warning: ${line}\n`)),
  );
}

/** clientTlsFrom for a command's action: a bad flag is a one-line usage error (exit 1). */
export function clientTlsOrExit(command: Command, flags: TlsFlags): ClientTls | undefined {
  return orExit(command, () => clientTlsFrom(flags));
}

function orExit<T>(command: Command, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TlsFlagError) return command.error(`error: ${error.message}`);
    throw error;
  }
}
