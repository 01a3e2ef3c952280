/**
 * Issues X.509 v3 certificates (RFC 5280) signed with ECDSA P-256 and
 * SHA-256: a CA that signs, and leaf certificates for nodes that serve TLS
 * and present themselves to their peers. Keys and signatures come from
 * node:crypto; only the certificate's structure is encoded here (der.ts).
 *
 * Why not the openssl CLI or an npm library: openssl would be a program every
 * machine running `raftkv local --tls` must have, in a version whose flags
 * agree (LibreSSL on macOS differs); an npm library (node-forge,
 * @peculiar/x509 with its dependencies) is more code to trust than the
 * handful of fields a development certificate needs. Node's own TLS and
 * X509Certificate check the result in the tests.
 */
import { createHash, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  booleanTrue,
  explicit,
  flagBits,
  implicitPrimitive,
  integer,
  octetString,
  oid,
  sequence,
  set,
  time,
  utf8String,
} from './der.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** keyUsage bits (RFC 5280 4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;
/** Clocks of machines differ: a certificate made now is valid from a little before now. */
const NOT_BEFORE_SLACK_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface DistinguishedName {
  readonly commonName: string;
  readonly organization?: string;
}

export interface CertificateRequest {
  readonly subject: DistinguishedName;
  /** The public key the certificate vouches for. */
  readonly publicKey: KeyObject;
  readonly issuer: { readonly name: DistinguishedName; readonly privateKey: KeyObject; readonly publicKey: KeyObject };
  /** A CA signs other certificates; a leaf serves TLS and presents itself as a client. */
  readonly kind: 'ca' | 'leaf';
  /** Host names and IP addresses (leaf only). */
  readonly subjectAltNames?: readonly string[];
  readonly validDays: number;
  /** Defaults to now. */
  readonly now?: Date;
}

/** The certificate as DER bytes; `toPem` makes the file form. */
export function issueCertificate(request: CertificateRequest): Buffer {
  if (!Number.isInteger(request.validDays) || request.validDays < 1) {
    throw new RangeError(`a certificate must be valid for at least one whole day, got ${request.validDays}`);
  }
  for (const key of [request.publicKey, request.issuer.publicKey]) {
    // keyIdentifier and the signature algorithm assume P-256.
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('certificates here use P-256 keys only');
  }
  const now = request.now ?? new Date();
  const signatureAlgorithm = sequence(oid(OID.ecdsaWithSha256));
  const subjectPublicKeyInfo = request.publicKey.export({ type: 'spki', format: 'der' });
  const tbsCertificate = sequence(
    explicit(0, integer(2)), // v3: extensions follow
    integer(serialNumber()),
    signatureAlgorithm,
    name(request.issuer.name),
    sequence(
      time(new Date(now.getTime() - NOT_BEFORE_SLACK_MS)),
      time(new Date(now.getTime() + request.validDays * DAY_MS)),
    ),
    name(request.subject),
    subjectPublicKeyInfo,
    explicit(3, sequence(...extensions(request))),
  );
  const signature = sign('sha256', tbsCertificate, { key: request.issuer.privateKey, dsaEncoding: 'der' });
  return sequence(tbsCertificate, signatureAlgorithm, bitString(signature));
}

export function toPem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** 16 random bytes, positive and with a non-zero first byte, as RFC 5280 asks (at most 20 bytes, unpredictable). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

function name(dn: DistinguishedName): Buffer {
  const parts = [
    ...(dn.organization === undefined ? [] : [set(sequence(oid(OID.organization), utf8String(dn.organization)))]),
    set(sequence(oid(OID.commonName), utf8String(dn.commonName))),
  ];
  return sequence(...parts);
}

function extensions(request: CertificateRequest): Buffer[] {
  const isCa = request.kind === 'ca';
  const list = [
    extension(OID.basicConstraints, true, isCa ? sequence(booleanTrue(), integer(0)) : sequence()),
    extension(
      OID.keyUsage,
      true,
      isCa ? flagBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]) : flagBits([KEY_USAGE.digitalSignature]),
    ),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(request.publicKey))),
    extension(
      OID.authorityKeyIdentifier,
      false,
      sequence(implicitPrimitive(0, keyIdentifier(request.issuer.publicKey))),
    ),
  ];
  if (!isCa) {
    // Nodes serve TLS and connect to their peers presenting the same certificate.
    list.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))));
    const names = request.subjectAltNames ?? [];
    if (names.length > 0) list.push(extension(OID.subjectAltName, false, sequence(...names.map(generalName))));
  }
  return list;
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [booleanTrue()] : []), octetString(value));
}

/** SHA-1 of the public key's bits (RFC 5280 4.2.1.2, method 1): how a verifier matches a certificate to its issuer. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For an EC key the SPKI ends with the key bits; the algorithm part before it has a fixed length per curve.
  const bits = spki.subarray(spki.length - 65);
  return createHash('sha1').update(bits).digest();
}

/** A SAN entry: iPAddress [7] for an IPv4 or IPv6 address, dNSName [2] for anything else. */
function generalName(nameOrAddress: string): Buffer {
  const family = isIP(nameOrAddress);
  if (family === 4) return implicitPrimitive(7, Buffer.from(nameOrAddress.split('.').map(Number)));
  if (family === 6) return implicitPrimitive(7, ipv6Bytes(nameOrAddress));
  if (!/^[A-Za-z0-9*]([A-Za-z0-9.*-]*[A-Za-z0-9])?$/.test(nameOrAddress)) {
    throw new RangeError(`"${nameOrAddress}" is neither a host name nor an IP address`);
  }
  return implicitPrimitive(2, Buffer.from(nameOrAddress, 'ascii'));
}

function ipv6Bytes(address: string): Buffer {
  if (address.includes('.')) throw new RangeError(`"${address}": write an IPv4 address without the IPv6 prefix`);
  const [head = '', tail] = address.split('::');
  const groups = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}
