/**
 * A development certificate authority and node certificates in a directory,
 * as `raftkv certs` and `raftkv local --tls` make them:
 *
 *   ca.pem        the CA certificate: every node and client trusts it (--tls-ca)
 *   ca-key.pem    the CA's private key: only needed to make more certificates
 *   NAME.pem      a node certificate (--tls-cert), signed by the CA
 *   NAME-key.pem  its private key (--tls-key)
 *
 * A directory that holds a CA already keeps it, so that certificates made
 * later (another node, a new name) are trusted by the nodes running now.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createPrivateKey } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileExists, readFileIfExists } from '../storage/atomic-file.js';
import type { DistinguishedName } from './x509.js';
import { issueCertificate, toPem } from './x509.js';

/** Every node certificate names these, so that a cluster on one machine works without any --name. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'] as const;
export const CA_VALID_DAYS_DEFAULT = 3650;
export const NODE_VALID_DAYS_DEFAULT = 825;
const ORGANIZATION = 'raftkv development';

export interface DevCertificateOptions {
  readonly directory: string;
  /** The certificate's file name without .pem: `node` makes node.pem and node-key.pem. */
  readonly certName: string;
  /** More host names and IP addresses the certificate is valid for, besides LOOPBACK_NAMES. */
  readonly names: readonly string[];
  readonly validDays?: number;
  /** Replace NAME.pem when it exists; otherwise that is an error. */
  readonly overwrite?: boolean;
}

export interface DevCertificateFiles {
  readonly ca: string;
  readonly caKey: string;
  readonly cert: string;
  readonly key: string;
  /** False when the directory's CA was used. */
  readonly caCreated: boolean;
  /** What the node certificate is valid for. */
  readonly subjectAltNames: readonly string[];
}

interface Authority {
  readonly name: DistinguishedName;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export async function makeDevCertificates(options: DevCertificateOptions): Promise<DevCertificateFiles> {
  if (!/^[A-Za-z0-9_.-]+$/.test(options.certName) || options.certName === 'ca') {
    throw new Error(`a certificate name is letters, digits, "_", "." and "-", and not "ca"; got "${options.certName}"`);
  }
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const files = {
    ca: path.join(options.directory, 'ca.pem'),
    caKey: path.join(options.directory, 'ca-key.pem'),
    cert: path.join(options.directory, `${options.certName}.pem`),
    key: path.join(options.directory, `${options.certName}-key.pem`),
  };
  if (options.overwrite !== true && (await fileExists(files.cert))) {
    throw new Error(`${files.cert} exists already: choose another name, or replace it with --force`);
  }
  const existing = await readAuthority(files.ca, files.caKey);
  const authority = existing ?? (await createAuthority(files.ca, files.caKey));
  const subjectAltNames = [...new Set([...LOOPBACK_NAMES, ...options.names])];
  const { privateKey, publicKey } = newKeyPair();
  const der = issueCertificate({
    subject: { organization: ORGANIZATION, commonName: options.certName },
    publicKey,
    issuer: authority,
    kind: 'leaf',
    subjectAltNames,
    validDays: options.validDays ?? NODE_VALID_DAYS_DEFAULT,
  });
  await writeKey(files.key, privateKey);
  await writeFile(files.cert, toPem(der, 'CERTIFICATE'));
  return { ...files, caCreated: existing === null, subjectAltNames };
}

function newKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

async function createAuthority(certFile: string, keyFile: string): Promise<Authority> {
  const name = { organization: ORGANIZATION, commonName: 'raftkv development CA' };
  const { privateKey, publicKey } = newKeyPair();
  const der = issueCertificate({
    subject: name,
    publicKey,
    issuer: { name, privateKey, publicKey },
    kind: 'ca',
    validDays: CA_VALID_DAYS_DEFAULT,
  });
  await writeKey(keyFile, privateKey);
  await writeFile(certFile, toPem(der, 'CERTIFICATE'));
  return { name, privateKey, publicKey };
}

/** The CA in the directory, or null when there is none; half a CA (one file of two) is an error. */
async function readAuthority(certFile: string, keyFile: string): Promise<Authority | null> {
  const [certPem, keyPem] = await Promise.all([readFileIfExists(certFile), readFileIfExists(keyFile)]);
  if (certPem === null && keyPem === null) return null;
  if (certPem === null || keyPem === null) {
    throw new Error(
      `${certPem === null ? certFile : keyFile} is missing but ${certPem === null ? keyFile : certFile} exists: ` +
        'restore it, or remove both to make a new CA (certificates it signed will no longer be trusted)',
    );
  }
  const certificate = new X509Certificate(certPem);
  const privateKey = createPrivateKey(keyPem);
  if (!certificate.checkPrivateKey(privateKey)) throw new Error(`${keyFile} is not the key of ${certFile}`);
  if (!certificate.ca) throw new Error(`${certFile} is not a CA certificate`);
  return { name: caNameOf(certificate), privateKey, publicKey: certificate.publicKey };
}

/** The CA's subject as issueCertificate writes it, so that its certificates name their issuer exactly. */
function caNameOf(certificate: X509Certificate): DistinguishedName {
  const fields = new Map(
    certificate.subject
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const commonName = fields.get('CN');
  if (commonName === undefined) throw new Error('the CA certificate has no common name: make it with raftkv certs');
  const organization = fields.get('O');
  return organization === undefined ? { commonName } : { commonName, organization };
}

async function writeKey(file: string, key: KeyObject): Promise<void> {
  // Private keys are for this user only, as ssh and TLS servers expect.
  await writeFile(file, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}
