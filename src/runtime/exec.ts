/**
 * `docker exec` without a tty, straight through `runc exec --process <file>` (no conmon: runc
 * waits for the process and exits with its code; `exec -t` needs conmon, see exec-tty.ts).
 *
 * - The process gets real pipes (made from FIFOs, since Node cannot make anonymous pipes and
 *   its socketpairs break `/dev/stdout` inside the container).
 * - runc's own errors go to a JSON log file, not to the process's stderr, so a failure to start
 *   (`exec: "foo": executable file not found in $PATH`) is told apart from the program's output.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { native } from '../native/index.js';
import { Internal } from '../errdefs/index.js';
import { runcErrorMessage, shortStartMessage, startFailureExitCode, type Runc } from './runc.js';
import type { OciProcess } from './oci-types.js';
import type { ExecHandle, ExecOptions } from './runtime-types.js';

const S_IFIFO = 0o010000;

/** Exit code runc uses when it could not run the process at all. */
const RUNC_FAILED = 255;

interface FifoPair { ours: number; theirs: number }

/**
 * A FIFO opened as a pipe: `theirs` (blocking, for the process) and `ours` (non-blocking, for
 * libuv). A temporary O_RDWR open lets both ends open without blocking, then is closed so the
 * process sees EOF exactly when we close our end.
 */
function fifoPipe(path: string, ourSide: 'read' | 'write'): FifoPair {
  native().mknod(path, S_IFIFO | 0o600, 0, 0);
  const holder = openSync(path, fsc.O_RDWR);
  try {
    if (ourSide === 'read') {
      const theirs = openSync(path, fsc.O_WRONLY);
      const ours = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
      return { ours, theirs };
    }
    const theirs = openSync(path, fsc.O_RDONLY);
    const ours = openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
    return { ours, theirs };
  } finally {
    closeSync(holder);
  }
}

export interface RunExecOptions extends ExecOptions {
  runc: Runc;
  id: string;
  /** A private directory for the process file, FIFOs, console socket and runc log. */
  workDir: string;
  process: OciProcess;
}

export async function runExec(o: RunExecOptions): Promise<ExecHandle> {
  const tag = `exec-${randomBytes(6).toString('hex')}`;
  const base = join(o.workDir, tag);
  const processFile = `${base}.json`;
  const logFile = `${base}.log`;
  const pidFile = `${base}.pid`;
  const proc: OciProcess = { ...o.process, terminal: false };
  await writeFile(processFile, JSON.stringify(proc));

  const args = ['--log', logFile, 'exec', '--process', processFile, '--pid-file', pidFile];
  if (o.detach) args.push('--detach');
  const toClose: number[] = [];

  let stdout: Readable | null = null;
  let stderr: Readable | null = null;
  let stdin: Writable | null = null;
  const stdio: Array<'ignore' | number> = ['ignore', 'ignore', 'ignore'];

  try {
    if (!o.detach) {
      const out = fifoPipe(`${base}.out`, 'read');
      const err = fifoPipe(`${base}.err`, 'read');
      stdio[1] = out.theirs;
      stdio[2] = err.theirs;
      toClose.push(out.theirs, err.theirs);
      stdout = new Socket({ fd: out.ours, readable: true, writable: false });
      stderr = new Socket({ fd: err.ours, readable: true, writable: false });
      if (o.stdin) {
        const inp = fifoPipe(`${base}.in`, 'write');
        stdio[0] = inp.theirs;
        toClose.push(inp.theirs);
        stdin = new Socket({ fd: inp.ours, readable: false, writable: true });
      }
      await Promise.all(['out', 'err', 'in'].map((s) => rm(`${base}.${s}`, { force: true })));
    }
    args.push(o.id);
  } catch (err) {
    for (const fd of toClose) closeSync(fd);
    throw new Internal(`container ${o.id}: cannot set up exec stdio: ${(err as Error).message}`, { cause: err });
  }

  const child = spawn(o.runc.path, [...o.runc.globalArgs(), ...args], { stdio });
  for (const fd of toClose) closeSync(fd);

  let startError: string | null = null;
  let done = false;
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => {
      startError = `cannot run ${o.runc.path}: ${e.message}`;
      resolve(RUNC_FAILED);
    });
    child.on('close', async (code, signal) => {
      let exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      if (exitCode === RUNC_FAILED || (o.detach && exitCode !== 0)) {
        const msg = runcErrorMessage(await readFile(logFile, 'utf8').catch(() => ''));
        if (msg) {
          startError = shortStartMessage(msg);
          exitCode = startFailureExitCode(msg) ?? exitCode;
        }
      }
      done = true;
      await Promise.all([rm(processFile, { force: true }), rm(logFile, { force: true }), rm(pidFile, { force: true })]);
      resolve(exitCode);
    });
  });

  return {
    stdout,
    stderr,
    stdin,
    exited,
    get startError() {
      return startError;
    },
    resize() {
      // no terminal, nothing to resize
    },
    async kill(signal) {
      // runc writes the process's host pid once it runs; SIGKILL to runc itself would orphan it.
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (done || !(pid > 0)) return;
      try {
        process.kill(pid, signal);
      } catch {
        // it exited meanwhile
      }
    },
  };
}
