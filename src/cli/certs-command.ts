/** `raftkv certs`: a development CA and a node certificate signed by it, for trying TLS (see the README's TLS section). */
import type { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { makeDevCertificates, NODE_VALID_DAYS_DEFAULT } from '../certs/dev-certs.js';
import { integerOption } from './options.js';

const DIRECTORY_DEFAULT = '.raftkv-data/tls';

function collectNames(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').filter((name) => name !== '');
  if (names.length === 0) throw new InvalidArgumentError(`--name takes host names or IP addresses, got "${value}"`);
  return [...(previous ?? []), ...names];
}

export function addCertsCommand(program: Command): void {
  program
    .command('certs')
    .description('make a development CA and a node certificate for TLS (not for production: the CA key sits beside it)')
    .option(
      '--dir <path>',
      'where the files go; a CA already there is kept and signs the new certificate',
      DIRECTORY_DEFAULT,
    )
    .option(
      '--name <names>',
      'more host names or IP addresses the certificate is valid for, besides localhost, 127.0.0.1 and ::1 (repeat or comma-separate)',
      collectNames,
    )
    .option('--cert-name <name>', 'the certificate file: NAME.pem and NAME-key.pem', 'node')
    .option(
      '--days <n>',
      `how long the certificate is valid (default ${NODE_VALID_DAYS_DEFAULT})`,
      integerOption('--days', 1, 36500),
    )
    .option('--force', 'replace NAME.pem and NAME-key.pem if they exist')
    .addHelpText(
      'after',
      `
Examples:
  raftkv certs                                    ${DIRECTORY_DEFAULT}/ca.pem, node.pem, node-key.pem
  raftkv certs --dir certs --name db1.example.com,10.0.0.5
  raftkv certs --dir certs --cert-name node-2 --name db2.example.com    a second node, same CA
Then start every node with:
  --tls-cert ${DIRECTORY_DEFAULT}/node.pem --tls-key ${DIRECTORY_DEFAULT}/node-key.pem --tls-ca ${DIRECTORY_DEFAULT}/ca.pem
and connect with:
  raftkv get greeting --meta ... --tls-ca ${DIRECTORY_DEFAULT}/ca.pem
  redis-cli --tls --cacert ${DIRECTORY_DEFAULT}/ca.pem -p 7220
  curl --cacert ${DIRECTORY_DEFAULT}/ca.pem https://127.0.0.1:7110/v1/health`,
    )
    .action(async (options) => {
      try {
        const files = await makeDevCertificates({
          directory: options.dir,
          certName: options.certName,
          names: options.name ?? [],
          ...(options.days === undefined ? {} : { validDays: options.days }),
          overwrite: options.force === true,
        });
        const lines = [
          `${files.caCreated ? 'made a new CA' : 'kept the CA'}: ${files.ca} (its key: ${files.caKey}, keep it private)`,
          `node certificate: ${files.cert}, key ${files.key}`,
          `valid for: ${files.subjectAltNames.join(', ')}`,
          `nodes: --tls-cert ${files.cert} --tls-key ${files.key} --tls-ca ${files.ca}`,
          `clients: --tls-ca ${files.ca} (redis-cli --tls --cacert ${files.ca}, curl --cacert ${files.ca})`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (error) {
        process.stderr.write(`raftkv certs: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      }
    });
}
