/**
 * TLS settings of raftkv's sockets, and the words for what goes wrong with
 * them. A node has one certificate, signed by its cluster's CA, for every
 * port it serves and for the connections it opens to its peers; a client
 * needs only the CA, to know it talks to a node of its cluster.
 */
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { ConnectionOptions, SecureContextOptions } from 'node:tls';

/** PEM text or bytes, as read from the files. */
export type Pem = string | Buffer;

export interface NodeTls {
  /** This node's certificate (and any intermediates), presented on every port and to peers. */
  readonly cert: Pem;
  readonly key: Pem;
  /** The cluster's CA: peers' certificates must be signed by it. */
  readonly ca: Pem;
}

export interface ClientTls {
  /** The CA that signed the nodes' certificates. */
  readonly ca: Pem;
  /** A certificate to present, for servers that ask for one; nodes do not require it of clients. */
  readonly cert?: Pem;
  readonly key?: Pem;
}

/** TLS 1.2 is the oldest version without known breaks that redis-cli and browsers still speak. */
export const TLS_VERSION_MIN = 'TLSv1.2';

/** For a server: its certificate, and the CA it checks presented certificates against. */
export function serverContextOptions(tls: NodeTls): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: TLS_VERSION_MIN };
}

/** For tls.connect to host: the server's certificate must be signed by the CA and name the host. */
export function clientConnectOptions(tls: ClientTls, host: string): ConnectionOptions {
  return {
    ca: tls.ca,
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    // SNI takes names only; for an address the certificate is checked against its IP SANs.
    ...(isIP(host) === 0 ? { servername: host } : {}),
    minVersion: TLS_VERSION_MIN,
    rejectUnauthorized: true,
  };
}

/** OpenSSL's and Node's codes for a certificate that does not verify (chain, name or dates). */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when a connection failed because the other side's certificate is not one this side trusts. */
export function isUntrustedCertificate(error: NodeJS.ErrnoException | null): boolean {
  return error !== null && error.code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(error.code);
}

/**
 * What a failed TLS connection means for the person reading it, or null
 * when the error is not about TLS (a refused port, a reset).
 */
export function tlsFailureHint(error: NodeJS.ErrnoException): string | null {
  if (isUntrustedCertificate(error)) {
    return `its certificate is not trusted (${error.code}: ${error.message}): is it signed by the CA given with --tls-ca, and does it name the host connected to?`;
  }
  if (error.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || error.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return 'it does not speak TLS: was it started without --tls-cert? Connect without TLS, or restart it with TLS';
  }
  if (error.code?.startsWith('ERR_SSL_') === true) {
    return `the TLS handshake failed (${error.message}): the server may require a client certificate (--tls-cert, --tls-key)`;
  }
  return null;
}

/**
 * Why a connection's certificate does not make it a member of this cluster,
 * or null when it does: it must be signed by the cluster's CA. A plaintext
 * socket has no certificate at all.
 */
export function certificateProblem(socket: Socket): string | null {
  if (!(socket instanceof TLSSocket)) return 'it came without TLS';
  if (socket.authorized) return null;
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  if (!presented) return 'it presented no certificate';
  return `its certificate is not signed by this cluster's CA (${String(socket.authorizationError)})`;
}
