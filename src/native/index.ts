/**
 * native: the few system calls Node 20 does not expose, from the N-API addon in /native
 * (compiled at `npm install` by node-gyp). Everything else goes through Node's own APIs.
 *
 * - xattrs and mknod: layer apply (overlay whiteouts are char 0/0 devices, opaque dirs carry
 *   `trusted.overlay.opaque`), tar entries with xattrs and device nodes.
 * - mount/umount2: overlay rootfs without spawning mount(8) on the `run` hot path.
 * - SOCK_SEQPACKET connect: conmon's attach socket.
 * - SCM_RIGHTS receive: runc's --console-socket hands over the pty master for `exec -t`.
 *
 * All functions throw an Error with `code` set to the errno name (e.g. 'ENOENT') on failure.
 */
import { createRequire } from 'node:module';

export interface NativeAddon {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** null when the attribute is absent (ENODATA). */
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount2(target: string, flags: number): void;
  /** Connects a SOCK_SEQPACKET unix socket; returns the fd (non-blocking, close-on-exec). */
  seqpacketConnect(path: string): number;
  /**
   * Listens on a new unix stream socket at `path`, accepts one connection, receives one fd
   * passed with SCM_RIGHTS, closes the listener, and resolves with the fd. Runs off the main
   * thread; rejects after `timeoutMs`.
   */
  receiveFd(path: string, timeoutMs: number): Promise<number>;
}

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MNT_DETACH = 2;

let loaded: NativeAddon | undefined;

/** Loads the addon on first use, so commands that never need it never pay for it. */
export function native(): NativeAddon {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    loaded = require('../../../native/build/Release/hako_native.node') as NativeAddon;
  }
  return loaded;
}
