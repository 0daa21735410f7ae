/**
 * conmon's attach socket (conmon src/conn_sock.c, ctr_stdio.c): SOCK_SEQPACKET; every packet
 * from conmon is one byte of stream id (2 stdout, 3 stderr: conmon's STDOUT_PIPE/STDERR_PIPE)
 * followed by the data; every packet we send is written to the container's stdin, and our
 * shutdown(SHUT_WR) makes conmon close that stdin (unless --leave-stdin-open).
 *
 * Node's net module refuses SEQPACKET fds (libuv guesses them as UNKNOWN), so the fd from the
 * addon is opened into a libuv pipe handle directly: libuv's stream code only read()s and
 * write()s, and on a SEQPACKET socket each read() returns exactly one packet.
 */
import { Socket } from 'node:net';
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native/index.js';
import { Internal } from '../errdefs/index.js';
import type { AttachStream } from './runtime-types.js';

/** conmon reads at most CONN_SOCK_BUF_SIZE bytes per packet; longer packets would be truncated. */
const MAX_STDIN_PACKET = 32768;

const CONMON_STDOUT = 2;
const CONMON_STDERR = 3;

interface PipeHandle { open(fd: number): number }
type PipeCtor = new (type: number) => PipeHandle;

function socketFromFd(fd: number): Socket {
  // process.binding is the only public door to libuv's pipe handle; see the header comment.
  const binding = (process as unknown as { binding(name: string): { Pipe: PipeCtor; constants: { SOCKET: number } } }).binding('pipe_wrap');
  const handle = new binding.Pipe(binding.constants.SOCKET);
  const err = handle.open(fd);
  if (err !== 0) {
    closeSync(fd);
    throw new Internal(`cannot open conmon attach socket fd ${fd}: uv error ${err}`);
  }
  return new Socket({ handle, readable: true, writable: true } as unknown as ConstructorParameters<typeof Socket>[0]);
}

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
  return new ConmonAttach(socketFromFd(fd));
}

class ConmonAttach implements AttachStream {
  readonly #sock: Socket;
  #ended = false;
  readonly #endListeners: Array<() => void> = [];

  constructor(sock: Socket) {
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
