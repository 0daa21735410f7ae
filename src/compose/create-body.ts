/**
 * A service's container as the Engine API's POST /containers/create body, the way docker compose
 * v2 builds it (pkg/compose/create.go getCreateConfigs): Config, HostConfig, and NetworkingConfig
 * with the service's first network (the others are connected before the start). Pure: what needs
 * the engine (the image id, containers of `service:` references) comes in as arguments.
 */
import { createHash } from 'node:crypto';
import { InvalidArgument } from '../errdefs/index.js';
import type { Mount, Project, Service } from './model.js';
import {
  COMPOSE_VERSION, CONFIG_FILES_LABEL, CONFIG_HASH_LABEL, CONTAINER_NUMBER_LABEL, DEPENDENCIES_LABEL, IMAGE_LABEL,
  ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL, VERSION_LABEL, WORKING_DIR_LABEL, containerName,
} from './labels.js';

type Json = Record<string, unknown>;

/** JSON with object keys sorted at every level: the same service always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `com.docker.compose.config-hash`: sha256 of the service's canonical JSON without what does not
 * shape a container (compose's ServiceHash leaves out build, pull_policy, scale and profiles), its
 * environment resolved against the host's, so `up` recreates only what changed.
 */
export function serviceHash(service: Service, hostEnv: Record<string, string | undefined> = {}): string {
  const { build: _b, pullPolicy: _p, scale: _s, profiles: _pr, files, ...rest } = service;
  // Injected files count only when there are some, so hashes of services without them are unchanged.
  return createHash('sha256').update(canonicalJson({ ...rest, ...(files.length > 0 ? { files } : {}), environment: resolveEnvironment(service, hostEnv) })).digest('hex');
}

/**
 * The service with `network_mode: service:x` and `volumes_from: x` / `service:x` naming x's
 * container (`container:<id>`), as compose resolves them before hashing: when x is recreated the
 * joiner's config hash changes, so `up` recreates it too. A service without a container yet
 * stays as written.
 */
export function withContainerRefs(s: Service, containerOf: (service: string) => string): Service {
  const id = (svc: string): string | null => {
    try {
      return containerOf(svc);
    } catch {
      return null;
    }
  };
  let networkMode = s.networkMode;
  if (networkMode?.startsWith('service:')) {
    const c = id(networkMode.slice(8));
    if (c !== null) networkMode = `container:${c}`;
  }
  const volumesFrom = s.volumesFrom.map((v) => {
    if (v.startsWith('container:')) return v;
    const parts = v.split(':');
    const mode = parts.length > 2 || (parts.length === 2 && ['ro', 'rw'].includes(parts[1]!)) ? `:${parts.pop() as string}` : '';
    const name = parts[0] === 'service' ? (parts[1] ?? '') : parts.join(':');
    const c = id(name);
    return c !== null ? `container:${c}${mode}` : v;
  });
  return { ...s, networkMode, volumesFrom };
}

/** `KEY` without a value takes the host's value, and is left out when the host has none (as compose). */
export function resolveEnvironment(service: Service, hostEnv: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.environment)) {
    if (v !== null) out[k] = v;
    else if (hostEnv[k] !== undefined) out[k] = hostEnv[k] as string;
  }
  return out;
}

/** The service's networks, first the one its container is created on: highest priority, then by key. */
export function orderedNetworks(service: Service): string[] {
  return Object.entries(service.networks)
    .sort(([ak, a], [bk, b]) => (b.priority - a.priority) || (ak < bk ? -1 : ak > bk ? 1 : 0))
    .map(([k]) => k);
}

export interface CreateBodyInput {
  project: Project;
  service: Service;
  number: number;
  /** The image's id (the `com.docker.compose.image` label: a new image recreates). */
  imageId: string;
  hostEnv: Record<string, string | undefined>;
  /** The id of a service's first container, for `network_mode: service:x` and `volumes_from: service:x`. */
  containerOf: (service: string) => string;
  /** The name to create the container under (a temporary one while it replaces another); default its own. */
  name?: string;
  /**
   * Volumes of the container this one replaces, by target: anonymous volumes (the service's and the
   * image's VOLUMEs) are carried over, as compose's recreate does, so their data survives.
   */
  inherit?: Array<{ name: string; target: string }>;
}

/** The endpoint settings of a service on one of its networks (aliases: the service name and its own). */
export function endpointConfig(project: Project, service: Service, key: string, number: number): Json {
  const sn = service.networks[key];
  const aliases = [service.name, containerName(project.name, service, number), ...(sn?.aliases ?? [])];
  const ipam: Json = {};
  if (sn?.ipv4Address) ipam.IPv4Address = sn.ipv4Address;
  if (sn?.ipv6Address) ipam.IPv6Address = sn.ipv6Address;
  return {
    Aliases: [...new Set(aliases)],
    ...(Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {}),
    ...(sn?.macAddress ? { MacAddress: sn.macAddress } : {}),
  };
}

export function createBody(i: CreateBodyInput): { name: string; body: Json } {
  const { project, service: s, number } = i;
  const name = containerName(project.name, s, number);
  const labels: Record<string, string> = {
    ...s.labels,
    [PROJECT_LABEL]: project.name,
    [SERVICE_LABEL]: s.name,
    [CONTAINER_NUMBER_LABEL]: String(number),
    [ONEOFF_LABEL]: 'False',
    [CONFIG_HASH_LABEL]: serviceHash(withContainerRefs(s, i.containerOf), i.hostEnv),
    [WORKING_DIR_LABEL]: project.workingDir,
    [CONFIG_FILES_LABEL]: project.configFiles.join(','),
    [IMAGE_LABEL]: i.imageId,
    [DEPENDENCIES_LABEL]: Object.entries(s.dependsOn).map(([d, c]) => `${d}:${c.condition}:${c.restart}`).join(','),
    [VERSION_LABEL]: COMPOSE_VERSION,
  };
  const exposed: Record<string, Json> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const e of s.expose) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  for (const p of s.ports) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.published ?? '' });
  }
  const env = Object.entries(resolveEnvironment(s, i.hostEnv)).map(([k, v]) => `${k}=${v}`);
  const config: Json = {
    Hostname: s.hostname ?? '',
    Domainname: s.domainname ?? '',
    User: s.user ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: exposed,
    Tty: s.tty,
    OpenStdin: s.stdinOpen,
    StdinOnce: false,
    Env: env,
    Cmd: s.command,
    Image: s.image,
    WorkingDir: s.workingDir ?? '',
    Entrypoint: s.entrypoint,
    Labels: labels,
    ...(s.healthcheck ? { Healthcheck: healthConfig(s) } : {}),
    ...(s.stopSignal ? { StopSignal: s.stopSignal } : {}),
    ...(s.stopGracePeriod !== null ? { StopTimeout: Math.round(s.stopGracePeriod) } : {}),
  };
  const { binds, mounts } = mountsOf(project, s, i.inherit ?? []);
  const netKeys = orderedNetworks(s);
  const primary = netKeys[0];
  let networkMode: string;
  if (s.networkMode === null) networkMode = primary !== undefined ? networkName(project, primary) : 'none';
  else if (s.networkMode.startsWith('service:')) networkMode = `container:${i.containerOf(s.networkMode.slice(8))}`;
  else networkMode = s.networkMode;
  const tmpfs: Record<string, string> = {};
  for (const t of s.tmpfs) {
    const colon = t.indexOf(':');
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }
  const hostConfig: Json = {
    Binds: binds,
    Mounts: mounts,
    PortBindings: bindings,
    NetworkMode: networkMode,
    RestartPolicy: restartPolicy(s.restart),
    VolumesFrom: s.volumesFrom.map((v) => volumesFromRef(v, i.containerOf)),
    CapAdd: s.capAdd,
    CapDrop: s.capDrop,
    Dns: s.dns,
    DnsSearch: s.dnsSearch,
    DnsOptions: s.dnsOpt,
    ExtraHosts: s.extraHosts,
    Privileged: s.privileged,
    ReadonlyRootfs: s.readOnly,
    SecurityOpt: s.securityOpt,
    Sysctls: s.sysctls,
    Ulimits: Object.entries(s.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard })),
    Tmpfs: tmpfs,
    Devices: s.devices.map(deviceMapping),
    GroupAdd: s.groupAdd,
    Init: s.init,
    ...(s.memLimit !== null ? { Memory: s.memLimit } : {}),
    ...(s.memReservation !== null ? { MemoryReservation: s.memReservation } : {}),
    ...(s.memswapLimit !== null ? { MemorySwap: s.memswapLimit } : {}),
    ...(s.shmSize !== null ? { ShmSize: s.shmSize } : {}),
    ...(s.cpus !== null ? { NanoCpus: Math.round(s.cpus * 1e9) } : {}),
    ...(s.cpuShares !== null ? { CpuShares: s.cpuShares } : {}),
    ...(s.cpuset !== null ? { CpusetCpus: s.cpuset } : {}),
    ...(s.pidsLimit !== null ? { PidsLimit: s.pidsLimit } : {}),
    ...(s.oomScoreAdj !== null && s.oomScoreAdj !== undefined ? { OomScoreAdj: s.oomScoreAdj } : {}),
    ...(s.ipc !== null ? { IpcMode: s.ipc } : {}),
    ...(s.pid !== null ? { PidMode: s.pid } : {}),
    ...(s.logging ? { LogConfig: { Type: s.logging.driver ?? '', Config: s.logging.options } } : {}),
  };
  const endpoints: Json = {};
  if (s.networkMode === null && primary !== undefined) endpoints[networkName(project, primary)] = endpointConfig(project, s, primary, number);
  return { name: i.name ?? name, body: { ...config, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints } } };
}

export function networkName(project: Project, key: string): string {
  const n = project.networks[key];
  if (!n) throw new InvalidArgument(`service refers to undefined network ${key}: define it under the top-level networks:`);
  return n.name;
}

function healthConfig(s: Service): Json {
  const h = s.healthcheck!;
  if (h.disable) return { Test: ['NONE'] };
  return {
    Test: h.test,
    ...(h.interval !== null ? { Interval: h.interval } : {}),
    ...(h.timeout !== null ? { Timeout: h.timeout } : {}),
    ...(h.startPeriod !== null ? { StartPeriod: h.startPeriod } : {}),
    ...(h.startInterval !== null ? { StartInterval: h.startInterval } : {}),
    ...(h.retries !== null ? { Retries: h.retries } : {}),
  };
}

/** `no` | `always` | `unless-stopped` | `on-failure[:N]`, as HostConfig.RestartPolicy. */
export function restartPolicy(restart: string): { Name: string; MaximumRetryCount: number } {
  const [name = 'no', max] = restart.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure', ''].includes(name)) throw new InvalidArgument(`invalid restart policy "${restart}": use no, always, unless-stopped or on-failure[:max-retries]`);
  return { Name: name === '' ? 'no' : name, MaximumRetryCount: max !== undefined ? Number(max) : 0 };
}

function volumesFromRef(v: string, containerOf: (service: string) => string): string {
  const parts = v.split(':');
  const mode = parts.length > 2 || ['ro', 'rw'].includes(parts[parts.length - 1] ?? '') ? `:${parts.pop() as string}` : '';
  if (parts[0] === 'service') return `${containerOf(parts[1] ?? '')}${mode}`;
  if (parts[0] === 'container') return `${parts[1] ?? ''}${mode}`;
  return `${containerOf(parts.join(':'))}${mode}`;
}

function deviceMapping(d: string): Json {
  const [host = '', container, perms] = d.split(':');
  return { PathOnHost: host, PathInContainer: container ?? host, CgroupPermissions: perms ?? 'rwm' };
}

/**
 * Binds for short-syntax binds (the daemon creates a missing host path, as docker does for `-v`),
 * Mounts objects for the rest: named and anonymous volumes, tmpfs, long-syntax binds.
 */
function mountsOf(project: Project, s: Service, inherit: Array<{ name: string; target: string }>): { binds: string[]; mounts: Json[] } {
  const binds: string[] = [];
  const mounts: Json[] = [];
  const configured = new Set(s.volumes.map((m) => m.target));
  for (const m of s.volumes) {
    if (m.type === 'bind' && m.createHostPath && !m.bindPropagation) {
      binds.push(`${m.source}:${m.target}${m.readOnly ? ':ro' : ':rw'}`);
      continue;
    }
    const inherited = m.type === 'volume' && m.source === null ? inherit.find((v) => v.target === m.target) : undefined;
    mounts.push(inherited ? { ...mountObject(project, m), Source: inherited.name } : mountObject(project, m));
  }
  // The image's VOLUMEs the old container had: the same volumes again.
  for (const v of inherit) if (!configured.has(v.target)) mounts.push({ Type: 'volume', Source: v.name, Target: v.target, ReadOnly: false });
  return { binds, mounts };
}

function mountObject(project: Project, m: Mount): Json {
  switch (m.type) {
    case 'bind':
      return { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly, ...(m.bindPropagation ? { BindOptions: { Propagation: m.bindPropagation } } : {}) };
    case 'volume': {
      let source = '';
      if (m.source !== null) {
        const v = project.volumes[m.source];
        if (!v) throw new InvalidArgument(`service refers to undefined volume ${m.source}: define it under the top-level volumes:`);
        source = v.name;
      }
      return { Type: 'volume', Source: source, Target: m.target, ReadOnly: m.readOnly, ...(m.volumeNocopy ? { VolumeOptions: { NoCopy: true } } : {}) };
    }
    case 'tmpfs':
      return { Type: 'tmpfs', Target: m.target, ReadOnly: m.readOnly, ...(m.tmpfsSize !== null ? { TmpfsOptions: { SizeBytes: m.tmpfsSize } } : {}) };
  }
}
