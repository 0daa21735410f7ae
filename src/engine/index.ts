/**
 * engine: the domain services behind the Docker Engine API — containers (lifecycle, attach, logs,
 * archive, commit), exec, system info — and the only place that combines the subsystems below
 * (images, storage, runtime, logs) through the ports in ports.ts. It knows nothing of HTTP
 * (api/) nor of how the ports are built (daemon/wire.ts).
 */
import { join } from 'node:path';
import type { Engine, ImageService, RegistryClientService, VolumeService } from './contract.js';
import type { ImagePort, LogPort, RootfsPort } from './ports.js';
import type { OciRuntime } from '../runtime/index.js';
import { Containers } from './containers/service.js';
import { ContainerStore, type MetadataDbLike } from './containers/store.js';
import { Execs } from './exec/service.js';
import { Stats } from './stats/index.js';
import { System, cgroupVersionOfHost } from './system.js';
import { EventBus, type ContainerExtension } from './extensions.js';
import { Networking } from './networks/service.js';
import type { NetworkManager } from '../network/index.js';

export type * from './contract.js';
export type * from './ports.js';
export type { ContainerRecord } from './containers/record.js';
export type { ImageRuntimeConfig } from './containers/create-config.js';
export { API_VERSION, MIN_API_VERSION, ENGINE_VERSION } from './system.js';
export { parseSignal } from './signals.js';
export { EventBus, type ContainerExtension, type EngineEvent } from './extensions.js';
export { RunOptionsExtension } from './containers/run-options.js';
export { Supervisor } from './supervision/index.js';

export interface EngineOptions {
  dataRoot: string;
  execRoot: string;
  meta: MetadataDbLike;
  images: ImageService;
  /** The volume service (volumes/); its container extension comes in `extensions`. */
  volumes: VolumeService;
  imagePort: ImagePort;
  rootfs: RootfsPort;
  runtime: OciRuntime;
  runtimeName: string;
  runtimePath: string;
  logs: LogPort;
  initPath: string | null;
  daemonId: string;
  debug: boolean;
  /** hakod runs with userns-remap (shown in `info`). */
  usernsRemap?: boolean;
  logger: { warn(msg: string): void; debug(msg: string): void };
  /** Networks, volumes, supervision, in the order they set up (teardown is reversed). */
  extensions?: ContainerExtension[];
  events?: EventBus;
  /** Networks (network/), restored; its container extension is added first. */
  network: NetworkManager;
  /** Pull, push, login, search (registry/). */
  registry: RegistryClientService;
}

export interface RunningEngine extends Engine {
  /** Which containers use an image (images/ refuses to delete those). */
  containersUsingImage(imageId: string): Array<{ id: string; running: boolean }>;
  events: EventBus;
  close(): Promise<void>;
}

/** Builds the engine and restores containers left by a previous hakod. */
export async function createEngine(o: EngineOptions): Promise<RunningEngine> {
  const events = o.events ?? new EventBus();
  const networks = new Networking(o.network, events);
  const store = new ContainerStore(o.meta);
  networks.bind(store);
  await networks.reconcile();
  const containers = new Containers({
    store,
    images: o.imagePort,
    rootfs: o.rootfs,
    runtime: o.runtime,
    logs: o.logs,
    containersDir: join(o.dataRoot, 'containers'),
    bundlesDir: join(o.execRoot, 'bundles'),
    initPath: o.initPath,
    cgroupVersion: cgroupVersionOfHost() === '2' ? 2 : 1,
    extensions: [networks.extension, ...(o.extensions ?? [])],
    events,
    logger: o.logger,
  });
  await containers.restore();
  const exec = new Execs(containers, o.runtime);
  const system = new System({
    id: o.daemonId, dataRoot: o.dataRoot, execRoot: o.execRoot, runtimeName: o.runtimeName, runtimePath: o.runtimePath,
    initPath: o.initPath, cgroupVersion: cgroupVersionOfHost(), debug: o.debug, usernsRemap: o.usernsRemap === true,
  }, containers, o.images, o.volumes);
  return {
    containers,
    exec,
    images: o.images,
    system,
    volumes: o.volumes,
    stats: new Stats(containers, { cgroupVersion: cgroupVersionOfHost() === '2' ? 2 : 1 }),
    networks,
    registry: o.registry,
    containersUsingImage: (id) => containers.usingImage(id),
    events,
    close: () => containers.close(),
  };
}
