import { InvalidArgument } from '../../errdefs/index.js';
import type { RuntimeSettings, MountSetting, NamespaceSetting } from '../../runtime/index.js';
import { withInit, hostNofileLimit, hostCapabilities, hostHardLimits } from '../../runtime/index.js';
import type { Json } from '../contract.js';
import type { RuntimeUser } from '../ports.js';
import { availableParallelism } from 'node:os';
import { resourcesOf, checkOomScoreAdj } from './resources.js';
import { devicesOf, hostDevices } from './devices.js';

/** hakod's bounding set and rlimits do not change while it runs: read /proc once, not per start. */
const BOUNDING = hostCapabilities();
const NOFILE = hostNofileLimit();

export interface SettingsInput {
  id: string;
  rootfs: string;
  config: Json;
  hostConfig: Json;
  argv: string[];
  user: RuntimeUser & { home?: string };
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  initPath: string | null;
  cgroupVersion: 1 | 2;
  /** The host's CPU count (validates --cpus, --cpuset-cpus); default os.availableParallelism(). */
  hostCpus?: number;
}

/**
 * A container's Docker Config + HostConfig as runtime settings (what runc is told). The
 * options that belong to later subsystems (named volumes, networks) are refused here with a
 * message naming them, never silently dropped.
 */
export function runtimeSettingsOf(i: SettingsInput): RuntimeSettings {
  const c = i.config;
  const hc = i.hostConfig;
  const mounts: MountSetting[] = [
    { type: 'bind', source: i.etcFiles.resolvConf, target: '/etc/resolv.conf' },
    { type: 'bind', source: i.etcFiles.hostname, target: '/etc/hostname' },
    { type: 'bind', source: i.etcFiles.hosts, target: '/etc/hosts' },
    // -v, --mount, --volumes-from and image VOLUMEs are added by the volumes extension (src/volumes/).
    ...tmpfsMounts((hc.Tmpfs as Record<string, string> | null) ?? {}),
  ];
  let args = i.argv;
  if (hc.Init === true && i.initPath) {
    const init = withInit(args, i.initPath);
    mounts.push(init.mount);
    args = init.args;
  }
  const secOpts = (hc.SecurityOpt as string[] | null) ?? [];
  let seccomp: RuntimeSettings['seccomp'] = 'default';
  let noNewPrivileges = false;
  for (const opt of secOpts) {
    const [key, value = ''] = splitOnce(opt, /[=:]/);
    if (key === 'no-new-privileges') noNewPrivileges = value === '' || value === 'true';
    else if (key === 'seccomp') {
      if (value === 'unconfined') seccomp = 'unconfined';
      else {
        try {
          seccomp = JSON.parse(value) as RuntimeSettings['seccomp'];
        } catch {
          throw new InvalidArgument(`invalid --security-opt seccomp: the profile is not valid JSON`);
        }
      }
    } else if (key === 'systempaths') {
      // `systempaths=unconfined` arrives as empty HostConfig.MaskedPaths/ReadonlyPaths (below).
      if (value !== 'unconfined') throw new InvalidArgument(`invalid --security-opt systempaths=${value}: the only value is unconfined`);
    } else if (key === 'label' || key === 'apparmor') {
      // No SELinux or AppArmor on this engine: docker ignores these too when the LSM is absent.
    } else {
      throw new InvalidArgument(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    }
  }
  // `container:<name>` modes are turned into namespace paths by the shared-namespaces extension.
  const ns = (mode: unknown): NamespaceSetting => (mode === 'host' ? 'host' : 'private');
  // 'host' here; bridge networks, none and container:NAME are set by the networks extension's prepare.
  const networkMode = String(hc.NetworkMode ?? 'default');
  // Resources, devices and namespace modes: issue #3 (resources.ts, devices.ts).
  const resources = resourcesOf(hc, { cpus: i.hostCpus ?? availableParallelism(), cgroupVersion: i.cgroupVersion });
  checkOomScoreAdj(hc.OomScoreAdj);
  const devices = hc.Privileged ? hostDevices() : devicesOf((hc.Devices as Array<Record<string, string>> | null) ?? []);
  checkNamespaceModes(hc);
  checkUlimitsAgainstHost((hc.Ulimits as Array<{ Name: string; Hard: number }> | null) ?? []);
  return {
    id: i.id,
    rootfs: i.rootfs,
    args,
    env: (c.Env as string[] | null) ?? [],
    cwd: (c.WorkingDir as string) || '/',
    user: i.user,
    hostname: String(c.Hostname ?? ''),
    tty: Boolean(c.Tty),
    consoleSize: consoleSizeOf(hc.ConsoleSize),
    readonlyRootfs: Boolean(hc.ReadonlyRootfs),
    capAdd: (hc.CapAdd as string[] | null) ?? [],
    capDrop: (hc.CapDrop as string[] | null) ?? [],
    privileged: Boolean(hc.Privileged),
    noNewPrivileges,
    seccomp,
    mounts,
    devices,
    ...(Array.isArray(hc.MaskedPaths) ? { maskedPaths: hc.MaskedPaths as string[] } : {}),
    ...(Array.isArray(hc.ReadonlyPaths) ? { readonlyPaths: hc.ReadonlyPaths as string[] } : {}),
    namespaces: {
      network: networkMode === 'host' ? 'host' : 'private',
      pid: ns(hc.PidMode),
      ipc: ns(hc.IpcMode),
      uts: ns(hc.UTSMode),
    },
    cgroupVersion: i.cgroupVersion,
    resources,
    ulimits: ((hc.Ulimits as Array<{ Name: string; Soft: number; Hard: number }> | null) ?? []).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
    ...(typeof hc.OomScoreAdj === 'number' && hc.OomScoreAdj !== 0 ? { oomScoreAdj: hc.OomScoreAdj } : {}),
    sysctls: (hc.Sysctls as Record<string, string> | null) ?? {},
    shmSize: Number(hc.ShmSize) || 64 * 1024 * 1024,
    // `--ipc none`: no /dev/shm at all; shareable/container:/host binds are the run-options extension's.
    ...(hc.IpcMode === 'none' ? { devShm: false } : {}),
    hostNofileLimit: NOFILE,
    ...(BOUNDING ? { boundingCapabilities: BOUNDING } : {}),
  };
}

function consoleSizeOf(v: unknown): { height: number; width: number } | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [height, width] = v.map(Number) as [number, number];
  return height > 0 && width > 0 ? { height, width } : undefined;
}

function splitOnce(s: string, sep: RegExp): [string, string?] {
  const m = sep.exec(s);
  return m ? [s.slice(0, m.index), s.slice(m.index + 1)] : [s];
}

function tmpfsMounts(tmpfs: Record<string, string>): MountSetting[] {
  return Object.entries(tmpfs).map(([target, opts]) => {
    const options = opts ? opts.split(',') : [];
    return { type: 'tmpfs' as const, target, readonly: options.includes('ro'), options: options.filter((o) => o !== 'ro' && o !== 'rw') };
  });
}

/** docker's IpcMode/PidMode/UTSMode values; anything else is refused by name. */
export function checkNamespaceModes(hc: Json): void {
  const check = (key: string, flag: string, allowed: string[], container: boolean) => {
    const v = typeof hc[key] === 'string' ? (hc[key] as string) : '';
    if (v === '' || allowed.includes(v)) return;
    if (container && v.startsWith('container:') && v.length > 10) return;
    throw new InvalidArgument(`invalid ${flag} mode "${v}": use ${[...allowed, ...(container ? ['container:<name|id>'] : [])].join(', ')}`);
  };
  check('IpcMode', '--ipc', ['none', 'private', 'shareable', 'host'], true);
  check('PidMode', '--pid', ['host'], true);
  check('UTSMode', '--uts', ['host'], false);
}

/**
 * runc sets rlimits with hakod's capabilities: without CAP_SYS_RESOURCE no hard limit may go above
 * hakod's own, and runc would fail at start with "operation not permitted". Say so at create.
 */
function checkUlimitsAgainstHost(ulimits: Array<{ Name: string; Hard: number }>): void {
  if (ulimits.length === 0 || !BOUNDING || BOUNDING.includes('CAP_SYS_RESOURCE')) return;
  const hard = hostHardLimits();
  for (const u of ulimits) {
    const max = hard[String(u.Name).toLowerCase()];
    if (max !== undefined && u.Hard > max) {
      throw new InvalidArgument(
        `invalid ulimit ${u.Name}: hard limit ${u.Hard} is above hakod's own (${max}) and hakod lacks CAP_SYS_RESOURCE to raise it; ` +
          `use at most ${max} or raise hakod's limit (LimitNOFILE= etc. in its service)`,
      );
    }
  }
}
