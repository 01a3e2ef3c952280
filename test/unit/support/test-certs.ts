/**
 * Certificates for TLS tests, made by raftkv's own certificate maker in a
 * temporary directory: the cluster's CA with a node certificate, and a
 * second, unrelated CA with one of its own (an intruder's).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeDevCertificates } from '../../../src/certs/dev-certs.js';
import type { DevCertificateFiles } from '../../../src/certs/dev-certs.js';
import type { NodeTls } from '../../../src/transport/tls.js';

export interface TestPki {
  readonly directory: string;
  /** A node of the cluster: its certificate, key and the cluster CA. */
  readonly node: NodeTls;
  readonly nodeFiles: DevCertificateFiles;
  /** A certificate and key signed by another CA, with that CA. */
  readonly rogue: NodeTls;
  readonly rogueFiles: DevCertificateFiles;
  remove(): Promise<void>;
}

export async function makeTestPki(): Promise<TestPki> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'raftkv-tls-'));
  const nodeFiles = await makeDevCertificates({
    directory: path.join(directory, 'cluster'),
    certName: 'node',
    names: [],
  });
  const rogueFiles = await makeDevCertificates({
    directory: path.join(directory, 'rogue'),
    certName: 'node',
    names: [],
  });
  return {
    directory,
    node: await readTls(nodeFiles),
    nodeFiles,
    rogue: await readTls(rogueFiles),
    rogueFiles,
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

async function readTls(files: DevCertificateFiles): Promise<NodeTls> {
  const [cert, key, ca] = await Promise.all([files.cert, files.key, files.ca].map((file) => readFile(file, 'utf8')));
  return { cert: cert!, key: key!, ca: ca! };
}
