/**
 * Remote daemons, as the docker CLI reaches them: a host is `unix:///path` (or a bare `/path`),
 * `tcp://HOST[:PORT]` (or a bare `HOST:PORT`); TLS settings come from --tls/--tlsverify/
 * --tlscacert/--tlscert/--tlskey and DOCKER_TLS, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
 * (docker/cli cli/flags/options.go). Certificates are read here, once, when TLS is on; a unix
 * host never loads any of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Docker's conventional ports: plain HTTP, and HTTP over TLS. */
export const DEFAULT_TCP_PORT = 2375;
export const DEFAULT_TLS_PORT = 2376;

/** What the client speaks TLS with; `verify` false = any server certificate is accepted (docker's --tls alone). */
export interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  verify: boolean;
}

export type ClientHost =
  | { kind: 'unix'; path: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

/** A host string that cannot be used; the message names it and the accepted forms. */
export class InvalidHost extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHost';
  }
}

/**
 * Decodes a client host as docker's opts.ParseHost does (`http://`/`https://` are refused, as
 * the docker CLI refuses them). A tcp host without a port gets 2375, or 2376 with TLS.
 */
export function parseClientHost(raw: string, tls = false): ClientHost {
  if (raw.startsWith('/')) return { kind: 'unix', path: raw, url: `unix://${raw}` };
  const sep = raw.indexOf('://');
  const proto = sep < 0 ? 'tcp' : raw.slice(0, sep);
  const rest = sep < 0 ? raw : raw.slice(sep + 3);
  if (proto === 'unix') {
    if (!rest.startsWith('/')) throw new InvalidHost(`invalid host ${JSON.stringify(raw)}: a unix socket needs an absolute path, as in unix:///run/hako/hako.sock`);
    return { kind: 'unix', path: rest, url: raw };
  }
  if (proto !== 'tcp') {
    throw new InvalidHost(`unable to resolve hako endpoint: invalid bind address format: ${raw} (use tcp://HOST:PORT, with --tls or --tlsverify for TLS, or unix:///path)`);
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/\s[\]]*)(?::(\d*))?\/?$/.exec(rest);
  const port = m?.[2] ? Number(m[2]) : tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT;
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidHost(`unable to resolve hako endpoint: invalid tcp address ${JSON.stringify(raw)}: expected tcp://HOST:PORT, as in tcp://127.0.0.1:${tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT}`);
  }
  const host = m[1] === '' ? 'localhost' : m[1]!.replace(/^\[|\]$/g, '');
  return { kind: 'tcp', host, port, url: `tcp://${host.includes(':') ? `[${host}]` : host}:${port}` };
}

/** The TLS part of the global flags; undefined = not given on the command line. */
export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

/** The docker CLI's certificate directory: DOCKER_CERT_PATH, else the config directory (~/.docker). */
export function certDirOf(env: NodeJS.ProcessEnv, configDir?: string): string {
  // node:os only when it comes to that: this module is on every CLI run's path (transport.ts).
  return env['DOCKER_CERT_PATH'] || configDir || env['DOCKER_CONFIG'] || join(process.getBuiltinModule('node:os').homedir(), '.docker');
}

/**
 * The client's TLS settings, or undefined when TLS is off. As the docker CLI: --tlsverify (given
 * at all) or DOCKER_TLS_VERIFY implies TLS; --tls or DOCKER_TLS turn it on without verifying the
 * server. When verifying, the CA defaults to <cert dir>/ca.pem and must exist; cert.pem and key.pem are used when
 * present at their default places, and must exist when named.
 */
export function resolveClientTls(flags: TlsFlags, env: NodeJS.ProcessEnv, configDir?: string): ClientTls | undefined {
  const verify = flags.tlsverify ?? (env['DOCKER_TLS_VERIFY'] ?? '') !== '';
  const enabled = flags.tls === true || flags.tlsverify !== undefined || verify || (flags.tls === undefined && (env['DOCKER_TLS'] ?? '') !== '');
  if (!enabled) return undefined;
  const dir = certDirOf(env, configDir);
  // As go-connections' tlsconfig.Client: the CA is read only to verify the server (--tls alone needs none).
  const ca = verify ? readPem(flags.tlscacert ?? join(dir, 'ca.pem'), 'CA certificate', true, '--tlscacert or DOCKER_CERT_PATH') : undefined;
  const certFile = flags.tlscert ?? join(dir, 'cert.pem');
  const keyFile = flags.tlskey ?? join(dir, 'key.pem');
  const cert = readPem(certFile, 'client certificate', flags.tlscert !== undefined, '--tlscert');
  const key = readPem(keyFile, 'client key', flags.tlskey !== undefined, '--tlskey');
  if ((cert === undefined) !== (key === undefined)) {
    throw new InvalidHost(`unable to resolve hako endpoint: a client certificate needs its key and the key its certificate: found ${cert ? certFile : keyFile} but not ${cert ? keyFile : certFile}`);
  }
  checkPems(ca && { pem: ca, file: flags.tlscacert ?? join(dir, 'ca.pem') }, cert && key ? { cert, certFile, key, keyFile } : undefined);
  return { ca, cert, key, verify };
}

/**
 * Files that are not what they should be fail here, naming the file: Node would otherwise ignore
 * a CA without certificates (every server then refused as untrusted) and report a bad client
 * certificate or key as OpenSSL's bare "PEM routines::no start line" at the first request.
 * node:crypto is loaded only here, with TLS on.
 */
function checkPems(ca: { pem: Buffer; file: string } | undefined, pair: { cert: Buffer; certFile: string; key: Buffer; keyFile: string } | undefined): void {
  const crypto = process.getBuiltinModule('node:crypto');
  const parse = <T>(file: string, what: string, flag: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new InvalidHost(`unable to resolve hako endpoint: ${file} is not a PEM ${what}: ${(e as Error).message} (name it with ${flag})`);
    }
  };
  if (ca) parse(ca.file, 'CA certificate', '--tlscacert or DOCKER_CERT_PATH', () => new crypto.X509Certificate(ca.pem));
  if (!pair) return;
  const cert = parse(pair.certFile, 'certificate', '--tlscert', () => new crypto.X509Certificate(pair.cert));
  const key = parse(pair.keyFile, 'private key', '--tlskey', () => crypto.createPrivateKey(pair.key));
  if (!cert.checkPrivateKey(key)) {
    throw new InvalidHost(`unable to resolve hako endpoint: the client key ${pair.keyFile} is not the key of the certificate ${pair.certFile}`);
  }
}

function readPem(file: string, what: string, required: boolean, flag: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!required && err.code === 'ENOENT') return undefined;
    const why = err.code === 'ENOENT' ? 'no such file or directory' : err.message;
    throw new InvalidHost(`unable to resolve hako endpoint: cannot read the ${what} ${file}: ${why} (name it with ${flag})`);
  }
}
