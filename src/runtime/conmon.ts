/**
 * ConmonRuncRuntime: containers under conmon (one per container, outliving hakod) + runc.
 * Follows podman's libpod/oci_conmon_*.go: conmon --api-version 1, the container pid (or runc's
 * error) comes back as one JSON line on the inherited sync pipe (`_OCI_SYNCPIPE`), exits land
 * in <execRoot>/exits/<id>, attach via <bundle>/attach, resize and log reopen via <bundle>/ctl.
 *
 * Layout under execRoot:
 *   exits/<id>                 exit code, written by conmon (the file's mtime is the exit time)
 *   containers/<id>/           conmon's cwd and --persist-dir: conmon.pid, pidfile, oom, exit,
 *                              bundle -> the bundle directory
 *   runc/                      runc's state root (default)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, watch } from 'node:fs';
import { mkdir, open, readFile, readdir, readlink, rm, stat, symlink, writeFile, constants as fsc } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, Internal, InvalidArgument, NotFound, Unavailable } from '../errdefs/index.js';
import { connectAttach } from './attach.js';
import { spawnConmon, type SyncMessage } from './conmon-process.js';
import { runExec } from './exec.js';
import { runTtyExec } from './exec-tty.js';
import { randomBytes } from 'node:crypto';
import { lookPath } from './host.js';
import { deleteStopped, startThroughFifo } from './runc-state.js';
import { CannotStartError, Runc, runcError, runcErrorMessage, shortStartMessage, startFailureExitCode } from './runc.js';
import type { OciProcess, OciResources } from './oci-types.js';
import type {
  AttachStream, CreateOptions, ExecHandle, ExecOptions, ExitInfo, OciRuntime, RuntimeState,
} from './runtime-types.js';

export interface ConmonRuncOptions {
  /** Default `runc` from $PATH. */
  runtimePath?: string;
  /** Default `conmon` from $PATH. */
  conmonPath?: string;
  execRoot: string;
  /** Default `<execRoot>/runc`. */
  runcRoot?: string;
  /** conmon's --log-level (`error`, `warn`, `info`, `debug`, `trace`), default `error`. */
  logLevel?: string;
}

/** conmon ctl fifo messages (conmon src/config.h). */
const CTL_WINSZ = 1;
const CTL_REOPEN_LOGS = 2;

/** How long create waits for conmon's answer before giving up (runc create is ~30 ms here). */
const CREATE_TIMEOUT_MS = 60_000;


export class ConmonRuncRuntime implements OciRuntime {
  readonly #execRoot: string;
  readonly #exitsDir: string;
  readonly #runc: Runc;
  readonly #conmonPath: string;
  readonly #logLevel: string;
  #dirsReady: Promise<void> | undefined;

  constructor(opts: ConmonRuncOptions) {
    this.#execRoot = opts.execRoot;
    this.#exitsDir = join(opts.execRoot, 'exits');
    const runcPath = lookPath(opts.runtimePath ?? 'runc');
    const conmonPath = lookPath(opts.conmonPath ?? 'conmon');
    if (!runcPath) throw new Unavailable(`OCI runtime "${opts.runtimePath ?? 'runc'}" not found: install runc or set the runtime path`);
    if (!conmonPath) throw new Unavailable(`conmon "${opts.conmonPath ?? 'conmon'}" not found: install conmon or set its path`);
    this.#runc = new Runc(runcPath, opts.runcRoot ?? join(opts.execRoot, 'runc'));
    this.#conmonPath = conmonPath;
    this.#logLevel = opts.logLevel ?? 'error';
  }

  #ctrDir(id: string): string {
    return join(this.#execRoot, 'containers', id);
  }

  #ensureDirs(): Promise<void> {
    this.#dirsReady ??= Promise.all([
      mkdir(this.#exitsDir, { recursive: true, mode: 0o700 }),
      mkdir(join(this.#execRoot, 'containers'), { recursive: true, mode: 0o700 }),
    ]).then(() => undefined);
    return this.#dirsReady;
  }

  async #bundleDir(id: string): Promise<string> {
    try {
      return await readlink(join(this.#ctrDir(id), 'bundle'));
    } catch {
      throw new NotFound(`container ${id}: no runtime state (was it created by this engine?)`);
    }
  }

  async create(id: string, opts: CreateOptions): Promise<{ pid: number }> {
    if (!/^[\w][\w.-]*$/.test(id)) throw new InvalidArgument(`invalid container id "${id}": use letters, digits, _, . and -`);
    if (opts.logPath?.includes(':')) throw new InvalidArgument(`log path "${opts.logPath}" must not contain ":" (conmon splits on it)`);
    await this.#ensureDirs();
    const ctrDir = this.#ctrDir(id);
    await rm(ctrDir, { recursive: true, force: true });
    await mkdir(ctrDir, { mode: 0o700 });
    await Promise.all([
      rm(join(this.#exitsDir, id), { force: true }),
      symlink(opts.bundleDir, join(ctrDir, 'bundle')),
      writeFile(join(opts.bundleDir, 'config.json'), JSON.stringify(opts.spec)),
    ]);

    const args = [
      '--api-version', '1',
      '-c', id, '-u', id,
      '-r', this.#runc.path,
      '-b', opts.bundleDir,
      '-p', join(ctrDir, 'pidfile'),
      '-P', join(ctrDir, 'conmon.pid'),
      '-l', opts.logPath === null ? 'none' : `k8s-file:${opts.logPath}`,
      '--exit-dir', this.#exitsDir,
      '--persist-dir', ctrDir,
      // The attach socket in the bundle itself: no symlink dir, any path length (see attach.ts).
      '--full-attach',
      '--log-level', this.#logLevel,
      ...this.#runc.globalArgs().flatMap((a) => ['--runtime-arg', a]),
    ];
    if (opts.name) args.push('-n', opts.name);
    if (opts.terminal) args.push('-t');
    if (opts.stdin) {
      args.push('-i');
      if (opts.stdinOnce === false) args.push('--leave-stdin-open');
    }

    const message = await this.#spawnConmon(id, ctrDir, args, opts.signal, opts.onMonitorStarted);
    if (message.data < 0) {
      const runcMsg = runcErrorMessage(message.message ?? '') || `conmon reported ${message.data}`;
      await this.#runc.run(['delete', '--force', id]).catch(() => undefined);
      const code = startFailureExitCode(runcMsg);
      if (code !== null) throw new CannotStartError(shortStartMessage(runcMsg), code);
      throw new Internal(`container ${id}: runc create failed: ${runcMsg}`);
    }
    return { pid: message.data };
  }

  /** Spawns conmon for a container and resolves with its first sync message (pid or error). */
  async #spawnConmon(id: string, cwd: string, args: string[], signal?: AbortSignal, onSpawned?: () => void): Promise<SyncMessage> {
    const c = spawnConmon(this.#conmonPath, args, { cwd, what: `container ${id}` });
    onSpawned?.();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Internal(`container ${id}: conmon did not report within ${CREATE_TIMEOUT_MS / 1000}s`)), CREATE_TIMEOUT_MS);
      timer.unref();
      onAbort = () => reject(signal!.reason instanceof Error ? signal!.reason : new Error('create aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([c.sync.next(), guard]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      c.release();
    }
  }

  async start(id: string): Promise<void> {
    if (await startThroughFifo(this.#runc.stateDir(id))) return;
    await this.#runc.must('start', id, ['start', id]);
  }

  async kill(id: string, signal: string | number, opts: { all?: boolean } = {}): Promise<void> {
    await this.#runc.must('kill', id, ['kill', ...(opts.all ? ['--all'] : []), id, String(signal)]);
  }

  /** Whether runc or conmon still hold anything for this container. */
  async holds(id: string): Promise<boolean> {
    const present = async (p: string) => stat(p).then(() => true, () => false);
    return (await present(this.#runc.stateDir(id))) || (await present(this.#ctrDir(id)));
  }

  async delete(id: string, opts: { force?: boolean; exited?: boolean } = {}): Promise<void> {
    const exited = opts.exited === true || (await this.exitCode(id)) !== null;
    const r = exited && (await deleteStopped(this.#runc.stateDir(id), 0))
      ? { code: 0, stderr: '' }
      : await this.#runc.run(['delete', ...(opts.force ? ['--force'] : []), id]);
    if (r.code !== 0) {
      const msg = runcErrorMessage(r.stderr);
      // Already gone from runc: still drop our own bookkeeping.
      if (!/does not exist|not found/i.test(msg)) throw runcError('delete', id, msg);
    }
    // conmon's few small files on the exec root: at once, not queued behind cgroup rmdirs.
    rmSync(this.#ctrDir(id), { recursive: true, force: true });
    rmSync(join(this.#exitsDir, id), { force: true });
  }

  async state(id: string): Promise<RuntimeState | null> {
    const r = await this.#runc.run(['state', id]);
    if (r.code !== 0) {
      const msg = runcErrorMessage(r.stderr);
      if (/does not exist|not found/i.test(msg)) return null;
      throw new Internal(`container ${id}: runc state failed: ${msg}`);
    }
    const s = JSON.parse(r.stdout) as { status: RuntimeState['status']; pid: number };
    return { status: s.status, pid: s.pid };
  }

  async pause(id: string): Promise<void> {
    await this.#runc.must('pause', id, ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.#runc.must('resume', id, ['resume', id]);
  }

  async ps(id: string): Promise<number[]> {
    const out = await this.#runc.must('ps', id, ['ps', '--format', 'json', id]);
    return (JSON.parse(out || '[]') as number[] | null) ?? [];
  }

  async update(id: string, resources: Omit<OciResources, 'devices'>): Promise<void> {
    await this.#runc.must('update', id, ['update', '--resources', '-', id], JSON.stringify(resources));
  }

  async exitInfo(id: string): Promise<ExitInfo | null> {
    // Three tiny reads on the exec root (a tmpfs), on the path every `wait` waits for: synchronous
    // calls take microseconds where thread-pool round trips queue behind the exit's cgroup rmdirs.
    const file = join(this.#exitsDir, id);
    let text: string;
    let mtime: Date;
    try {
      text = readFileSync(file, 'utf8');
      mtime = statSync(file).mtime;
    } catch {
      return null;
    }
    const exitCode = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(exitCode)) return null;
    const oomKilled = existsSync(join(this.#ctrDir(id), 'oom'));
    return { exitCode, exitedAt: mtime, oomKilled };
  }

  async exitCode(id: string): Promise<number | null> {
    return (await this.exitInfo(id))?.exitCode ?? null;
  }

  watchExits(onExit: (id: string) => void): () => void {
    let closed = false;
    const seen = new Map<string, number>();
    const handle = (name: string | null) => {
      if (!name || closed) return;
      // conmon writes a temp file and renames it (g_file_set_contents): report the final name once.
      stat(join(this.#exitsDir, name)).then((s) => {
        if (closed || !s.isFile() || s.size === 0 || seen.get(name) === s.ino) return;
        seen.set(name, s.ino);
        onExit(name);
      }, () => seen.delete(name));
    };
    // Synchronous set-up: an exit after watchExits() returns is never missed.
    mkdirSync(this.#exitsDir, { recursive: true, mode: 0o700 });
    const watcher = watch(this.#exitsDir, { persistent: false }, (_event, name) => handle(name));
    return () => {
      closed = true;
      watcher.close();
    };
  }

  async attach(id: string): Promise<AttachStream> {
    const bundle = await this.#bundleDir(id);
    try {
      return connectAttach(bundle);
    } catch (err) {
      throw new Conflict(`container ${id}: cannot attach: conmon is not serving (${(err as Error).message})`, { cause: err });
    }
  }

  async #ctl(id: string, line: string): Promise<void> {
    const bundle = await this.#bundleDir(id);
    // O_NONBLOCK: conmon holds the read side; without a reader (conmon gone) this fails with ENXIO.
    let fh;
    try {
      fh = await open(join(bundle, 'ctl'), fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (err) {
      throw new Conflict(`container ${id}: is not running (conmon control fifo: ${(err as Error).message})`, { cause: err });
    }
    try {
      await fh.write(line);
    } finally {
      await fh.close();
    }
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    await this.#ctl(id, `${CTL_WINSZ} ${Math.trunc(height)} ${Math.trunc(width)}\n`);
  }

  async reopenLog(id: string): Promise<void> {
    await this.#ctl(id, `${CTL_REOPEN_LOGS} 0 0\n`);
  }

  async exec(id: string, process: OciProcess, opts: ExecOptions): Promise<ExecHandle> {
    await this.#bundleDir(id); // NotFound for a container this runtime does not know
    if (opts.tty) {
      return runTtyExec({
        runc: this.#runc, conmonPath: this.#conmonPath, logLevel: this.#logLevel, id, process, opts,
        sessionDir: join(this.#ctrDir(id), `exec-${randomBytes(8).toString('hex')}`),
      });
    }
    return runExec({ runc: this.#runc, id, workDir: this.#ctrDir(id), process, ...opts });
  }

  async listKnown(): Promise<string[]> {
    const root = this.#runc.globalArgs()[1]!;
    try {
      const entries = await readdir(root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch {
      return [];
    }
  }

  async monitorAlive(id: string): Promise<boolean> {
    try {
      const pid = Number.parseInt(await readFile(join(this.#ctrDir(id), 'conmon.pid'), 'utf8'), 10);
      if (!Number.isInteger(pid) || pid <= 0) return false;
      // The pid may have been reused: it must still be a conmon.
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8');
      return comm.trim() === 'conmon';
    } catch {
      return false;
    }
  }
}
