/**
 * buildOciSpec: a container's settings (what `docker run` decides) -> the OCI config.json.
 * Pure: no file system, no clock. Defaults follow moby's oci/defaults.go and
 * daemon/oci_linux.go so a process sees what it would see under Docker.
 */
import { InvalidArgument } from '../errdefs/index.js';
import { effectiveCapabilities } from './capabilities.js';
import { convertDockerSeccomp, dockerDefaultProfile, type DockerSeccompProfile } from './seccomp.js';
import type { OciDeviceRule, OciIdMapping, OciMount, OciNamespace, OciResources, OciRlimit, OciSpec } from './oci-types.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where `--init` puts the init binary inside the container (as Docker). */
export const INIT_PATH = '/sbin/docker-init';

export const DOCKER_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DOCKER_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

/** A namespace: a new one (`private`), the host's (`host`, no namespace), or join one by path. */
export type NamespaceSetting = 'private' | 'host' | { path: string };

export interface MountSetting {
  type: 'bind' | 'tmpfs';
  /** Host path for binds; ignored for tmpfs. */
  source?: string;
  target: string;
  readonly?: boolean;
  /** Extra mount options (`nosuid`, `size=64m`, `mode=1777`, propagation like `rprivate`). */
  options?: string[];
}

/** A device node the container gets (`--device`, `--privileged`): made in its /dev and allowed. */
export interface DeviceSetting {
  /** Path inside the container. */
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
  /** cgroup access: some of r, w, m. */
  permissions: string;
}

export interface UlimitSetting {
  /** Docker's name: `nofile`, `nproc`, `core`, ... */
  name: string;
  soft: number;
  hard: number;
}

export interface RuntimeSettings {
  /** Container id: names the cgroup `/hako/<id>` unless `cgroupsPath` is given. */
  id: string;
  rootfs: string;
  /** Entrypoint + cmd, already resolved. */
  args: string[];
  /** `KEY=value` strings; PATH, HOSTNAME, TERM and HOME are defaulted as Docker does. */
  env?: string[];
  /** Default `/`. */
  cwd?: string;
  /** Default root. `home` fills HOME when env lacks it. */
  user?: { uid: number; gid: number; additionalGids?: number[]; home?: string };
  hostname?: string;
  tty?: boolean;
  /** The terminal's initial size (docker's HostConfig.ConsoleSize), so the first read of it is right. */
  consoleSize?: { height: number; width: number };
  readonlyRootfs?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** The daemon's own bounding set (host.ts hostCapabilities()); default: every capability. */
  boundingCapabilities?: string[];
  noNewPrivileges?: boolean;
  /** `default` (Docker's profile, the default), `unconfined`, or a profile in Docker's format. */
  seccomp?: 'default' | 'unconfined' | DockerSeccompProfile;
  /** Docker's HostConfig.MaskedPaths/ReadonlyPaths (`--security-opt systempaths=unconfined`: []); default Docker's lists. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  /** Device nodes to create (and allow in the device cgroup). */
  devices?: DeviceSetting[];
  /** Bind and tmpfs mounts; a mount on a default mount's destination replaces it. */
  mounts?: MountSetting[];
  namespaces?: {
    pid?: NamespaceSetting;
    ipc?: NamespaceSetting;
    uts?: NamespaceSetting;
    network?: NamespaceSetting;
    /** Default `private` on cgroup v2, `host` on v1 (Docker's default cgroupns mode). */
    cgroup?: NamespaceSetting;
  };
  /**
   * A user namespace with these id maps (the daemon's userns-remap): joined at `path`, or a new
   * one; none: the host's.
   */
  userns?: { uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[]; path?: string };
  cgroupVersion?: 1 | 2;
  /** Default `/hako/<id>` (runc's cgroupfs driver). */
  cgroupsPath?: string;
  resources?: Omit<OciResources, 'devices'>;
  ulimits?: UlimitSetting[];
  /**
   * The daemon's own hard RLIMIT_NOFILE (host.ts hostNofileLimit()). The default nofile ulimit
   * (1048576) is capped to it: runc cannot raise a hard limit without CAP_SYS_RESOURCE.
   */
  hostNofileLimit?: number;
  oomScoreAdj?: number;
  sysctls?: Record<string, string>;
  /** /dev/shm size in bytes, default 64 MiB. */
  shmSize?: number;
  /** false: no default /dev/shm tmpfs (docker's `--ipc none`). Default true. */
  devShm?: boolean;
  /** GOARCH for the seccomp filter, default the host's. */
  arch?: string;
  /** Kernel release for the seccomp profile's minKernel rules, default the host's. */
  kernel?: string;
  annotations?: Record<string, string>;
}

/** docker run's default ulimit: RLIMIT_NOFILE 1048576 (what dockerd runs with on most hosts). */
const DEFAULT_NOFILE = 1048576;

const ULIMIT_NAMES = new Set([
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc',
  'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
]);

/** moby oci/devices: the cgroup device rules of an unprivileged container. */
const DEFAULT_DEVICE_RULES: OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
];

/**
 * sysfs can only be mounted by the owner of the network namespace. A container in a new user
 * namespace that joins a network namespace made outside it gets the host's /sys bound read-only
 * instead, as Podman does for user namespaces without a private netns.
 */
function sysfsMount(s: RuntimeSettings, sysOpts: string[]): OciMount {
  const net = s.namespaces?.network ?? 'private';
  if (s.userns && !s.userns.path && net !== 'private') return { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
  return { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOpts };
}

function defaultMounts(s: RuntimeSettings): OciMount[] {
  const sysOpts = ['nosuid', 'noexec', 'nodev', s.privileged ? 'rw' : 'ro'];
  const shmSize = s.shmSize ?? 64 * 1024 * 1024;
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    sysfsMount(s, sysOpts),
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', s.privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${Math.floor(shmSize / 1024)}k`] },
  ];
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

function userMount(m: MountSetting): OciMount {
  if (!m.target.startsWith('/')) throw new InvalidArgument(`invalid mount target "${m.target}": must be an absolute path`);
  const extra = m.options ?? [];
  if (m.type === 'tmpfs') {
    return {
      destination: m.target, type: 'tmpfs', source: 'tmpfs',
      options: ['nosuid', 'nodev', 'noexec', ...extra, m.readonly ? 'ro' : 'rw'],
    };
  }
  if (!m.source) throw new InvalidArgument(`bind mount on "${m.target}" needs a source path`);
  const hasPropagation = extra.some((o) => PROPAGATIONS.has(o));
  return {
    destination: m.target, type: 'bind', source: m.source,
    options: ['rbind', ...extra, ...(hasPropagation ? [] : ['rprivate']), m.readonly ? 'ro' : 'rw'],
  };
}

function depth(path: string): number {
  return path.split('/').filter(Boolean).length;
}

function mounts(s: RuntimeSettings): OciMount[] {
  const user = (s.mounts ?? []).map(userMount);
  const taken = new Set(user.map((m) => m.destination.replace(/\/+$/, '')));
  // A user mount on /dev/shm etc. replaces the default one (moby daemon/oci_linux.go).
  const defaults = defaultMounts(s).filter((m) => !taken.has(m.destination) && (s.devShm !== false || m.destination !== '/dev/shm'));
  // Parents before children: moby sorts mounts by destination depth, stably.
  const sorted = user.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i);
  return [...defaults, ...sorted.map((x) => x.m)];
}

function namespaces(s: RuntimeSettings): OciNamespace[] {
  const ns = s.namespaces ?? {};
  const v2 = (s.cgroupVersion ?? 1) === 2;
  const out: OciNamespace[] = [{ type: 'mount' }];
  const add = (type: OciNamespace['type'], setting: NamespaceSetting | undefined, dflt: NamespaceSetting) => {
    const v = setting ?? dflt;
    if (v === 'host') return;
    out.push(v === 'private' ? { type } : { type, path: v.path });
  };
  add('network', ns.network, 'private');
  add('uts', ns.uts, 'private');
  add('pid', ns.pid, 'private');
  add('ipc', ns.ipc, 'private');
  add('cgroup', ns.cgroup, v2 ? 'private' : 'host');
  if (s.userns) out.push(s.userns.path ? { type: 'user', path: s.userns.path } : { type: 'user' });
  return out;
}

function envWithDefaults(s: RuntimeSettings): string[] {
  const env = [...(s.env ?? [])];
  const has = (k: string) => env.some((e) => e === k || e.startsWith(`${k}=`));
  // Docker: PATH first when the image has none, HOSTNAME, TERM for ttys, HOME from passwd.
  if (!has('PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
  if (s.hostname && !has('HOSTNAME')) env.splice(1, 0, `HOSTNAME=${s.hostname}`);
  if (s.tty && !has('TERM')) env.push('TERM=xterm');
  if (!has('HOME')) env.push(`HOME=${s.user?.home ?? '/root'}`);
  return env;
}

function rlimits(s: RuntimeSettings): OciRlimit[] {
  const nofile = Math.min(DEFAULT_NOFILE, s.hostNofileLimit ?? DEFAULT_NOFILE);
  const out = new Map<string, OciRlimit>([['RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }]]);
  for (const u of s.ulimits ?? []) {
    const name = u.name.toLowerCase();
    if (!ULIMIT_NAMES.has(name)) throw new InvalidArgument(`invalid ulimit "${u.name}": unknown resource; use one of ${[...ULIMIT_NAMES].join(', ')}`);
    if (u.soft > u.hard) throw new InvalidArgument(`invalid ulimit "${u.name}": soft limit ${u.soft} is above hard limit ${u.hard}`);
    const type = `RLIMIT_${name.toUpperCase()}`;
    out.set(type, { type, soft: u.soft, hard: u.hard });
  }
  return [...out.values()];
}

export function buildOciSpec(s: RuntimeSettings): OciSpec {
  if (s.args.length === 0) throw new InvalidArgument('no command specified: the image has no Cmd or Entrypoint and none was given');
  const caps = effectiveCapabilities(s);
  const user = s.user ?? { uid: 0, gid: 0 };
  const resources: OciResources = {
    devices: s.privileged
      ? [{ allow: true, access: 'rwm' }]
      : [
        ...DEFAULT_DEVICE_RULES.map((d) => ({ ...d })),
        ...(s.devices ?? []).map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions })),
      ],
    ...structuredClone(s.resources ?? {}),
  };

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: s.tty ?? false,
      ...(s.tty && s.consoleSize && s.consoleSize.height > 0 ? { consoleSize: { ...s.consoleSize } } : {}),
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids?.length ? { additionalGids: [...user.additionalGids] } : {}) },
      args: [...s.args],
      env: envWithDefaults(s),
      cwd: s.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: rlimits(s),
      noNewPrivileges: s.noNewPrivileges ?? false,
      ...(s.oomScoreAdj !== undefined ? { oomScoreAdj: s.oomScoreAdj } : {}),
    },
    root: { path: s.rootfs, readonly: s.readonlyRootfs ?? false },
    mounts: mounts(s),
    linux: {
      namespaces: namespaces(s),
      cgroupsPath: s.cgroupsPath ?? `/hako/${s.id}`,
      resources,
    },
  };
  if (s.hostname && (s.namespaces?.uts ?? 'private') !== 'host') spec.hostname = s.hostname;
  if (s.sysctls && Object.keys(s.sysctls).length > 0) spec.linux.sysctl = { ...s.sysctls };
  if (s.userns) {
    spec.linux.uidMappings = s.userns.uidMappings.map((m) => ({ ...m }));
    spec.linux.gidMappings = s.userns.gidMappings.map((m) => ({ ...m }));
  }
  if (s.devices?.length) {
    spec.linux.devices = s.devices.map((d) => ({
      path: d.path, type: d.type, major: d.major, minor: d.minor,
      ...(d.fileMode !== undefined ? { fileMode: d.fileMode } : {}),
      ...(d.uid !== undefined ? { uid: d.uid } : {}),
      ...(d.gid !== undefined ? { gid: d.gid } : {}),
    }));
  }
  if (!s.privileged) {
    spec.linux.maskedPaths = [...(s.maskedPaths ?? DOCKER_MASKED_PATHS)];
    spec.linux.readonlyPaths = [...(s.readonlyPaths ?? DOCKER_READONLY_PATHS)];
    const seccomp = s.seccomp ?? 'default';
    if (seccomp !== 'unconfined') {
      const profile = seccomp === 'default' ? dockerDefaultProfile() : seccomp;
      spec.linux.seccomp = convertDockerSeccomp(profile, { capabilities: caps, arch: s.arch, kernel: s.kernel });
    }
  }
  if (s.annotations) spec.annotations = { ...s.annotations };
  return spec;
}

/**
 * `--init`: the engine bind-mounts the host's tini (static if available) at /sbin/docker-init and
 * runs it as PID 1 in front of the command. Returns the mount to add and the new args.
 */
export function withInit(args: string[], hostInitPath: string): { mount: MountSetting; args: string[] } {
  return {
    mount: { type: 'bind', source: hostInitPath, target: INIT_PATH, readonly: true },
    args: [INIT_PATH, '--', ...args],
  };
}
