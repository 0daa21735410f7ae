/**
 * conmon's attach socket (conmon src/conn_sock.c, ctr_stdio.c): SOCK_SEQPACKET; every packet
 * from conmon is one byte of stream id (2 stdout, 3 stderr: conmon's STDOUT_PIPE/STDERR_PIPE)
 * followed by the data; every packet we send is written to the container's stdin, and our
 * shutdown(SHUT_WR) makes conmon close that stdin (unless --leave-stdin-open).
 *
 * Node's net module refuses SEQPACKET fds, and forcing one into a libuv pipe drops packets still
 * queued when conmon hangs up (the container's last lines), so the addon's SeqpacketSocket reads
 * every packet whole, to the end.
 */
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { native, SeqpacketSocket } from '../native/index.js';
import type { AttachStream } from './runtime-types.js';

/** conmon reads at most CONN_SOCK_BUF_SIZE bytes per packet; longer packets would be truncated. */
const MAX_STDIN_PACKET = 32768;

const CONMON_STDOUT = 2;
const CONMON_STDERR = 3;

/**
 * Connects to `<bundleDir>/attach`. The path goes through /proc/self/fd/<dir> so a bundle path
 * longer than sun_path's 108 bytes still works (podman does the same with --full-attach).
 */
export function connectAttach(bundleDir: string): AttachStream {
  const dirFd = openSync(bundleDir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  let fd: number;
  try {
    fd = native().seqpacketConnect(join(`/proc/self/fd/${dirFd}`, 'attach'));
  } finally {
    closeSync(dirFd);
  }
  return new ConmonAttach(new SeqpacketSocket(fd));
}

class ConmonAttach implements AttachStream {
  readonly #sock: SeqpacketSocket;
  #ended = false;
  readonly #endListeners: Array<() => void> = [];

  constructor(sock: SeqpacketSocket) {
    this.#sock = sock;
    sock.on('end', () => this.#end());
    sock.on('close', () => this.#end());
    // A reset (the container's conmon exited under us) ends the stream like an EOF.
    sock.on('error', () => this.#end());
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const l of this.#endListeners) l();
    this.#sock.destroy();
  }

  onData(listener: (stream: 1 | 2, data: Buffer) => void): void {
    this.#sock.on('data', (packet: Buffer) => {
      if (packet.length < 1) return;
      const id = packet[0];
      if (id === CONMON_STDOUT) listener(1, packet.subarray(1));
      else if (id === CONMON_STDERR) listener(2, packet.subarray(1));
    });
  }

  onEnd(listener: () => void): void {
    if (this.#ended) queueMicrotask(listener);
    else this.#endListeners.push(listener);
  }

  async writeStdin(data: Buffer): Promise<void> {
    for (let off = 0; off < data.length; off += MAX_STDIN_PACKET) {
      const chunk = data.subarray(off, off + MAX_STDIN_PACKET);
      await new Promise<void>((resolve, reject) => {
        this.#sock.write(chunk, (err) => (err ? reject(err) : resolve()));
      });
    }
  }

  closeStdin(): void {
    this.#sock.end();
  }

  close(): void {
    this.#end();
  }
}
