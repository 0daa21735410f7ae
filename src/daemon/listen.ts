/**
 * The daemon's listening sockets: a unix socket's directory is created, a stale socket left by a
 * crash is removed (only when nothing answers on it), and the socket is chowned root:root 0660,
 * as dockerd does with its docker group. tcp:// hosts speak plain HTTP, or HTTP over TLS with
 * --tls/--tlsverify (loadServerTls): the TLS server hands each verified connection to the same
 * HTTP server, so hijacked attach/exec upgrades work over TLS as over a unix socket.
 */
import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { Conflict, InvalidArgument } from '../errdefs/index.js';
import { parseHost, type DaemonTls, type HostAddress } from './config.js';

/** The certificates a TLS listener serves with, read from the configured files. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  verify: boolean;
}

/** Reads the TLS files (null when TLS is off); a missing or unreadable one names its flag. */
export async function loadServerTls(config: DaemonTls): Promise<ServerTls | null> {
  if (!config.enabled) return null;
  const read = async (file: string, what: string, flag: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new InvalidArgument(`could not read the TLS ${what} ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message} (name it with ${flag} or in daemon.json "${flag.slice(2)}")`);
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(config.certFile, 'certificate', '--tlscert'),
    read(config.keyFile, 'key', '--tlskey'),
    // Without --tlsverify the CA is optional, as dockerd's.
    config.verify ? read(config.caFile, 'CA certificate', '--tlscacert') : readFile(config.caFile).catch(() => undefined),
  ]);
  return { cert, key, ca, verify: config.verify };
}

/**
 * dockerd's warning for a tcp listener anyone on the network can drive (no TLS client
 * verification), or undefined when `host` is a unix socket or verified.
 */
export function insecureHostWarning(host: string, tlsConfig: ServerTls | null): string | undefined {
  if (parseHost(host).kind !== 'tcp' || tlsConfig?.verify) return undefined;
  return `Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network. ` +
    `${host} ${tlsConfig ? 'speaks TLS but accepts any client' : 'is plain HTTP without encryption'}: ` +
    'start hakod with --tlsverify --tlscacert CA --tlscert CERT --tlskey KEY, or listen on a unix socket only.';
}

/** Refuses when another daemon answers on `socketPath`; removes a dead socket file. */
export async function clearStaleSocket(socketPath: string): Promise<void> {
  let stat;
  try {
    stat = await lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stat.isSocket()) throw new InvalidArgument(`${socketPath} exists and is not a socket: move it away or choose another -H`);
  if (await answers(socketPath)) {
    throw new Conflict(`another daemon is already listening on ${socketPath}: stop it first, or give this one another socket with -H unix:///path`);
  }
  await unlink(socketPath);
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    const done = (alive: boolean) => {
      probe.destroy();
      resolve(alive);
    };
    probe.setTimeout(1000, () => done(true)); // accepted but silent: someone is there
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false)); // ECONNREFUSED: the owner is gone
  });
}

export interface Listener {
  address: HostAddress;
  /** Removes the socket file (unix). */
  cleanup(): Promise<void>;
}

export interface ListenOptions {
  /** TLS for a tcp host; unix sockets never use it. */
  tls?: ServerTls | null;
  /** A TLS handshake that failed (no or a wrong client certificate): for the log. */
  onTlsError?: (err: Error, remote: string) => void;
}

export async function listenOn(server: Server, host: string, opts: ListenOptions = {}): Promise<Listener> {
  const address = parseHost(host);
  if (address.kind === 'tcp' && opts.tls) {
    const { createServer } = process.getBuiltinModule('node:tls');
    const tlsServer: tls.Server = createServer({
      cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca,
      requestCert: opts.tls.verify, rejectUnauthorized: opts.tls.verify,
      // A hijacked exec/attach half-closes stdin and still reads the output (as over the unix socket).
      allowHalfOpen: true,
    });
    tlsServer.on('secureConnection', (socket) => server.emit('connection', socket));
    tlsServer.on('tlsClientError', (err, socket) => {
      // OpenSSL's "…:SSL routines:fn:reason:file:line:" -> "reason".
      let reason = /error:[0-9A-Fa-f]+:SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message.trim();
      if (reason === 'http request') reason = 'the client spoke plain HTTP to this TLS port (it needs --tlsverify or DOCKER_TLS_VERIFY=1)';
      opts.onTlsError?.(new Error(reason, { cause: err }), socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'a client');
    });
    await listen(tlsServer, { host: address.host, port: address.port });
    return { address, cleanup: () => new Promise<void>((resolve) => tlsServer.close(() => resolve())) };
  }
  if (address.kind === 'tcp') {
    // A server of its own, handing connections to the API server: an http.Server listens once,
    // and the unix socket may already be its listener.
    const tcpServer = net.createServer({ allowHalfOpen: true }, (socket) => server.emit('connection', socket));
    await listen(tcpServer, { host: address.host, port: address.port });
    return { address, cleanup: () => new Promise<void>((resolve) => tcpServer.close(() => resolve())) };
  }
  await mkdir(path.dirname(address.path), { recursive: true, mode: 0o755 });
  await clearStaleSocket(address.path);
  await listen(server, { path: address.path });
  await chmod(address.path, 0o660);
  if (process.getuid?.() === 0) await chown(address.path, 0, 0);
  return {
    address,
    cleanup: () => unlink(address.path).catch(() => {}),
  };
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
