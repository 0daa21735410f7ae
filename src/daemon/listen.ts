/**
 * The daemon's listening sockets: a unix socket's directory is created, a stale socket left by a
 * crash is removed (only when nothing answers on it), and the socket is chowned root:root 0660,
 * as dockerd does with its docker group. tcp:// hosts are supported for local tooling.
 */
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Conflict, InvalidArgument } from '../errdefs/index.js';
import { parseHost, type HostAddress } from './config.js';

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

export async function listenOn(server: Server, host: string): Promise<Listener> {
  const address = parseHost(host);
  if (address.kind === 'tcp') {
    await listen(server, { host: address.host, port: address.port });
    return { address, cleanup: async () => {} };
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

function listen(server: Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
