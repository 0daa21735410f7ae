/**
 * native: the few system calls Node 20 does not expose, from the N-API addon in /native
 * (compiled at `npm install` by node-gyp). Everything else goes through Node's own APIs.
 *
 * - xattrs and mknod: layer apply (overlay whiteouts are char 0/0 devices, opaque dirs carry
 *   `trusted.overlay.opaque`), tar entries with xattrs and device nodes.
 * - mount/umount2: overlay rootfs without spawning mount(8) on the `run` hot path.
 * - newNetns: a container's network namespace without spawning unshare(1), same reason.
 * - idmapMount: idmapped lower layers for userns-remap (no chowned copies of the layers).
 * - SOCK_SEQPACKET connect and I/O: conmon's attach socket. libuv cannot carry a SEQPACKET fd
 *   (net.Socket rejects it as an UNKNOWN handle), so `SeqpacketSocket` reads it with the addon.
 * - netlinkOpen/netlinkTalk: rtnetlink in a container's network namespace (veth, addresses,
 *   routes) without spawning ip(8) on the `run` hot path; messages are built in network/netlink.ts.
 * - nftRun (optional: only when the addon was built with libnftables): hako's nftables ruleset
 *   applied in-process instead of spawning `nft -f -` on every start/stop with published ports.
 * - SCM_RIGHTS receive: runc's --console-socket hands over the pty master for `exec -t`;
 *   setWinsize resizes that pty.
 *
 * All functions throw an Error with `code` set to the errno name (e.g. 'ENOENT') on failure.
 */
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';

/** The addon's view of one SOCK_SEQPACKET fd, watched on Node's event loop (no thread). */
export interface SeqpacketWatcher {
  /** Sends one packet; returns its length, or -1 when the socket is full (onWritable follows). */
  send(packet: Buffer): number;
  /** Stops / starts reading packets; the watcher starts paused. */
  pause(): void;
  resume(): void;
  /** Stops watching and closes the fd. Idempotent. */
  close(): void;
}

export interface NativeAddon {
  /** shutdown(fd, SHUT_WR): the peer reads EOF; this side can still read. */
  shutdownWrite(fd: number): void;
  /** `mode` includes the file type, e.g. `fs.constants.S_IFCHR | 0o000` for a whiteout. */
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** null when the attribute is absent (ENODATA). */
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  /** An empty `fstype` or `data` is passed as NULL (bind mounts, remounts). */
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount2(target: string, flags: number): void;
  /**
   * Makes a new network namespace (only `lo`, down) and binds it at `target`, an existing file:
   * what `unshare --net=target` does, without a process (a thread of its own does the unshare, so
   * no thread of hakod ever leaves its network namespace).
   */
  newNetns(target: string): void;
  /**
   * Attaches at `target` a clone of the mount at `source` that shows ids through the mapping of
   * the user namespace open on `usernsFd` (open_tree + mount_setattr MOUNT_ATTR_IDMAP +
   * move_mount; Linux 5.12, overlay lower layers 5.19). userns-remap's image layers.
   */
  idmapMount(source: string, target: string, usernsFd: number): void;
  /**
   * Connects a SOCK_SEQPACKET unix socket; returns the fd (non-blocking, close-on-exec). Paths
   * longer than sun_path (108 bytes) work, through /proc/self/fd/<parent dir fd>/<name>.
   * net.Socket cannot use this fd: wrap it in `SeqpacketSocket`.
   */
  seqpacketConnect(path: string): number;
  /**
   * Listens on a new unix stream socket at `path`, accepts one connection, receives one fd
   * passed with SCM_RIGHTS, closes the listener, removes `path`, and resolves with the fd
   * (close-on-exec). The socket is listening when this returns, so the peer may start right
   * away; the wait runs on the thread pool and rejects with code 'ETIMEDOUT' after `timeoutMs`.
   * Long paths work as for seqpacketConnect.
   */
  receiveFd(path: string, timeoutMs: number): Promise<number>;
  /**
   * A NETLINK_ROUTE socket (close-on-exec, blocking) bound to the network namespace at `nsPath`
   * (a thread of its own setns()es there, creates it and ends), or to hakod's own for null.
   * Close it with fs.closeSync.
   */
  netlinkOpen(nsPath: string | null): number;
  /**
   * Sends a batch of netlink messages (each with NLM_F_ACK, distinct sequence numbers) in one
   * datagram and reads until each is acknowledged; returns the other replies (e.g. RTM_NEWLINK
   * for an RTM_GETLINK). On a failed message throws with `code` (errno name), `index` (which
   * message) and `extack` (the kernel's text, may be ''). Synchronous: microseconds per message.
   */
  netlinkTalk(fd: number, request: Buffer): Buffer[];
  /**
   * Runs an nftables script as `nft -f -` does (one transaction), with libnftables on the thread
   * pool (one shared context, one script at a time); resolves with what nft prints on stdout
   * (listings; '' for rule changes). Absent when the addon was built without libnftables
   * (Debian: libnftables-dev): callers spawn nft then. Rejects with `code` 'ENFT' and nft's own
   * error text as the message (the script named `/dev/stdin` in its locations, as `nft -f -`
   * prints them).
   */
  nftRun?(script: string): Promise<string>;
  /** TIOCSWINSZ on a pty master (exec -t resize). */
  setWinsize(fd: number, rows: number, cols: number): void;
  /**
   * Watches a SOCK_SEQPACKET fd and takes ownership of it. `onPacket` gets each packet whole,
   * then `(null, null)` at the peer's close or `(null, error)` on a failure. Prefer
   * `SeqpacketSocket`, which wraps this in a stream.
   */
  seqpacketWatch(
    fd: number,
    onPacket: (packet: Buffer | null, error: Error | null) => void,
    onWritable: () => void,
  ): SeqpacketWatcher;
}

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MNT_FORCE = 1;
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

let missing = false;

/** The addon, or null when it is not built (callers that have a slower way without it). */
export function tryNative(): NativeAddon | null {
  if (missing) return null;
  try {
    return native();
  } catch {
    missing = true;
    return null;
  }
}

/**
 * A SOCK_SEQPACKET socket as a Duplex: every 'data' chunk is exactly one packet (the readable
 * side is in object mode so packets are never merged), every write sends one packet. Reading
 * pauses when the consumer does, so a slow client back-pressures conmon. Owns the fd.
 */
export class SeqpacketSocket extends Duplex {
  readonly fd: number;
  #watcher: SeqpacketWatcher;
  #blocked: { packet: Buffer; callback: (error?: Error | null) => void } | undefined;

  /** Connects to `path` (any length; see seqpacketConnect). */
  static connect(path: string): SeqpacketSocket {
    return new SeqpacketSocket(native().seqpacketConnect(path));
  }

  constructor(fd: number) {
    // allowHalfOpen false: the peer's close ends both sides and autoDestroy closes the fd.
    super({ readableObjectMode: true, allowHalfOpen: false });
    this.fd = fd;
    this.#watcher = native().seqpacketWatch(
      fd,
      (packet, error) => {
        if (error) this.destroy(error);
        else if (packet === null) this.push(null);
        else if (!this.push(packet)) this.#watcher.pause();
      },
      () => this.#retryBlocked(),
    );
  }

  override _read(): void {
    this.#watcher.resume();
  }

  override _write(packet: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#blocked = { packet, callback };
    this.#retryBlocked();
  }

  #retryBlocked(): void {
    const blocked = this.#blocked;
    if (!blocked) return;
    let sent: number;
    try {
      sent = this.#watcher.send(blocked.packet);
    } catch (error) {
      this.#blocked = undefined;
      blocked.callback(error as Error);
      return;
    }
    if (sent < 0) return; // full: the addon calls back when the peer has room
    this.#blocked = undefined;
    blocked.callback();
  }

  /** Ending the writable side half-closes the socket; the peer sees EOF, reading goes on. */
  override _final(callback: (error?: Error | null) => void): void {
    try {
      native().shutdownWrite(this.fd);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#watcher.close();
    const blocked = this.#blocked;
    this.#blocked = undefined;
    blocked?.callback(error ?? new Error('seqpacket socket destroyed before the packet was sent'));
    callback(error);
  }
}
