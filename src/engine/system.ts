import { cpus, hostname, release, totalmem, arch } from 'node:os';
import { readFileSync, existsSync } from 'node:fs';
import type { ImageService, Json, SystemService, VolumeService } from './contract.js';
import type { Containers } from './containers/service.js';

export const ENGINE_VERSION = '0.1.0';
export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

export interface SystemInfoOptions {
  id: string;
  dataRoot: string;
  execRoot: string;
  runtimeName: string;
  runtimePath: string;
  initPath: string | null;
  cgroupVersion: '1' | '2';
  debug: boolean;
  /** The daemon remaps container root (userns-remap): info's SecurityOptions say `name=userns`. */
  usernsRemap?: boolean;
}

const goArch = (): string => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' } as Record<string, string>)[arch()] ?? arch();

function operatingSystem(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

export function cgroupVersionOfHost(): '1' | '2' {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

export class System implements SystemService {
  readonly #o: SystemInfoOptions;
  readonly #containers: Containers;
  readonly #images: ImageService;
  readonly #volumes: VolumeService | undefined;
  readonly #os = operatingSystem();

  constructor(o: SystemInfoOptions, containers: Containers, images: ImageService, volumes?: VolumeService) {
    this.#o = o;
    this.#containers = containers;
    this.#images = images;
    this.#volumes = volumes;
  }

  version(): Json {
    const kernel = release();
    return {
      Platform: { Name: 'hako' },
      Components: [{
        Name: 'Engine', Version: ENGINE_VERSION,
        Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: kernel, NodeVersion: process.version },
      }],
      Version: ENGINE_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: kernel,
      BuildTime: '',
    };
  }

  async info(): Promise<Json> {
    const all = await this.#containers.list({ all: true });
    const count = (s: string): number => all.filter((c) => c.State === s).length;
    const images = await this.#images.list({ all: true });
    return {
      ID: this.#o.id,
      Containers: all.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: all.length - count('running') - count('paused'),
      Images: images.length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'none'] },
      MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true,
      PidsLimit: true, IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false,
      Debug: this.#o.debug,
      NFd: 0, OomKillDisable: this.#o.cgroupVersion === '1', NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: this.#o.cgroupVersion,
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: this.#os,
      OSVersion: '',
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: this.#o.dataRoot,
      HttpProxy: '', HttpsProxy: '', NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: ENGINE_VERSION,
      Runtimes: { [this.#o.runtimeName]: { path: this.#o.runtimePath } },
      DefaultRuntime: this.#o.runtimeName,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: this.#o.initPath ?? '',
      ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin', ...(this.#o.usernsRemap ? ['name=userns'] : [])],
      Warnings: [],
    };
  }

  async df(): Promise<Json> {
    const [du, containers, volumes] = await Promise.all([
      // Shared layers counted once, each image's SharedSize filled in (docker's system df).
      this.#images.diskUsage?.() ?? this.#images.list({ all: true }).then((images) => ({ LayersSize: images.reduce((n, i) => n + Number(i.Size ?? 0), 0), Images: images })),
      this.#containers.list({ all: true, size: true }), this.#volumes?.usage?.() ?? Promise.resolve([]),
    ]);
    return { LayersSize: du.LayersSize, Images: du.Images, Containers: containers, Volumes: volumes, BuildCache: [] };
  }
}
