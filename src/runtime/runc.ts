/**
 * Runs one `runc` command and turns its failure into a typed error. runc is asked for JSON logs
 * (`--log-format json`), so its error is a `{"level":"error","msg":...}` line on stderr.
 */
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Conflict, Internal, InvalidArgument, NotFound, type HakoError } from '../errdefs/index.js';

export interface RuncResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The `msg` of runc's JSON log lines at error level (or the raw text when not JSON). */
export function runcErrorMessage(stderr: string): string {
  const msgs: string[] = [];
  for (const line of stderr.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    try {
      const entry = JSON.parse(t) as { level?: string; msg?: string };
      if (entry.msg && (entry.level === 'error' || entry.level === 'fatal')) msgs.push(entry.msg);
    } catch {
      msgs.push(t);
    }
  }
  return msgs.join('; ');
}

/** A container command that could not be started: Docker answers 400 and sets exit code 126/127. */
export class CannotStartError extends InvalidArgument {
  constructor(message: string, readonly exitCode: 126 | 127, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * moby daemon/start.go translateContainerdStartErr: "not found"/"no such file" for the command
 * -> 127, "permission denied"/"is a directory" -> 126. null when the message is something else.
 */
export function startFailureExitCode(message: string): 126 | 127 | null {
  const m = message.toLowerCase();
  if (m.includes('executable file not found') || m.includes('no such file or directory') || m.includes('not a directory')) return 127;
  if (m.includes('permission denied') || m.includes('is a directory')) return 126;
  return null;
}

/** The part of runc's message Docker users know: `exec: "foo": executable file not found in $PATH`. */
export function shortStartMessage(message: string): string {
  const i = message.indexOf('exec: "');
  return i >= 0 ? message.slice(i) : message;
}

export function runcError(what: string, id: string, message: string): HakoError {
  const m = message.toLowerCase();
  if (m.includes('does not exist') || m.includes('container not found')) {
    return new NotFound(`container ${id}: not found in the runtime (${message})`);
  }
  if (m.includes('not running') || m.includes('not paused') || m.includes('already paused') ||
      m.includes('cannot start') || m.includes('stopped') || m.includes('is paused') || m.includes('already exists')) {
    return new Conflict(`container ${id}: cannot ${what}: ${message}`);
  }
  return new Internal(`container ${id}: runc ${what} failed: ${message || 'no error message'}`);
}

export class Runc {
  readonly #path: string;
  readonly #root: string;

  constructor(path: string, root: string) {
    this.#path = path;
    this.#root = root;
  }

  /** runc's state directory of a container (state.json, exec.fifo). */
  stateDir(id: string): string {
    return join(this.#root, id);
  }

  get path(): string {
    return this.#path;
  }

  /** Global flags every runc call gets (also passed to conmon for `runc create`). */
  globalArgs(): string[] {
    return ['--root', this.#root, '--log-format', 'json'];
  }

  /** Runs `runc <args>`, resolving with its output whatever the exit code. */
  run(args: string[], input?: string): Promise<RuncResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.#path, [...this.globalArgs(), ...args], {
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (b: Buffer) => out.push(b));
      child.stderr!.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => reject(new Internal(`cannot run ${this.#path}: ${e.message}`, { cause: e })));
      child.on('close', (code, signal) => resolve({
        code: code ?? 128 + (signal ? 15 : 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }));
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  /** Runs `runc <what> ... <id>` and throws a typed error when it fails. */
  async must(what: string, id: string, args: string[], input?: string): Promise<string> {
    const r = await this.run(args, input);
    if (r.code !== 0) throw runcError(what, id, runcErrorMessage(r.stderr));
    return r.stdout;
  }
}
