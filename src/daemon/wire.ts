/**
 * The composition root: the one place that builds storage, images, runtime and logs, adapts
 * them to the engine's ports, and hands the engine to the API server. Nothing else constructs a
 * subsystem.
 */
import { chmod, chown, mkdir, readFile, writeFile, rm, stat } from 'node:fs/promises';
import { closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ContentStore, LayerStore, openMetadataDb, changesOf, tarUpperAsLayer, tarDirectory, applyLayerTar } from '../storage/index.js';
import { createImageService, familiarString, parseReference } from '../images/index.js';
import { ConmonRuncRuntime, detectCgroupVersion, findInitBinary, lookPath } from '../runtime/index.js';
import { readLogs, logFiles, createLogRotator, parseLogOpts } from '../logs/index.js';
import { createEngine, EventBus, RunOptionsExtension, Supervisor, type Engine, type RegistryClientService, type ImagePort, type Json, type LogPort, type RootfsPort, type ImageRuntimeConfig } from '../engine/index.js';
import { createVolumes } from '../volumes/index.js';
import { idMappers, openUserNamespace, RemappedNetHost, resolveRemap, UsernsExtension } from '../userns/index.js';
import { NetworkManager, networkConfigOf } from '../network/index.js';
import { RegistryService } from '../registry/index.js';
import { InvalidArgument } from '../errdefs/index.js';
import { Builder, bootstrapImage } from '../build/index.js';
import type { DaemonConfig } from './config.js';

export interface BuiltEngine {
  engine: Engine;
  /**
   * Stops health checks and restart policies, then — unless live-restore is set — stops every
   * running container gracefully, and closes the engine.
   */
  close(): Promise<void>;
  /** How long close() may take (docker's ShutdownTimeout: the longest stop timeout + 5 s); -1: no bound. */
  shutdownGraceMs(): number;
}

interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export async function buildEngine(config: DaemonConfig, logger?: Logger): Promise<BuiltEngine> {
  const log: Logger = logger ?? { debug() {}, info() {}, warn: (m) => console.error(m), error: (m) => console.error(m) };
  // userns-remap: as dockerd, a data root of its own per remapped root (<data-root>/<uid>.<gid>),
  // which the remapped root may traverse (group), below a top that others may only pass through.
  const remap = config.usernsRemap ? await resolveRemap(config.usernsRemap) : null;
  if (remap) {
    await mkdir(config.dataRoot, { recursive: true, mode: 0o701 });
    await chmod(config.dataRoot, 0o701);
    await checkSearchable(dirname(config.dataRoot), remap.uid);
  }
  const dataRoot = remap ? join(config.dataRoot, `${remap.uid}.${remap.gid}`) : config.dataRoot;
  const execRoot = config.execRoot;
  await mkdir(dataRoot, { recursive: true, mode: 0o710 });
  await mkdir(execRoot, { recursive: true, mode: 0o700 });
  await mkdir(join(dataRoot, 'containers'), { recursive: true, mode: 0o710 });
  if (remap) {
    for (const dir of [dataRoot, join(dataRoot, 'containers')]) await chown(dir, 0, remap.gid);
    log.info(`userns-remap "${remap.spec}": container root is ${remap.uid}:${remap.gid} on the host (${remap.user}:${remap.group})`);
  }
  const usernsFd = remap ? await openUserNamespace(remap.uidMappings, remap.gidMappings) : null;
  await mkdir(join(execRoot, 'bundles'), { recursive: true, mode: 0o700 });
  const tmpDir = join(dataRoot, 'tmp');
  // Whatever a crash left half-written here is garbage by definition.
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });

  const meta = openMetadataDb(join(dataRoot, 'hako.db'));
  const content = new ContentStore(join(dataRoot, 'content'));
  const layers = new LayerStore({
    root: join(dataRoot, 'overlay'),
    db: meta,
    ...(remap && usernsFd !== null ? { idmap: { usernsFd, uid: remap.uid, gid: remap.gid } } : {}),
  });
  let usingImage: (id: string) => Array<{ id: string; running: boolean }> = () => [];
  // Image events go onto engine.events once it exists (set below).
  let imageEvent: (action: string, id: string, name: string) => void = () => {};
  const images = createImageService({
    db: meta,
    content,
    layers,
    containersUsingImage: (id: string) => usingImage(id),
    tmpDir,
    onEvent: (action, id, name) => imageEvent(action, id, name),
  });

  // Nothing pulls, loads or builds yet: whatever no image names is what a crash left behind.
  const garbage = await images.collectGarbage();
  if (garbage.blobs > 0 || garbage.layerDirs > 0) {
    log.info(`removed what an interrupted operation left: ${garbage.blobs} unreferenced blob(s) (${garbage.bytes} bytes), ${garbage.layerDirs} layer dir(s) without a record`);
  }

  const registryService = new RegistryService({
    content,
    images,
    tmpDir,
    insecureRegistries: stringListOption(config.extra?.['insecure-registries'], 'insecure-registries'),
    mirrors: stringListOption(config.extra?.['registry-mirrors'], 'registry-mirrors'),
    logger: log,
  });
  const registry: RegistryClientService = {
    async pull(ref, o) {
      await registryService.pull({ ref, platform: o.platform, auth: o.auth, progress: o.progress, signal: o.signal });
      // moby: LogImageEvent(FamiliarString(ref), FamiliarName(ref), "pull").
      const r = parseReference(ref);
      imageEvent('pull', familiarString(r), familiarString({ ...r, tag: null, digest: null }));
    },
    async push(ref, o) {
      await registryService.push({ ref, tag: o.tag, auth: o.auth, progress: o.progress, signal: o.signal });
      const r = parseReference(o.tag ? `${ref}:${o.tag}` : ref);
      imageEvent('push', familiarString(r), familiarString({ ...r, tag: null, digest: null }));
    },
    login: (auth) => registryService.login(auth),
    search: async (term, o) => (await registryService.search(term, { ...(o.limit ? { limit: o.limit } : {}), auth: o.auth ?? null })) as unknown as Json[],
  };

  const runtimeName = config.runtime;
  const runtimePath = lookPath(config.runtimes?.[runtimeName]?.path ?? runtimeName) ?? runtimeName;
  const runtime = new ConmonRuncRuntime({ runtimePath, execRoot, logLevel: config.logLevel === 'debug' ? 'debug' : 'error' });

  const imagePort: ImagePort = {
    async resolve(ref) {
      const img = images.resolve(ref);
      const cfg = await images.config(img.id);
      return { id: img.id, chainId: img.chainId, config: (cfg.config ?? {}) as ImageRuntimeConfig, os: cfg.os ?? 'linux' };
    },
    ancestorIds(ref) {
      try {
        const id = images.resolve(ref).id;
        return new Set([id, ...images.descendants(id)]);
      } catch {
        return new Set();
      }
    },
    commit: (o) => images.commit({ ...o, config: o.config as Parameters<typeof images.commit>[0]['config'] }),
  };

  // userns-remap: tars of a container (cp, export, commit) carry the container's ids, not the host's.
  const ids = remap ? idMappers(remap) : null;
  const rootfs: RootfsPort = {
    mount: (chainId, dir, opts) => layers.mountRootfs(chainId, dir, opts),
    unmount: (dir) => layers.unmountRootfs(dir),
    lowerDirs: (chainId) => (chainId ? layers.lowerDirs(chainId) : []),
    changes: (upper, lowers) => changesOf(upper, lowers),
    layerTar: (upper, lowers, opts) => tarUpperAsLayer(upper, lowers, ids && !opts?.unmapped ? { mapIds: ids.toContainer } : {}),
    tarPath: (path, opts) => tarDirectory(path, {
      ...(opts.name && opts.name !== '.' ? { includeRoot: true, rebaseName: opts.name } : {}),
      ...(ids && !opts.unmapped ? { mapIds: ids.toContainer } : {}),
    }),
    async extractTar(tar: Readable, dir: string, { owner, unmapped, ...opts } = {}) {
      const toHost = unmapped ? undefined : ids?.toHost;
      const mapIds = owner ? (): [number, number] => (toHost ? toHost(owner.uid, owner.gid) : [owner.uid, owner.gid]) : toHost;
      await applyLayerTar(tar, dir, { mode: 'flatten', ...opts, ...(mapIds ? { mapIds } : {}) });
    },
  };

  const logOf = (hc: Json) => {
    const lc = (hc.LogConfig as Json | undefined) ?? {};
    return parseLogOpts(lc.Type as string | undefined, (lc.Config as Record<string, string> | undefined) ?? {});
  };
  const logs: LogPort = {
    read: (path, hc, opts) => readLogs(logFiles(path, logOf(hc).maxFiles), opts),
    rotate(path, hc, reopen) {
      const lc = logOf(hc);
      if (!(lc.maxSize > 0)) return null;
      const rotator = createLogRotator({ path, maxSize: lc.maxSize, maxFiles: lc.maxFiles, reopen, onError: (e) => log.warn(`log rotation of ${path}: ${String(e)}`) });
      return () => rotator.close();
    },
    validate: (hc) => void logOf(hc),
    async remove(path, hc) {
      const files = logFiles(path, logOf(hc).maxFiles);
      await Promise.all([files.current, ...files.rotated].map((f) => rm(f, { force: true })));
    },
  };

  const daemonId = await daemonIdentity(join(dataRoot, 'engine-id'));
  const events = new EventBus();
  // In order, each with the image's labels when it (still) exists, as moby's LogImageEvent.
  let imageEvents = Promise.resolve();
  imageEvent = (action, id, name) => {
    imageEvents = imageEvents.then(async () => {
      let labels: Record<string, string> = {};
      try {
        labels = (await images.config(images.resolve(id).id)).config?.Labels ?? {};
      } catch { /* deleted, or a name that is gone: no labels */ }
      events.publish('image', action, id, { ...labels, name });
    });
  };
  const volumes = createVolumes({ dataRoot, meta, events, rootOwner: remap ? { uid: remap.uid, gid: remap.gid } : null });
  const supervisor = new Supervisor({ runtime, logger: log });
  const usernsPath = usernsFd !== null ? `/proc/${process.pid}/fd/${usernsFd}` : undefined;
  const network = new NetworkManager({
    db: meta, execRoot, ...networkConfigOf(config.extra, dataRoot), logger: log,
    ...(usernsPath ? { host: new RemappedNetHost(usernsPath) } : {}),
  });
  await network.restore();
  const engine = await createEngine({
    network,
    registry,
    dataRoot,
    execRoot,
    meta,
    images,
    volumes: volumes.service,
    events,
    extensions: [volumes.extension, new RunOptionsExtension({ cgroupVersion: detectCgroupVersion(), remappedRoot: remap }), new UsernsExtension(remap, usernsPath), supervisor],
    imagePort,
    rootfs,
    runtime,
    runtimeName,
    runtimePath,
    logs,
    initPath: findInitBinary(),
    daemonId,
    debug: config.logLevel === 'debug',
    usernsRemap: remap !== null,
    logger: log,
  });
  usingImage = (id) => engine.containersUsingImage(id);
  const builder = new Builder({
    db: meta,
    tmpDir,
    containers: engine.containers,
    images,
    layers,
    pull: (ref, progress, signal) => registryService.pull({ ref, auth: null, progress, signal }),
  });
  engine.build = { build: (context, opts, progress) => builder.build(context, opts, progress), prune: (opts) => builder.prune(opts) };
  engine.bootstrap = {
    async bootstrap(opts, progress) {
      const id = await bootstrapImage({ tmpDir, images }, opts, progress);
      imageEvent('import', id, id);
      return id;
    },
  };
  const liveRestore = config.liveRestore === true;
  return {
    engine,
    async close() {
      await supervisor.shutdown({ stopContainers: !liveRestore });
      await engine.close();
      meta.close();
      if (usernsFd !== null) closeSync(usernsFd);
    },
    shutdownGraceMs() {
      const base = (config.shutdownTimeout ?? 15) * 1000;
      return liveRestore ? base : supervisor.shutdownGraceMs(base);
    },
  };
}

/** daemon.json "insecure-registries" / "registry-mirrors": a list of strings. */
function stringListOption(value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new InvalidArgument(`daemon config "${key}" must be a list of strings, e.g. ["myregistry:5000"]`);
  }
  if (key === 'registry-mirrors') {
    for (const m of value) if (!/^https?:\/\/[^/]+/.test(m)) throw new InvalidArgument(`daemon config "registry-mirrors": "${m}" is not a URL (use https://host[:port])`);
  }
  return value;
}

/** Every directory above the data root must let others pass (dockerd checks the same). */
async function checkSearchable(dir: string, uid: number): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0) {
      throw new InvalidArgument(`userns-remap: ${d} is not searchable by the remapped root (uid ${uid}), so containers could not reach their root filesystems; chmod o+x ${d} or choose another data-root`);
    }
    if (d === '/') return;
  }
}

async function daemonIdentity(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const id = randomUUID();
    await writeFile(path, `${id}\n`);
    return id;
  }
}
