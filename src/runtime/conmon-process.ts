/**
 * Spawning conmon and reading its pipes. conmon reports over inherited fds named by env vars
 * (conmon src/parent_pipe_fd.c): `_OCI_SYNCPIPE` gets JSON lines `{"data": N, "message": "..."}`
 * (the pid, then for exec the exit code; negative on failure), `_OCI_ATTACHPIPE` one line once
 * the attach socket listens; `_OCI_STARTPIPE` is read by conmon before it starts (and, with
 * --exec-attach, once more before it runs the process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { Internal, Unavailable } from '../errdefs/index.js';

export interface SyncMessage {
  data: number;
  message?: string;
}

/** Reads JSON lines from one of conmon's pipes, one `next()` per line. */
export class SyncReader {
  #buf = '';
  #lines: SyncMessage[] = [];
  #waiters: Array<{ resolve(m: SyncMessage): void; reject(e: Error): void }> = [];
  #ended: Error | null = null;

  constructor(stream: Duplex, what: string, stderr: () => string) {
    stream.on('data', (b: Buffer) => {
      this.#buf += b.toString();
      let nl: number;
      while ((nl = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        try {
          this.#push(JSON.parse(line) as SyncMessage);
        } catch {
          this.fail(new Internal(`${what}: bad message from conmon: ${JSON.stringify(line)}`));
        }
      }
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      // conmon's stderr arrives on another pipe: give it a turn before reporting.
      setImmediate(() => this.fail(new Internal(`${what}: conmon exited without reporting: ${stderr() || 'no message'}`)));
    });
  }

  #push(m: SyncMessage): void {
    const w = this.#waiters.shift();
    if (w) w.resolve(m);
    else this.#lines.push(m);
  }

  /** Fails every pending and future next() with `err` (first failure wins). */
  fail(err: Error): void {
    if (this.#ended) return;
    this.#ended = err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  next(): Promise<SyncMessage> {
    const line = this.#lines.shift();
    if (line) return Promise.resolve(line);
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}

export interface ConmonChild {
  child: ChildProcess;
  sync: SyncReader;
  /** Present when asked for (`startPipe`): write a byte to let conmon go on. */
  start: Duplex | null;
  attach: SyncReader | null;
  /** Closes our ends of every pipe (conmon keeps its own). */
  release(): void;
}

/**
 * Spawns conmon detached (a new session; stdio on /dev/null except stderr, kept to explain an
 * early failure; Node opens all its own fds close-on-exec, so conmon inherits nothing else).
 */
export function spawnConmon(conmonPath: string, args: string[], opts: { cwd: string; what: string; startPipe?: boolean; attachPipe?: boolean }): ConmonChild {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' };
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'ignore', 'pipe', 'pipe'];
  if (opts.startPipe || opts.attachPipe) {
    stdio.push('pipe');
    env._OCI_STARTPIPE = '4';
  }
  if (opts.attachPipe) {
    stdio.push('pipe');
    env._OCI_ATTACHPIPE = '5';
  }
  const child = spawn(conmonPath, args, { cwd: opts.cwd, detached: true, stdio, env });
  child.unref();
  const errs: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => errs.push(b));
  child.stderr!.on('error', () => undefined);
  const stderr = () => Buffer.concat(errs).toString().trim();
  const pipe = (i: number) => child.stdio[i] as unknown as Duplex;
  const sync = new SyncReader(pipe(3), opts.what, stderr);
  const start = stdio.length > 4 ? pipe(4) : null;
  start?.on('error', () => undefined);
  const attach = opts.attachPipe ? new SyncReader(pipe(5), opts.what, stderr) : null;
  child.on('error', (e) => sync.fail(new Unavailable(`cannot run conmon ${conmonPath}: ${e.message}`, { cause: e })));
  return {
    child, sync, start, attach,
    release() {
      for (let i = 2; i < stdio.length; i++) (child.stdio[i] as unknown as Duplex | null)?.destroy();
    },
  };
}
