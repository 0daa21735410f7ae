/**
 * `docker exec -t` under conmon (podman's exec path, libpod/oci_conmon_exec_common.go): runc
 * only hands a pty to a console socket when it detaches (`runc exec -d`), and then nobody could
 * wait for the process; conmon is a subreaper that holds the pty, reaps the process and sends
 * its exit code as a second sync message. The session directory is conmon's bundle: attach
 * socket and ctl fifo (resize) live there.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Internal } from '../errdefs/index.js';
import { connectAttach } from './attach.js';
import { spawnConmon } from './conmon-process.js';
import { runcErrorMessage, shortStartMessage, startFailureExitCode, type Runc } from './runc.js';
import type { OciProcess } from './oci-types.js';
import type { AttachStream, ExecHandle, ExecOptions } from './runtime-types.js';

export interface TtyExecContext {
  runc: Runc;
  conmonPath: string;
  logLevel: string;
  id: string;
  /** A new, private directory for this exec session. */
  sessionDir: string;
  process: OciProcess;
  opts: ExecOptions;
}

const CTL_WINSZ = 1;

export async function runTtyExec(c: TtyExecContext): Promise<ExecHandle> {
  await mkdir(c.sessionDir, { recursive: true, mode: 0o700 });
  const processFile = join(c.sessionDir, 'process.json');
  const proc: OciProcess = { ...c.process, terminal: true };
  if (c.opts.consoleSize) proc.consoleSize = c.opts.consoleSize;
  await writeFile(processFile, JSON.stringify(proc));
  const sessionId = c.sessionDir.split('/').pop()!;
  const args = [
    '--api-version', '1', '-c', c.id, '-u', sessionId, '-r', c.runc.path, '-b', c.sessionDir,
    '-p', join(c.sessionDir, 'pid'), '--exit-dir', c.sessionDir, '--full-attach', '-l', 'none',
    '--log-level', c.logLevel, '-t', '-e', '--exec-attach', '--exec-process-spec', processFile,
    ...c.runc.globalArgs().flatMap((a) => ['--runtime-arg', a]),
  ];
  if (c.opts.stdin) args.push('-i');
  const what = `exec in container ${c.id}`;
  const conmon = spawnConmon(c.conmonPath, args, { cwd: c.sessionDir, what, startPipe: true, attachPipe: true });
  const cleanup = () => rm(c.sessionDir, { recursive: true, force: true }).catch(() => undefined);
  let attach: AttachStream | null = null;
  // The first sync message is the pid, or runc's failure; the attach pipe speaks first otherwise.
  const firstSync = conmon.sync.next();
  firstSync.catch(() => undefined);
  try {
    conmon.start!.write('0'); // conmon's first read: go ahead and set up
    const failed = firstSync.then((m) => (m.data < 0 ? m : new Promise<never>(() => undefined)));
    const ready = await Promise.race([conmon.attach!.next(), failed]);
    if (ready.data < 0) throw new Internal(`${what}: conmon failed: ${ready.message ?? ready.data}`);
    if (!c.opts.detach) attach = connectAttach(c.sessionDir);
    conmon.start!.write('0'); // second read: run the process now that output has a reader
  } catch (err) {
    conmon.release();
    attach?.close();
    await cleanup();
    throw err;
  }

  let startError: string | null = null;
  const exited = (async (): Promise<number> => {
    try {
      const first = await firstSync;
      if (first.data < 0) {
        const msg = runcErrorMessage(first.message ?? '');
        startError = shortStartMessage(msg);
        return startFailureExitCode(msg) ?? 126;
      }
      if (c.opts.detach) return 0;
      return (await conmon.sync.next()).data;
    } catch (err) {
      startError = (err as Error).message;
      return 255;
    } finally {
      if (!c.opts.detach) {
        conmon.release();
        void cleanup();
      }
    }
  })();
  if (c.opts.detach) {
    await exited;
    conmon.release();
  }

  let stdout: PassThrough | null = null;
  let stdin: Writable | null = null;
  if (attach) {
    const a = attach;
    const out = new PassThrough();
    a.onData((_s, d) => out.write(d));
    a.onEnd(() => out.end());
    stdout = out;
    if (c.opts.stdin) {
      stdin = new Writable({
        write(chunk: Buffer, _enc, cb) {
          a.writeStdin(chunk).then(() => cb(), cb);
        },
        final(cb) {
          a.closeStdin();
          cb();
        },
      });
    }
  }

  return {
    stdout, stderr: null, stdin, exited,
    get startError() {
      return startError;
    },
    resize(height: number, width: number) {
      void open(join(c.sessionDir, 'ctl'), fsc.O_WRONLY | fsc.O_NONBLOCK)
        .then(async (fh) => {
          try {
            await fh.write(`${CTL_WINSZ} ${Math.trunc(height)} ${Math.trunc(width)}\n`);
          } finally {
            await fh.close();
          }
        })
        .catch(() => undefined); // the exec already ended
    },
  };
}
