/**
 * Certificates for TLS tests, made with openssl in a temp dir: a CA, a server certificate for
 * 127.0.0.1 and a client certificate signed by it, and a client certificate from another CA
 * (to be refused). `clientDir` is laid out as DOCKER_CERT_PATH expects (ca.pem, cert.pem, key.pem).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** ca.pem, cert.pem, key.pem: a DOCKER_CERT_PATH. */
  clientDir: string;
  /** A client certificate and key signed by a CA the server does not trust. */
  rogueCert: string;
  rogueKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

function makeLeaf(dir: string, ca: string, name: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial',
    '-days', '2', '-out', `${name}-cert.pem`, '-extfile', `${name}.ext`], dir);
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'hako-tls-'));
  makeCa(dir, 'ca');
  makeLeaf(dir, 'ca', 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  makeLeaf(dir, 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
  makeCa(dir, 'rogue-ca');
  makeLeaf(dir, 'rogue-ca', 'rogue', 'extendedKeyUsage=clientAuth\n');
  const clientDir = join(dir, 'client-dir');
  mkdirSync(clientDir);
  copyFileSync(join(dir, 'ca.pem'), join(clientDir, 'ca.pem'));
  copyFileSync(join(dir, 'client-cert.pem'), join(clientDir, 'cert.pem'));
  copyFileSync(join(dir, 'client-key.pem'), join(clientDir, 'key.pem'));
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server-cert.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client-cert.pem'),
    clientKey: join(dir, 'client-key.pem'),
    clientDir,
    rogueCert: join(dir, 'rogue-cert.pem'),
    rogueKey: join(dir, 'rogue-key.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
