/**
 * TLS of a `raftkv local` cluster: the first run with --tls makes a
 * development CA and one node certificate in DIR/tls, and every node uses
 * them on all its ports. A directory that holds them stays a TLS cluster on
 * later runs, with or without --tls, so that resuming never half-switches.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeDevCertificates } from '../certs/dev-certs.js';
import { fileExists } from '../storage/atomic-file.js';
import type { ClientTls } from '../transport/index.js';

export interface LocalTlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

const TLS_DIRECTORY = 'tls';
const CERT_NAME = 'node';

/** The cluster's TLS files, made now if asked for and missing; null for a plaintext cluster. */
export async function localTls(directory: string, requested: boolean, host: string): Promise<LocalTlsFiles | null> {
  const tlsDirectory = path.join(directory, TLS_DIRECTORY);
  const files = {
    ca: path.join(tlsDirectory, 'ca.pem'),
    cert: path.join(tlsDirectory, `${CERT_NAME}.pem`),
    key: path.join(tlsDirectory, `${CERT_NAME}-key.pem`),
  };
  if (await fileExists(files.cert)) return files;
  if (!requested) return null;
  await makeDevCertificates({ directory: tlsDirectory, certName: CERT_NAME, names: [host] });
  return files;
}

/** The node flags that turn TLS on. */
export function tlsFlags(files: LocalTlsFiles): string[] {
  return ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', files.ca];
}

/** What the supervisor's own client (the join, the readiness probe) connects with. */
export async function clientTls(files: LocalTlsFiles): Promise<ClientTls> {
  return { ca: await readFile(files.ca, 'utf8') };
}
