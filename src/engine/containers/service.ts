import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { Conflict, InvalidArgument, NotFound, NotImplemented, NotModified, isHakoError } from '../../errdefs/index.js';
import type { AttachOptions, ContainerService, Filters, Json, LogOptions, OutputChunk, StdioSession, ArchiveStat } from '../contract.js';
import { Deferred, KeyedMutex } from '../async.js';
import { newId, shortId } from '../ids.js';
import { parseSignal } from '../signals.js';
import type { ImagePort, LogPort, RootfsPort } from '../ports.js';
import { buildOciSpec, resolveUser, startFailureExitCode, type OciRuntime } from '../../runtime/index.js';
import { runtimeSettingsOf } from './runtime-settings.js';
import { resourceUpdate, UPDATABLE_RESOURCE_KEYS } from './resources.js';
import { availableParallelism, hostname } from 'node:os';
import type { ContainerControl, ContainerExtension, EventBus } from '../extensions.js';
import { AttachSession, parseDetachKeys } from './attach-session.js';
import { commandLine, mergeContainerConfig, normalizeHostConfig } from './create-config.js';
import { hostnameFile, hostsFile, resolvConfFile } from './etc-files.js';
import { generateContainerName, validateContainerName } from './names.js';
import { initialState, type ContainerRecord } from './record.js';
import type { ContainerStore } from './store.js';
import { filterContainers, inspectView, summaryView } from './views.js';
import { statInRoot, resolveInRoot, viewOf, type MountPoint } from './rootfs-paths.js';

const run = promisify(execFile);

export interface ContainerServiceOptions {
  store: ContainerStore;
  images: ImagePort;
  rootfs: RootfsPort;
  runtime: OciRuntime;
  cgroupVersion: 1 | 2;
  logs: LogPort;
  /** <data-root>/containers */
  containersDir: string;
  /** <exec-root>/containers: bundles */
  bundlesDir: string;
  /** tini (for --init), or null when not installed. */
  initPath: string | null;
  /** Networks, volumes, supervision: called at every point of a container's life. */
  extensions: ContainerExtension[];
  events: EventBus;
  logger: { warn(msg: string): void; debug(msg: string): void };
}

/** What the service keeps for a container while hakod runs; never persisted. */
interface Live {
  /** Resolved with the exit code at the process's next exit. */
  nextExit: Deferred<number>;
  /** Resolved when the container is removed. */
  removed: Deferred<void>;
  /** Resolved when a pending restart is called off (see #settleRestart); made by `wait`. */
  restartSettled?: Deferred<void>;
  /** Sessions attached before start, connected once the monitor is up. */
  pendingAttach: Set<AttachSession>;
  /** Attached sessions, drained before an auto-remove. */
  sessions: Set<AttachSession>;
  stopRotation: (() => void) | null;
  /** A user's `restart` is stopping it (moby's HasBeenManuallyRestarted): an --rm container stays. */
  restarting?: boolean;
}

export class Containers implements ContainerService {
  readonly #o: ContainerServiceOptions;
  readonly #locks = new KeyedMutex();
  readonly #live = new Map<string, Live>();
  /** Running containers frozen for docker cp, with the number of copies under way (#freezeForCopy). */
  readonly #copyFreezes = new Map<string, number>();
  #stopWatching: (() => void) | null = null;

  constructor(opts: ContainerServiceOptions) {
    this.#o = opts;
    const control = this.#control();
    for (const ext of opts.extensions) ext.bindControl?.(control);
  }

  /** What extensions may do on the engine's behalf (see ContainerControl). */
  #control(): ContainerControl {
    return {
      find: (ref) => this.#o.store.find(ref),
      all: () => this.#o.store.all(),
      startAsEngine: async (id) => {
        const rec = this.#o.store.get(id);
        await this.#locks.run(rec.Id, async () => {
          if (rec.State.Running || rec.State.Status === 'removing' || rec.State.Status === 'dead') return;
          await this.#startProcess(rec);
        });
      },
      stopAsEngine: async (id, opts = {}) => {
        const rec = this.#o.store.get(id);
        if (opts.byUser) this.#markManuallyStopped(rec);
        if (!rec.State.Running) return;
        await this.#stopProcess(rec, opts.timeout === undefined ? {} : { timeout: opts.timeout });
        this.#event(rec, 'stop');
      },
      killAsEngine: async (id, signal) => {
        const rec = this.#o.store.get(id);
        if (rec.State.Running) await this.#signal(rec, parseSignal(signal));
      },
      save: (rec) => {
        this.#o.store.save(rec);
        this.#settleRestart(rec);
      },
      publish: (rec, action, extra) => this.#event(rec, action, extra),
      bundleDir: (rec) => this.bundleDir(rec),
      rootfsDir: (rec) => this.rootfsDir(rec),
    };
  }

  /** A user's stop or kill: no restart policy brings the container back (docker's HasBeenManuallyStopped). */
  #markManuallyStopped(rec: ContainerRecord): void {
    if (rec.ManuallyStopped && !rec.State.Restarting) return;
    rec.ManuallyStopped = true;
    if (rec.State.Restarting && !rec.State.Running) {
      // A restart was pending: cancel it (supervision sees ManuallyStopped) and show it exited.
      rec.State = { ...rec.State, Status: 'exited', Restarting: false };
    }
    this.#o.store.save(rec);
    this.#settleRestart(rec);
  }

  /** A pending restart was called off (a user's stop, a failed restart): the `wait`s on it end. */
  #settleRestart(rec: ContainerRecord): void {
    if (rec.State.Restarting || rec.State.Running) return;
    const live = this.#live.get(rec.Id);
    live?.restartSettled?.resolve();
    if (live) delete live.restartSettled;
  }

  /** Adopts containers that kept running while hakod was away; records those that exited. */
  async restore(): Promise<void> {
    this.#stopWatching = this.#o.runtime.watchExits((id) => void this.#handleExit(id));
    for (const rec of this.#o.store.all()) {
      if (rec.State.Status === 'removing') {
        await this.#removeNow(rec).catch((err) => this.#o.logger.warn(`restore: removing ${rec.Id}: ${String(err)}`));
        continue;
      }
      if (!rec.State.Running) continue;
      const state = await this.#o.runtime.state(rec.Id);
      if (state && (state.status === 'running' || state.status === 'paused') && (await this.#o.runtime.monitorAlive(rec.Id))) {
        rec.State.Paused = state.status === 'paused';
        rec.State.Status = state.status;
        this.#o.store.save(rec);
        this.#startRotation(rec);
        continue;
      }
      await this.#handleExit(rec.Id);
    }
    for (const rec of this.#o.store.all()) {
      for (const ext of this.#o.extensions) {
        try {
          await ext.restored?.(rec);
        } catch (err) {
          this.#o.logger.warn(`${ext.name}: restore of ${rec.Id}: ${String(err)}`);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.#stopWatching?.();
    for (const live of this.#live.values()) live.stopRotation?.();
    for (const ext of [...this.#o.extensions].reverse()) await ext.close?.();
  }

  /** Publishes a container event (exec, health and supervision use it for their actions). */
  publish(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.#event(rec, action, extra);
  }

  /** Docker's container event attributes: image, name and the container's labels. */
  #event(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    const labels = (rec.Config.Labels as Record<string, string> | null) ?? {};
    this.#o.events.publish('container', action, rec.Id, { ...labels, image: String(rec.Config.Image), name: rec.Name, ...extra });
  }

  /** Runs one hook of every extension; teardown hooks run in reverse and never stop each other. */
  async #hook<K extends 'create' | 'prepare' | 'beforeStart' | 'started'>(hook: K, ...args: Parameters<NonNullable<ContainerExtension[K]>>): Promise<void> {
    for (const ext of this.#o.extensions) {
      const fn = ext[hook] as ((...a: unknown[]) => unknown) | undefined;
      if (fn) await fn.apply(ext, args);
    }
  }

  async #teardown<K extends 'stopped' | 'removed'>(hook: K, ...args: Parameters<NonNullable<ContainerExtension[K]>>): Promise<void> {
    for (const ext of [...this.#o.extensions].reverse()) {
      const fn = ext[hook] as ((...a: unknown[]) => unknown) | undefined;
      if (!fn) continue;
      try {
        await fn.apply(ext, args);
      } catch (err) {
        this.#o.logger.warn(`${ext.name}: ${hook} of ${(args[0] as ContainerRecord).Id}: ${String(err)}`);
      }
    }
  }

  #liveOf(id: string): Live {
    let live = this.#live.get(id);
    if (!live) {
      live = { nextExit: new Deferred(), removed: new Deferred(), pendingAttach: new Set(), sessions: new Set(), stopRotation: null };
      this.#live.set(id, live);
    }
    return live;
  }

  #dir(rec: ContainerRecord): string {
    return join(this.#o.containersDir, rec.Id);
  }

  async create(body: Json, opts: { name?: string; platform?: string; scratch?: boolean }): Promise<{ Id: string; Warnings: string[] }> {
    if (typeof body !== 'object' || body === null) throw new InvalidArgument('config cannot be empty in order to create a container');
    const imageRef = body.Image;
    if (typeof imageRef !== 'string' || imageRef === '') throw new InvalidArgument('no image specified: config.Image is required');
    const store = this.#o.store;
    let name: string;
    if (opts.name) {
      name = validateContainerName(opts.name);
      // Checked before the image is resolved; store.add checks again, atomically.
      store.assertNameFree(name);
    } else {
      name = generateContainerName((n) => store.nameTaken(n));
    }
    const image = await this.#o.images.resolve(imageRef);
    const id = newId();
    // As moby's: on the host's network (or UTS namespace) the default hostname is the host's own.
    const hostUts = ['NetworkMode', 'UTSMode'].some((k) => (body.HostConfig as Json | undefined)?.[k] === 'host');
    const config = mergeContainerConfig(body, image.config, hostUts ? hostname() : id.slice(0, 12));
    config.Image = imageRef;
    const { Path, Args } = commandLine(config);
    const hostConfig = normalizeHostConfig(body.HostConfig as Json | undefined);
    this.#o.logs.validate(hostConfig);
    if (hostConfig.Init === true && !this.#o.initPath) {
      throw new InvalidArgument('--init: no init binary found on the host (install tini)');
    }
    const warnings: string[] = [];
    const dir = join(this.#o.containersDir, id);
    const rec: ContainerRecord = {
      Id: id,
      Name: name,
      Created: new Date().toISOString(),
      Path,
      Args,
      Image: image.id,
      ChainId: image.chainId,
      Config: config,
      HostConfig: hostConfig,
      State: initialState(),
      RestartCount: 0,
      LogPath: (hostConfig.LogConfig as Json).Type === 'none' ? '' : join(dir, `${id}-json.log`),
      ResolvConfPath: join(dir, 'resolv.conf'),
      HostnamePath: join(dir, 'hostname'),
      HostsPath: join(dir, 'hosts'),
      Platform: image.os || 'linux',
      ...(opts.scratch ? { Scratch: true } : {}),
    };
    await this.#hook('create', rec, body);
    await mkdir(dir, { recursive: true, mode: 0o710 });
    try {
      await Promise.all([makeInitLayer(join(dir, 'init')), this.#writeEtcFiles(rec)]);
      store.add(rec);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    this.#event(rec, 'create');
    return { Id: id, Warnings: warnings };
  }

  async #writeEtcFiles(rec: ContainerRecord): Promise<void> {
    const hostname = String(rec.Config.Hostname);
    const hc = rec.HostConfig;
    const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    await Promise.all([
      writeFile(rec.HostnamePath, hostnameFile(hostname)),
      writeFile(rec.HostsPath, hostsFile(hostname, (hc.ExtraHosts as string[] | null) ?? [])),
      writeFile(rec.ResolvConfPath, resolvConfFile(hostResolv, (hc.Dns as string[] | null) ?? [], (hc.DnsSearch as string[] | null) ?? [], (hc.DnsOptions as string[] | null) ?? [])),
    ]);
  }

  async inspect(ref: string, opts: { size?: boolean } = {}): Promise<Json> {
    const rec = this.#o.store.get(ref);
    const chain = this.#o.rootfs.lowerDirs(rec.ChainId);
    const dir = this.#dir(rec);
    const view = inspectView(rec, {
      execIds: this.execIdsOf?.(rec.Id) ?? [],
      graphDriverData: {
        LowerDir: chain.join(':'),
        MergedDir: join(dir, 'rootfs'),
        UpperDir: join(dir, 'diff'),
        WorkDir: join(dir, 'work'),
      },
      ...(opts.size ? await this.#sizes(rec) : {}),
    });
    for (const ext of this.#o.extensions) ext.inspect?.(rec, view);
    return view;
  }

  /** Set by the exec service so inspect can list a container's exec ids. */
  execIdsOf?: (containerId: string) => string[];

  async #sizes(rec: ContainerRecord): Promise<{ sizeRw: number; sizeRootFs: number }> {
    const du = async (paths: string[]): Promise<number> => {
      if (paths.length === 0) return 0;
      const { stdout } = await run('du', ['-scb', ...paths]).catch(() => ({ stdout: '' }));
      const total = /(\d+)\s+total\s*$/.exec(stdout.trim());
      return total ? Number(total[1]) : 0;
    };
    const sizeRw = await du([join(this.#dir(rec), 'diff')]);
    const sizeRootFs = sizeRw + (await du(this.#o.rootfs.lowerDirs(rec.ChainId)));
    return { sizeRw, sizeRootFs };
  }

  async list(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters }): Promise<Json[]> {
    let recs = this.#o.store.all().sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
    const filters = opts.filters ?? {};
    const all = opts.all || (opts.limit !== undefined && opts.limit > 0) || (filters.status?.length ?? 0) > 0 || (filters.exited?.length ?? 0) > 0;
    recs = filterContainers(recs, filters, {
      ancestorIds: (r) => this.#o.images.ancestorIds(r),
      find: (r) => this.#o.store.find(r),
    });
    // docker ps without -a shows what is up or about to be again (restarting in its backoff).
    if (!all) recs = recs.filter((r) => r.State.Running || r.State.Restarting);
    for (const ext of this.#o.extensions) if (ext.matches) recs = recs.filter((r) => ext.matches!(r, filters));
    if (opts.limit !== undefined && opts.limit > 0) recs = recs.slice(0, opts.limit);
    const out: Json[] = [];
    for (const rec of recs) {
      const sizes = opts.size ? await this.#sizes(rec) : undefined;
      const row = summaryView(rec, String(rec.Config.Image), sizes && { SizeRw: sizes.sizeRw, SizeRootFs: sizes.sizeRootFs });
      for (const ext of this.#o.extensions) ext.summary?.(rec, row);
      out.push(row);
    }
    return out;
  }

  async start(ref: string): Promise<void> {
    const rec = this.#o.store.get(ref);
    await this.#locks.run(rec.Id, async () => {
      if (rec.State.Paused) throw new Conflict(`cannot start a paused container, try unpause instead`);
      // Waiting out a restart backoff it is running to docker (SetRestarting): 304 as well.
      if (rec.State.Running || rec.State.Restarting) throw new NotModified(`container ${rec.Id} is already running`);
      if (rec.State.Status === 'removing' || rec.State.Status === 'dead') {
        throw new Conflict(`container ${rec.Id} is marked for removal and cannot be started`);
      }
      // A user's start resets the restart policy's count and lifts a user's stop (docker's ResetRestartManager).
      rec.ManuallyStopped = false;
      rec.RestartCount = 0;
      await this.#startProcess(rec);
    });
  }

  async #startProcess(rec: ContainerRecord): Promise<void> {
    const { runtime, rootfs } = this.#o;
    const dir = this.#dir(rec);
    const live = this.#liveOf(rec.Id);
    const root = await this.#mount(rec);
    const bundleDir = join(this.#o.bundlesDir, rec.Id);
    let prepared = false;
    try {
      const user = await resolveUser(root, String(rec.Config.User ?? ''), (rec.HostConfig.GroupAdd as string[] | null) ?? []);
      const settings = runtimeSettingsOf({
        id: rec.Id,
        rootfs: root,
        config: rec.Config,
        hostConfig: rec.HostConfig,
        argv: [rec.Path, ...rec.Args],
        user,
        etcFiles: { hosts: rec.HostsPath, hostname: rec.HostnamePath, resolvConf: rec.ResolvConfPath },
        initPath: rec.HostConfig.Init === true ? this.#o.initPath : null,
        cgroupVersion: this.#o.cgroupVersion,
      });
      prepared = true;
      await this.#hook('prepare', rec, settings);
      const spec = buildOciSpec(settings);
      await mkdir(bundleDir, { recursive: true, mode: 0o700 });
      const { pid } = await runtime.create(rec.Id, {
        bundleDir,
        spec,
        logPath: rec.LogPath || null,
        terminal: Boolean(rec.Config.Tty),
        stdin: Boolean(rec.Config.OpenStdin),
        stdinOnce: Boolean(rec.Config.StdinOnce),
        name: rec.Name,
        onMonitorStarted: () => {
          for (const ext of this.#o.extensions) ext.creating?.(rec);
        },
      });
      // Attach before the process runs, so an attached client sees its first byte.
      for (const session of live.pendingAttach) {
        live.pendingAttach.delete(session);
        if (!session.closed) session.connect(await runtime.attach(rec.Id));
      }
      await this.#hook('beforeStart', rec);
      await runtime.start(rec.Id);
      rec.State = {
        ...rec.State,
        Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(),
      };
      this.#o.store.save(rec);
      this.#startRotation(rec);
      this.#event(rec, 'start');
      await this.#hook('started', rec);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      rec.State.Error = message;
      rec.State.ExitCode = exitCodeForStartError(message);
      this.#o.store.save(rec);
      await runtime.delete(rec.Id, { force: true }).catch(() => undefined);
      if (prepared) await this.#teardown('stopped', rec);
      await rootfs.unmount(dir).catch(() => undefined);
      for (const session of live.pendingAttach) session.close();
      live.pendingAttach.clear();
      // docker removes an auto-remove container whose start failed; `wait removed` ends then.
      if (rec.HostConfig.AutoRemove) queueMicrotask(() => void this.remove(rec.Id, { force: true }).catch(() => undefined));
      throw err;
    }
  }

  #startRotation(rec: ContainerRecord): void {
    if (!rec.LogPath) return;
    const live = this.#liveOf(rec.Id);
    live.stopRotation?.();
    live.stopRotation = this.#o.logs.rotate(rec.LogPath, rec.HostConfig, () => this.#o.runtime.reopenLog(rec.Id));
  }

  /** Called for every exit conmon records; serialised with the container's other operations. */
  async #handleExit(id: string): Promise<void> {
    const rec = this.#o.store.find(id);
    if (!rec || rec.Id !== id) return;
    let exitCode = 0;
    const handled = await this.#locks.run(id, async () => {
      if (!rec.State.Running) return false;
      const status = await this.#o.runtime.exitInfo(id);
      if (!status) return false;
      exitCode = status.exitCode;
      const live = this.#liveOf(id);
      live.stopRotation?.();
      live.stopRotation = null;
      rec.State = {
        ...rec.State,
        Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0,
        ExitCode: status.exitCode, OOMKilled: status.oomKilled, FinishedAt: status.exitedAt.toISOString(),
      };
      this.#o.store.save(rec);
      // Independent of each other, and every `wait` is held until they are done: side by side.
      const cleanup = Promise.all([
        this.#o.runtime.delete(id, { force: true, exited: true }).catch((err) => this.#o.logger.warn(`delete ${id}: ${String(err)}`)),
        this.#o.rootfs.unmount(this.#dir(rec)).catch((err) => this.#o.logger.warn(`unmount ${id}: ${String(err)}`)),
      ]);
      // config.json and conmon's sockets on the exec root: removed here meanwhile, not queued on the
      // thread pool behind the cgroup rmdirs.
      rmSync(join(this.#o.bundlesDir, id), { recursive: true, force: true });
      await cleanup;
      await this.#teardown('stopped', rec);
      if (status.oomKilled) this.#event(rec, 'oom');
      this.#event(rec, 'die', { exitCode: String(status.exitCode) });
      return true;
    });
    if (!handled) return;
    const live = this.#liveOf(id);
    const waiter = live.nextExit;
    live.nextExit = new Deferred();
    waiter.resolve(exitCode);
    if (rec.HostConfig.AutoRemove && !live.restarting) {
      // Whoever is attached gets every byte before the container disappears.
      await Promise.all([...live.sessions].map((s) => new Promise<void>((r) => (s.closed ? r() : s.onClose(r)))));
      await this.remove(id, { force: true }).catch((err) => {
        if (!(err instanceof NotFound)) this.#o.logger.warn(`auto-remove ${id}: ${String(err)}`);
      });
    }
  }

  async stop(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.#o.store.get(ref);
    const restarting = rec.State.Restarting && !rec.State.Running;
    this.#markManuallyStopped(rec);
    if (restarting) return;
    if (!rec.State.Running) throw new NotModified(`container ${rec.Id} is already stopped`);
    await this.#stopProcess(rec, opts);
    this.#event(rec, 'stop');
  }

  async #stopProcess(rec: ContainerRecord, opts: { signal?: string; timeout?: number }): Promise<void> {
    const signal = parseSignal(opts.signal || String(rec.Config.StopSignal || 'SIGTERM'));
    const configured = rec.Config.StopTimeout;
    const timeout = opts.timeout ?? (typeof configured === 'number' ? configured : 10);
    const exited = this.#liveOf(rec.Id).nextExit.promise;
    await this.#signal(rec, signal);
    if (timeout < 0) {
      await exited;
      return;
    }
    const inTime = await Promise.race([exited.then(() => true), sleep(timeout * 1000).then(() => false)]);
    if (inTime) return;
    this.#o.logger.debug(`container ${rec.Id} did not exit within ${timeout}s of signal ${signal}; killing`);
    await this.#signal(rec, 9);
    await exited;
  }

  async #signal(rec: ContainerRecord, signal: number): Promise<void> {
    try {
      await this.#o.runtime.kill(rec.Id, signal);
      this.#event(rec, 'kill', { signal: String(signal) });
      // A frozen process cannot act on a signal; docker thaws it after a kill.
      if (rec.State.Paused && (signal === 9 || signal === 15)) await this.unpause(rec.Id).catch(() => undefined);
    } catch (err) {
      if (!rec.State.Running) return; // it exited meanwhile
      // Its process is gone but the exit is not handled yet (conmon is writing it down, or it waits
      // for this container's lock): the caller's wait for that exit ends soon.
      if ((await this.#o.runtime.exitCode(rec.Id)) !== null) return;
      if ((await this.#o.runtime.state(rec.Id).catch(() => null))?.status === 'stopped') return;
      throw err;
    }
  }

  async restart(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.#o.store.get(ref);
    // Stopped by the user for a moment: no restart policy may start it meanwhile.
    this.#markManuallyStopped(rec);
    const live = this.#liveOf(rec.Id);
    live.restarting = true;
    try {
      if (rec.State.Running) {
        await this.#stopProcess(rec, opts);
        this.#event(rec, 'stop'); // docker: kill, die, stop, start, restart
      }
      await this.#locks.run(rec.Id, async () => {
        if (rec.State.Running) return;
        rec.ManuallyStopped = false;
        rec.RestartCount = 0;
        await this.#startProcess(rec);
      });
    } finally {
      live.restarting = false;
    }
    this.#event(rec, 'restart');
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.#o.store.get(ref);
    const n = parseSignal(signal || 'SIGKILL');
    // Killing it with SIGKILL or its stop signal is a user's stop (docker's ExitOnNext); other signals are messages.
    const stops = n === 9 || n === parseSignal(String(rec.Config.StopSignal || 'SIGTERM'));
    // Not running and no restart pending may be an exit still being handled (under the container's
    // lock): whether its restart policy brings it back is decided there. Wait for that first.
    if (!rec.State.Running && !rec.State.Restarting) await this.#locks.run(rec.Id, async () => undefined);
    if (!rec.State.Running && rec.State.Restarting) {
      // Waiting out its restart backoff, no process to signal: docker cancels the restart and succeeds.
      if (stops) this.#markManuallyStopped(rec);
      return;
    }
    if (!rec.State.Running) throw new Conflict(`cannot kill container: ${ref}: container ${rec.Id} is not running`);
    if (stops) this.#markManuallyStopped(rec);
    await this.#signal(rec, n);
  }

  async wait(ref: string, condition: string, signal?: AbortSignal): Promise<{ StatusCode: number; Error?: { Message: string } | null }> {
    const rec = this.#o.store.get(ref);
    const cond = condition || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) {
      throw new InvalidArgument(`invalid condition: "${condition}"`);
    }
    const live = this.#liveOf(rec.Id);
    let done: Promise<unknown>;
    if (cond === 'not-running') {
      // Waiting out a restart backoff it is running to docker (SetRestarting): the wait ends at its
      // next exit, or when the restart is called off or the container removed.
      done = rec.State.Running ? live.nextExit.promise
        : rec.State.Restarting ? Promise.race([live.nextExit.promise, (live.restartSettled ??= new Deferred()).promise, live.removed.promise])
          : Promise.resolve();
    }
    else if (cond === 'next-exit') done = live.nextExit.promise;
    else done = live.removed.promise;
    if (signal) {
      done = Promise.race([done, new Promise((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      })]);
    }
    // A removal clears the error (moby's SetRemovalError(nil)): `docker run --rm` waits with
    // condition=removed and would log a failed start's error a second time, before its own.
    await done;
    const removed = this.#live.get(rec.Id) !== live; // #removeNow drops it
    return { StatusCode: rec.State.ExitCode, Error: rec.State.Error && !removed ? { Message: rec.State.Error } : null };
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    if (opts.link) throw new InvalidArgument('legacy links are not supported');
    const rec = this.#o.store.get(ref);
    if (rec.State.Restarting && !rec.State.Running && !opts.force) {
      // "running" to the API while it waits out its backoff, as docker's.
      throw new Conflict(`cannot remove container "/${rec.Name}": container is restarting: stop the container before removing or force remove`);
    }
    // With force, a start that was still under way when the removal came (its process may already
    // be gone) is waited out and its process killed, as often as it takes.
    for (;;) {
      if (rec.State.Running) {
        if (!opts.force) {
          const what = rec.State.Paused ? 'paused' : 'running';
          throw new Conflict(
            `cannot remove container "/${rec.Name}": container is ${what}: ${rec.State.Paused ? 'unpause and ' : ''}stop the container before removing or force remove`,
          );
        }
        // No restart policy may bring it back between the kill and the removal.
        this.#markManuallyStopped(rec);
        const exited = this.#liveOf(rec.Id).nextExit.promise;
        await this.#signal(rec, 9);
        await exited;
      }
      const removed = await this.#locks.run(rec.Id, async () => {
        if (!this.#o.store.find(rec.Id)) return true;
        if (rec.State.Running) return false;
        await this.#removeNow(rec, Boolean(opts.volumes));
        return true;
      });
      if (removed) return;
      if (!opts.force) throw new Conflict(`container ${rec.Id} was started again while being removed`);
    }
  }

  async #removeNow(rec: ContainerRecord, volumes = false): Promise<void> {
    rec.State.Status = 'removing';
    this.#o.store.save(rec);
    await this.#teardown('removed', rec, { volumes });
    const dir = this.#dir(rec);
    // After an exit was handled runc holds nothing: skip a runc spawn on the `rm` path.
    if (await this.#o.runtime.holds(rec.Id)) await this.#o.runtime.delete(rec.Id, { force: true }).catch(() => undefined);
    await this.#o.rootfs.unmount(dir);
    await rm(join(this.#o.bundlesDir, rec.Id), { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    this.#o.store.remove(rec);
    const live = this.#live.get(rec.Id);
    this.#live.delete(rec.Id);
    live?.stopRotation?.();
    this.#event(rec, 'destroy');
    live?.removed.resolve();
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.#o.store.get(ref);
    if (!newName) throw new InvalidArgument('Neither old nor new names may be empty');
    const name = validateContainerName(newName);
    if (name === rec.Name) throw new InvalidArgument(`Renaming a container with the same name as its current name`);
    const oldName = rec.Name;
    this.#o.store.rename(rec, name);
    this.#event(rec, 'rename', { oldName: `/${oldName}` });
  }

  /**
   * POST /containers/{id}/update. Extensions apply the keys they own (supervision: RestartPolicy);
   * a key nobody applies is refused before anything changes, so an update is all or nothing.
   */
  async update(ref: string, body: Json): Promise<{ Warnings: string[] }> {
    const rec = this.#o.store.get(ref);
    const owned = new Set(this.#o.extensions.flatMap((e) => e.updateKeys ?? []));
    // --- resource limits (issue #3): validated on the merged HostConfig, applied live by runc ---
    for (const k of UPDATABLE_RESOURCE_KEYS) owned.add(k);
    const resourceChange = resourceUpdate(rec.HostConfig, body, { cpus: availableParallelism(), cgroupVersion: this.#o.cgroupVersion });
    const unapplied = Object.entries(body).filter(([k, v]) => !owned.has(k) && isSetValue(v)).map(([k]) => k);
    if (unapplied.length > 0) {
      throw new NotImplemented(
        `updating ${unapplied.join(', ')} of container "${rec.Name}" is not implemented yet; recreate the container with the new settings`,
      );
    }
    await this.#locks.run(rec.Id, async () => {
      if (resourceChange) {
        if (rec.State.Running) await this.#o.runtime.update(rec.Id, resourceChange.resources);
        Object.assign(rec.HostConfig, resourceChange.patch);
      }
      for (const ext of this.#o.extensions) if (ext.update) ext.update(rec, body);
      this.#o.store.save(rec);
    });
    this.#event(rec, 'update');
    return { Warnings: [] };
  }

  async pause(ref: string): Promise<void> {
    const rec = this.#o.store.get(ref);
    await this.#locks.run(rec.Id, async () => {
      if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
      if (rec.State.Paused) throw new Conflict(`Container ${rec.Id} is already paused`);
      if (!this.#copyFreezes.has(rec.Id)) await this.#o.runtime.pause(rec.Id); // a cp's freeze stays
      rec.State.Paused = true;
      rec.State.Status = 'paused';
      this.#o.store.save(rec);
      this.#event(rec, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.#o.store.get(ref);
    await this.#locks.run(rec.Id, async () => {
      if (!rec.State.Paused) throw new Conflict(`Container ${rec.Id} is not paused`);
      if (!this.#copyFreezes.has(rec.Id)) await this.#o.runtime.resume(rec.Id); // the cp thaws it
      rec.State.Paused = false;
      rec.State.Status = 'running';
      this.#o.store.save(rec);
      this.#event(rec, 'unpause');
    });
  }

  async top(ref: string, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
    const rec = this.#o.store.get(ref);
    if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
    const pids = new Set(await this.#o.runtime.ps(rec.Id));
    const args = psArgs.trim() === '' ? ['-ef'] : psArgs.trim().split(/\s+/);
    let stdout: string;
    try {
      ({ stdout } = await run('ps', args, { maxBuffer: 16 << 20 }));
    } catch (err) {
      throw new InvalidArgument(`Error running ps: ${(err as Error).message}`);
    }
    return parsePs(stdout, pids);
  }

  async logs(ref: string, opts: LogOptions): Promise<{ tty: boolean; entries: AsyncIterable<OutputChunk> }> {
    const rec = this.#o.store.get(ref);
    const driver = String((rec.HostConfig.LogConfig as Json).Type);
    if (!rec.LogPath) {
      throw new NotImplemented(`configured logging driver does not support reading: ${driver}`);
    }
    const stopWhen = rec.State.Running ? this.#liveOf(rec.Id).nextExit.promise : Promise.resolve();
    const entries = this.#o.logs.read(rec.LogPath, rec.HostConfig, {
      follow: opts.follow, tail: opts.tail, since: opts.since, until: opts.until,
      stdout: opts.stdout, stderr: opts.stderr, signal: opts.signal, stopWhen,
    });
    // Timestamps are added by api/ from each entry's time.
    return { tty: Boolean(rec.Config.Tty), entries };
  }

  async attach(ref: string, opts: AttachOptions): Promise<StdioSession> {
    const rec = this.#o.store.get(ref);
    if (rec.State.Paused) throw new Conflict(`You cannot attach to a paused container, unpause it first`);
    let detachKeys: Buffer | null;
    try {
      detachKeys = parseDetachKeys(opts.detachKeys);
    } catch (err) {
      throw new InvalidArgument((err as Error).message);
    }
    const session = new AttachSession({
      tty: Boolean(rec.Config.Tty),
      stdin: opts.stdin && Boolean(rec.Config.OpenStdin),
      stdout: opts.stdout,
      stderr: opts.stderr,
      detachKeys,
    });
    const live = this.#liveOf(rec.Id);
    live.sessions.add(session);
    session.onClose(() => {
      live.sessions.delete(session);
      live.pendingAttach.delete(session);
    });
    if (opts.logs && rec.LogPath) {
      for await (const chunk of this.#o.logs.read(rec.LogPath, rec.HostConfig, {
        follow: false, tail: 'all', since: 0, until: 0, stdout: opts.stdout, stderr: opts.stderr,
      })) {
        await session.replay(chunk);
      }
    }
    this.#event(rec, 'attach'); // docker's, after the logs replay (daemon/attach.go)
    if (!opts.stream) {
      session.close();
      return session;
    }
    await this.#locks.run(rec.Id, async () => {
      if (rec.State.Running) session.connect(await this.#o.runtime.attach(rec.Id));
      else live.pendingAttach.add(session);
    });
    return session;
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const rec = this.#o.store.get(ref);
    if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
    if (!rec.Config.Tty) return;
    await this.#o.runtime.resize(rec.Id, height, width);
  }

  /** What is mounted over the rootfs: the engine's /etc files, then what extensions mount (volumes, binds). */
  #mountPoints(rec: ContainerRecord): MountPoint[] {
    const owners = this.#o.extensions.filter((e) => e.mountPoints);
    if (owners.length > 0) {
      return [
        { destination: '/etc/hostname', source: rec.HostnamePath },
        { destination: '/etc/hosts', source: rec.HostsPath },
        { destination: '/etc/resolv.conf', source: rec.ResolvConfPath },
        ...owners.flatMap((e) => e.mountPoints!(rec)),
      ];
    }
    const binds = ((rec.HostConfig.Binds as string[] | null) ?? [])
      .map((b) => b.split(':'))
      .filter((p) => p.length >= 2 && p[0]?.startsWith('/'))
      .map((p) => ({ source: p[0] as string, destination: p[1] as string }));
    return [
      { destination: '/etc/hostname', source: rec.HostnamePath },
      { destination: '/etc/hosts', source: rec.HostsPath },
      { destination: '/etc/resolv.conf', source: rec.ResolvConfPath },
      ...binds,
    ];
  }

  #mount(rec: ContainerRecord): Promise<string> {
    // As podman's --rm: a container removed at exit (or a build step's) needs no durability, so its
    // unmount need not write back the host filesystem (that sync is most of an unmount's time under I/O load).
    const volatile = rec.HostConfig.AutoRemove === true || rec.Scratch === true;
    // `--userns=host` on a remapping daemon: real ids, so the layers are not idmapped (src/userns/).
    return this.#o.rootfs.mount(rec.ChainId, this.#dir(rec), { initDir: join(this.#dir(rec), 'init'), volatile, ...(rec.HostConfig.UsernsMode === 'host' ? { idmap: false } : {}) });
  }

  /** Runs fn with the container's rootfs mounted, mounting it for the call if it is stopped. */
  async #withRootfs<T>(rec: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
    const dir = this.#dir(rec);
    const root = await this.#mount(rec);
    try {
      return await fn(root);
    } finally {
      if (!rec.State.Running) await this.#o.rootfs.unmount(dir).catch(() => undefined);
    }
  }

  async changes(ref: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>> {
    const rec = this.#o.store.get(ref);
    return this.#o.rootfs.changes(join(this.#dir(rec), 'diff'), this.#o.rootfs.lowerDirs(rec.ChainId));
  }

  async export(ref: string): Promise<Readable> {
    const rec = this.#o.store.get(ref);
    return this.#streamWithRootfs(rec, (root) => this.#o.rootfs.tarPath(root, { name: '.', unmapped: rec.HostConfig.UsernsMode === 'host' }));
  }

  // Keeps the rootfs mounted until the stream has been read to its end (or torn down).
  async #streamWithRootfs(rec: ContainerRecord, make: (root: string) => Readable): Promise<Readable> {
    const dir = this.#dir(rec);
    const root = await this.#mount(rec);
    const stream = make(root);
    const release = (): void => {
      if (!rec.State.Running && this.#o.store.find(rec.Id)) void this.#o.rootfs.unmount(dir).catch(() => undefined);
    };
    stream.once('close', release);
    return stream;
  }

  /**
   * docker cp (stat, archive out, archive in) freezes a running container for the copy's length
   * (runc pause; no event, State unchanged), so no process in it can swap a path component for a
   * symlink between our resolving a path inside its rootfs and our use of it (CVE-2018-15664).
   * A paused or stopped container is left as it is; copies at once share one freeze. Resolves
   * with the release (idempotent), which thaws the container after the last copy, unless the
   * user paused it meanwhile; call it in `finally`.
   */
  async #freezeForCopy(rec: ContainerRecord): Promise<() => Promise<void>> {
    const frozen = await this.#locks.run(rec.Id, async () => {
      const held = this.#copyFreezes.get(rec.Id) ?? 0;
      if (held === 0 && (!rec.State.Running || rec.State.Paused)) return false;
      if (held === 0) await this.#o.runtime.pause(rec.Id);
      this.#copyFreezes.set(rec.Id, held + 1);
      return true;
    });
    let released = !frozen;
    return async () => {
      if (released) return;
      released = true;
      await this.#locks.run(rec.Id, async () => {
        const left = (this.#copyFreezes.get(rec.Id) ?? 1) - 1;
        if (left > 0) return void this.#copyFreezes.set(rec.Id, left);
        this.#copyFreezes.delete(rec.Id);
        if (!rec.State.Running || rec.State.Paused) return;
        await this.#o.runtime.resume(rec.Id).catch((err) => this.#o.logger.warn(`thaw ${rec.Id} after cp: ${String(err)}`));
      });
    };
  }

  async statPath(ref: string, path: string): Promise<ArchiveStat> {
    const rec = this.#o.store.get(ref);
    const release = await this.#freezeForCopy(rec);
    try {
      return await this.#withRootfs(rec, (root) => {
        const v = viewOf(root, this.#mountPoints(rec), path);
        return statInRoot(v.root, v.path, path);
      });
    } finally {
      await release();
    }
  }

  async getArchive(ref: string, path: string): Promise<{ stat: ArchiveStat; tar: Readable }> {
    const rec = this.#o.store.get(ref);
    const dir = this.#dir(rec);
    const release = await this.#freezeForCopy(rec);
    try {
      const root = await this.#mount(rec);
      try {
        const v = viewOf(root, this.#mountPoints(rec), path);
        const stat = await statInRoot(v.root, v.path, path);
        const target = await resolveInRoot(v.root, v.path, { followFinal: path.endsWith('/') || path.endsWith('/.') });
        const name = path.endsWith('/.') ? '.' : stat.name;
        const tar = await this.#streamWithRootfs(rec, () => this.#o.rootfs.tarPath(target, { name, unmapped: rec.HostConfig.UsernsMode === 'host' }));
        // Frozen until the tar has been read to its end or torn down.
        tar.once('close', () => void release());
        return { stat, tar };
      } catch (err) {
        if (!rec.State.Running) await this.#o.rootfs.unmount(dir).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      await release();
      throw err;
    }
  }

  async putArchive(ref: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }): Promise<void> {
    const rec = this.#o.store.get(ref);
    if (rec.HostConfig.ReadonlyRootfs) throw new InvalidArgument('container rootfs is marked read-only');
    const release = await this.#freezeForCopy(rec);
    try {
      await this.#withRootfs(rec, async (root) => {
        const v = viewOf(root, this.#mountPoints(rec), path);
        const stat = await statInRoot(v.root, v.path, path);
        if ((stat.mode & 0x80000000) === 0) throw new InvalidArgument(`extraction point is not a directory: ${path}`);
        const dest = await resolveInRoot(v.root, v.path, { followFinal: true });
        const shownAs = posix.normalize(`/${path}`).replace(/(.)\/+$/, '$1');
        // cp -a (copyUIDGID): everything belongs to the container's user (moby's tarCopyOptions);
        // without it, or without a Config.User, the tar's own owners are kept.
        const user = String(rec.Config.User ?? '');
        const owner = opts.copyUIDGID && user ? await resolveUser(root, user) : undefined;
        await this.#o.rootfs.extractTar(tar, dest, {
          ...(opts.noOverwriteDirNonDir ? { noOverwriteDirNonDir: { shownAs } } : {}),
          ...(owner ? { owner: { uid: owner.uid, gid: owner.gid } } : {}),
          unmapped: rec.HostConfig.UsernsMode === 'host',
        });
      });
    } finally {
      await release();
    }
  }

  async prune(filters: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const key of Object.keys(filters)) {
      if (key !== 'until' && key !== 'label' && key !== 'label!') throw new InvalidArgument(`invalid filter '${key}'`);
    }
    const until = filters.until?.[0] ? parseUntil(filters.until[0]) : Infinity;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const rec of this.#o.store.all()) {
      if (rec.State.Running || rec.State.Status === 'removing') continue;
      if (Date.parse(rec.Created) >= until) continue;
      const labels = (rec.Config.Labels as Record<string, string>) ?? {};
      if (!(filters.label ?? []).every((l) => labelMatches(labels, l))) continue;
      if ((filters['label!'] ?? []).some((l) => labelMatches(labels, l))) continue;
      const size = (await this.#sizes(rec)).sizeRw;
      try {
        await this.remove(rec.Id, {});
        deleted.push(rec.Id);
        reclaimed += size;
      } catch (err) {
        if (!isHakoError(err)) throw err;
      }
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  async commit(ref: string, opts: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: Json }): Promise<{ Id: string }> {
    const rec = this.#o.store.get(ref);
    const shouldPause = opts.pause !== false && rec.State.Running && !rec.State.Paused;
    if (shouldPause) await this.pause(rec.Id);
    try {
      const dir = this.#dir(rec);
      return await this.#withRootfs(rec, async () =>
        this.#o.images.commit({
          parentId: rec.Image,
          layerTar: this.#o.rootfs.layerTar(join(dir, 'diff'), this.#o.rootfs.lowerDirs(rec.ChainId), { unmapped: rec.HostConfig.UsernsMode === 'host' }),
          config: { ...rec.Config, ...(opts.config ?? {}) },
          container: rec.Id,
          createdBy: [rec.Path, ...rec.Args].join(' '),
          comment: opts.comment,
          author: opts.author,
          changes: opts.changes,
          repo: opts.repo,
          tag: opts.tag,
        }),
      );
    } finally {
      if (shouldPause) await this.unpause(rec.Id).catch(() => undefined);
    }
  }

  /** Used by the exec service and images (which containers use an image). */
  recordOf(ref: string): ContainerRecord {
    return this.#o.store.get(ref);
  }

  usingImage(imageId: string): Array<{ id: string; running: boolean }> {
    return this.#o.store.all().filter((r) => r.Image === imageId).map((r) => ({ id: r.Id, running: r.State.Running }));
  }

  rootfsDir(rec: ContainerRecord): string {
    return join(this.#dir(rec), 'rootfs');
  }

  bundleDir(rec: ContainerRecord): string {
    return join(this.#o.bundlesDir, rec.Id);
  }
}

/**
 * Docker's CLI turns these runtime messages into exit codes 127 (not found) and 126 (cannot
 * invoke); the container's State.ExitCode says the same.
 */
export function exitCodeForStartError(message: string): number {
  return startFailureExitCode(message) ?? 128;
}

/** The mount points the engine binds over, as empty files in a layer under the container's. */
async function makeInitLayer(dir: string): Promise<void> {
  await mkdir(join(dir, 'etc'), { recursive: true, mode: 0o755 });
  await Promise.all(['hostname', 'hosts', 'resolv.conf'].map((f) => writeFile(join(dir, 'etc', f), '', { mode: 0o644 })));
}

function parsePs(stdout: string, pids: Set<number>): { Titles: string[]; Processes: string[][] } {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift() ?? '';
  const titles = header.trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new InvalidArgument(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidCol]);
    if (!pids.has(pid)) continue;
    // The last column (command) may contain spaces: keep it whole.
    const head = fields.slice(0, titles.length - 1);
    head.push(fields.slice(titles.length - 1).join(' '));
    processes.push(head);
  }
  return { Titles: titles, Processes: processes };
}

function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const m = /^(\d+)(s|m|h)$/.exec(v);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid filter 'until=${v}'`);
  return t;
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  return eq < 0 ? filter in labels : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** Whether an update body field asks for a change (docker's CLI sends every resource field, zeroed). */
function isSetValue(v: unknown): boolean {
  if (v === null || v === undefined || v === 0 || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v as Json).some(isSetValue);
  return true;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export { shortId };
