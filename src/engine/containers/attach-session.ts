import { Writable } from 'node:stream';
import type { OutputChunk, StdioSession } from '../contract.js';
import { AsyncQueue } from '../async.js';

import type { AttachStream } from '../../runtime/index.js';

/** Docker's default detach sequence, ctrl-p ctrl-q. */
const DEFAULT_DETACH = Buffer.from([0x10, 0x11]);

/**
 * Parses docker's --detach-keys: comma-separated `ctrl-<x>` or single characters,
 * e.g. "ctrl-p,ctrl-q" or "ctrl-a,x". An empty string disables detaching.
 */
export function parseDetachKeys(spec: string | undefined): Buffer | null {
  if (spec === undefined) return DEFAULT_DETACH;
  if (spec === '') return null;
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.startsWith('ctrl-') && k.length === 6) {
      const c = k.charCodeAt(5);
      if (c >= 0x61 && c <= 0x7a) bytes.push(c - 0x60);
      else if (k[5] === '@') bytes.push(0);
      else if (k[5] === '[') bytes.push(27);
      else if (k[5] === '\\') bytes.push(28);
      else if (k[5] === ']') bytes.push(29);
      else if (k[5] === '^') bytes.push(30);
      else if (k[5] === '_') bytes.push(31);
      else throw new Error(`Invalid detach keys (${spec}) provided`);
    } else if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
    } else {
      throw new Error(`Invalid detach keys (${spec}) provided`);
    }
  }
  return Buffer.from(bytes);
}

/**
 * One client's attachment to a container. It may be made before the container starts (docker
 * run attaches first); stdin written before the connection exists is held until it does.
 */
export class AttachSession implements StdioSession {
  readonly tty: boolean;
  readonly output = new AsyncQueue<OutputChunk>();
  readonly input: Writable | null;
  #conn: AttachStream | null = null;
  #pendingStdin: Buffer[] = [];
  #stdinEnded = false;
  #closed = false;
  #detachKeys: Buffer | null;
  #matched = 0;
  #wants: { stdout: boolean; stderr: boolean };
  #onClose: Array<() => void> = [];

  constructor(opts: { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean; detachKeys: Buffer | null }) {
    this.tty = opts.tty;
    this.#wants = { stdout: opts.stdout, stderr: opts.stderr };
    this.#detachKeys = opts.tty ? opts.detachKeys : null;
    this.input = opts.stdin
      ? new Writable({
          write: (chunk: Buffer, _enc, cb) => {
            this.#stdin(chunk).then(() => cb(), cb);
          },
          final: (cb) => {
            this.#stdinEnded = true;
            this.#conn?.closeStdin();
            cb();
          },
        })
      : null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onClose(fn: () => void): void {
    this.#onClose.push(fn);
  }

  /** Binds the session to a live connection; output flows until the connection closes. */
  connect(conn: AttachStream): void {
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#conn = conn;
    conn.onData((n, data) => {
      const stream = n === 2 ? 'stderr' : 'stdout';
      if (this.#wants[stream]) void this.output.push({ stream, data });
    });
    conn.onEnd(() => this.close());
    for (const b of this.#pendingStdin) void conn.writeStdin(b);
    this.#pendingStdin = [];
    if (this.#stdinEnded) conn.closeStdin();
  }

  /** Pushes replayed log output (attach with logs=1) ahead of live output. */
  replay(chunk: OutputChunk): Promise<void> {
    if (!this.#wants[chunk.stream]) return Promise.resolve();
    return this.output.push(chunk);
  }

  async #stdin(chunk: Buffer): Promise<void> {
    const data = this.#scanDetach(chunk);
    if (data === null) return;
    if (this.#conn) await this.#conn.writeStdin(data);
    else this.#pendingStdin.push(data);
  }

  // Returns the bytes to forward, or null when the detach sequence completed (session closes).
  #scanDetach(chunk: Buffer): Buffer | null {
    const keys = this.#detachKeys;
    if (!keys) return chunk;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === keys.length) {
          this.close();
          return null;
        }
      } else {
        this.#matched = chunk[i] === keys[0] ? 1 : 0;
      }
    }
    return chunk;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn?.close();
    this.output.end();
    for (const fn of this.#onClose) fn();
  }
}
