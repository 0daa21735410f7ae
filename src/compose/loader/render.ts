/**
 * renderConfig: a Project as `docker compose config` prints it — the canonical form of
 * compose-go's types: `name:` first, then services (by name), networks, volumes (JSON: those keys
 * sorted, as a Go map); service keys in compose-go's field order, long syntaxes, absolute paths, sizes in
 * bytes, durations as Go durations; unset attributes left out.
 */
import { stringify } from 'yaml';
import type { Mount, Network, Port, Project, Service, Volume } from '../model.js';
import { formatDuration } from './units.js';

type Obj = Record<string, unknown>;

function nonEmpty(o: Record<string, unknown>): boolean {
  return Object.keys(o).length > 0;
}

function sortedKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}

function port(p: Port): Obj {
  const o: Obj = { mode: 'ingress' };
  if (p.hostIp !== null) o.host_ip = p.hostIp;
  o.target = p.target;
  if (p.published !== null) o.published = p.published;
  o.protocol = p.protocol;
  return o;
}

function volumeMount(m: Mount): Obj {
  const o: Obj = { type: m.type };
  if (m.source !== null) o.source = m.source;
  o.target = m.target;
  if (m.readOnly) o.read_only = true;
  if (m.type === 'bind') {
    const b: Obj = {};
    if (m.bindPropagation !== null) b.propagation = m.bindPropagation;
    if (m.createHostPath) b.create_host_path = true;
    if (nonEmpty(b)) o.bind = b;
  } else if (m.type === 'volume') {
    o.volume = m.volumeNocopy ? { nocopy: true } : {};
  } else if (m.tmpfsSize !== null) {
    o.tmpfs = { size: m.tmpfsSize };
  }
  return o;
}

/** compose-go's ServiceConfig field order (types.go), which its YAML and JSON follow. */
const SERVICE_ORDER = [
  'profiles', 'annotations', 'attach', 'build', 'develop', 'blkio_config', 'cap_add', 'cap_drop', 'cgroup_parent', 'cgroup',
  'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpus', 'cpuset', 'cpu_shares',
  'command', 'configs', 'container_name', 'credential_spec', 'depends_on', 'deploy', 'device_cgroup_rules', 'devices', 'dns',
  'dns_opt', 'dns_search', 'dockerfile', 'domainname', 'entrypoint', 'provider', 'environment', 'env_file', 'expose', 'extends',
  'external_links', 'extra_hosts', 'group_add', 'gpus', 'hostname', 'healthcheck', 'image', 'init', 'ipc', 'isolation', 'labels',
  'label_file', 'links', 'logging', 'log_driver', 'log_opt', 'mem_limit', 'mem_reservation', 'memswap_limit', 'mem_swappiness',
  'mac_address', 'models', 'net', 'network_mode', 'networks', 'oom_kill_disable', 'oom_score_adj', 'pid', 'pids_limit',
  'platform', 'ports', 'privileged', 'pull_policy', 'read_only', 'restart', 'runtime', 'scale', 'secrets', 'security_opt',
  'shm_size', 'stdin_open', 'stop_grace_period', 'stop_signal', 'storage_opt', 'sysctls', 'tmpfs', 'tty', 'ulimits',
  'use_api_socket', 'user', 'userns_mode', 'uts', 'volume_driver', 'volumes', 'volumes_from', 'working_dir',
];

function ordered(o: Obj, order: string[]): Obj {
  const out: Obj = {};
  for (const k of order) if (k in o) out[k] = o[k];
  for (const k of Object.keys(o)) if (!(k in out)) out[k] = o[k];
  return out;
}

function service(s: Service, project: string): Obj {
  const o: Obj = {};
  if (s.build) {
    const b = s.build;
    const bo: Obj = { context: b.context, dockerfile: b.dockerfile };
    if (b.dockerfileInline !== null) bo.dockerfile_inline = b.dockerfileInline;
    if (nonEmpty(b.args)) bo.args = sortedKeys(b.args);
    if (nonEmpty(b.labels)) bo.labels = sortedKeys(b.labels);
    if (b.cacheFrom.length) bo.cache_from = b.cacheFrom;
    if (b.noCache) bo.no_cache = true;
    if (b.network !== null) bo.network = b.network;
    if (b.pull) bo.pull = true;
    if (b.target !== null) bo.target = b.target;
    if (b.shmSize !== null) bo.shm_size = String(b.shmSize);
    if (b.extraHosts.length) bo.extra_hosts = b.extraHosts;
    if (b.tags.length) bo.tags = b.tags;
    o.build = bo;
  }
  if (s.capAdd.length) o.cap_add = s.capAdd;
  if (s.capDrop.length) o.cap_drop = s.capDrop;
  if (s.cpus !== null) o.cpus = s.cpus;
  if (s.cpuShares !== null) o.cpu_shares = s.cpuShares;
  if (s.cpuset !== null) o.cpuset = s.cpuset;
  if (s.command !== null) o.command = s.command;
  if (s.containerName !== null) o.container_name = s.containerName;
  if (nonEmpty(s.dependsOn)) {
    o.depends_on = sortedKeys(
      Object.fromEntries(Object.entries(s.dependsOn).map(([k, d]) => [k, { condition: d.condition, ...(d.restart ? { restart: true } : {}), required: d.required }])),
    );
  }
  if (s.devices.length) o.devices = s.devices;
  if (s.dns.length) o.dns = s.dns;
  if (s.dnsOpt.length) o.dns_opt = s.dnsOpt;
  if (s.dnsSearch.length) o.dns_search = s.dnsSearch;
  if (s.domainname !== null) o.domainname = s.domainname;
  if (s.entrypoint !== null) o.entrypoint = s.entrypoint;
  if (nonEmpty(s.environment)) o.environment = sortedKeys(s.environment);
  if (s.expose.length) o.expose = s.expose;
  // compose-go's HostsList marshals as sorted `host=ip`.
  if (s.extraHosts.length) o.extra_hosts = s.extraHosts.map((h) => h.replace(':', '=')).sort();
  if (s.groupAdd.length) o.group_add = s.groupAdd;
  if (s.hostname !== null) o.hostname = s.hostname;
  if (s.healthcheck) {
    const h = s.healthcheck;
    const ho: Obj = {};
    if (h.test.length) ho.test = h.test;
    if (h.timeout !== null) ho.timeout = formatDuration(h.timeout);
    if (h.interval !== null) ho.interval = formatDuration(h.interval);
    if (h.retries !== null) ho.retries = h.retries;
    if (h.startPeriod !== null) ho.start_period = formatDuration(h.startPeriod);
    if (h.startInterval !== null) ho.start_interval = formatDuration(h.startInterval);
    if (h.disable) ho.disable = true;
    o.healthcheck = ho;
  }
  // compose-go leaves a build-only service's image unset; `<project>-<service>` is applied at build time.
  if (!(s.build && s.image === `${project}-${s.name}`)) o.image = s.image;
  if (s.init !== null) o.init = s.init;
  if (s.ipc !== null) o.ipc = s.ipc;
  if (nonEmpty(s.labels)) o.labels = sortedKeys(s.labels);
  if (s.logging) {
    const lo: Obj = {};
    if (s.logging.driver !== null) lo.driver = s.logging.driver;
    if (nonEmpty(s.logging.options)) lo.options = sortedKeys(s.logging.options);
    o.logging = lo;
  }
  if (s.memLimit !== null) o.mem_limit = String(s.memLimit);
  if (s.memReservation !== null) o.mem_reservation = String(s.memReservation);
  if (s.memswapLimit !== null) o.memswap_limit = String(s.memswapLimit);
  if (s.networkMode !== null) o.network_mode = s.networkMode;
  if (nonEmpty(s.networks)) {
    o.networks = sortedKeys(
      Object.fromEntries(
        Object.entries(s.networks).map(([k, n]) => {
          const no: Obj = {};
          if (n.aliases.length) no.aliases = n.aliases;
          if (n.ipv4Address !== null) no.ipv4_address = n.ipv4Address;
          if (n.ipv6Address !== null) no.ipv6_address = n.ipv6Address;
          if (n.macAddress !== null) no.mac_address = n.macAddress;
          if (n.priority !== 0) no.priority = n.priority;
          return [k, nonEmpty(no) ? no : null];
        }),
      ),
    );
  }
  if (s.oomScoreAdj !== null) o.oom_score_adj = s.oomScoreAdj;
  if (s.pid !== null) o.pid = s.pid;
  if (s.pidsLimit !== null) o.pids_limit = s.pidsLimit;
  if (s.platform !== null) o.platform = s.platform;
  if (s.ports.length) o.ports = s.ports.map(port);
  if (s.privileged) o.privileged = true;
  if (s.profiles.length) o.profiles = s.profiles;
  if (s.pullPolicy !== 'missing') o.pull_policy = s.pullPolicy;
  if (s.readOnly) o.read_only = true;
  if (s.restart !== 'no') o.restart = s.restart;
  if (s.scale !== 1) o.scale = s.scale;
  if (s.securityOpt.length) o.security_opt = s.securityOpt;
  if (s.shmSize !== null) o.shm_size = String(s.shmSize);
  if (s.stdinOpen) o.stdin_open = true;
  if (s.stopGracePeriod !== null) o.stop_grace_period = formatDuration(Math.round(s.stopGracePeriod * 1e9));
  if (s.stopSignal !== null) o.stop_signal = s.stopSignal;
  if (nonEmpty(s.sysctls)) o.sysctls = sortedKeys(s.sysctls);
  if (s.tmpfs.length) o.tmpfs = s.tmpfs;
  if (s.tty) o.tty = true;
  if (nonEmpty(s.ulimits)) {
    o.ulimits = sortedKeys(Object.fromEntries(Object.entries(s.ulimits).map(([k, u]) => [k, u.soft === u.hard ? u.soft : { soft: u.soft, hard: u.hard }])));
  }
  if (s.user !== null) o.user = s.user;
  if (s.volumes.length) o.volumes = s.volumes.map(volumeMount);
  if (s.volumesFrom.length) o.volumes_from = s.volumesFrom;
  if (s.workingDir !== null) o.working_dir = s.workingDir;
  return ordered(o, SERVICE_ORDER);
}

const NETWORK_ORDER = ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels', 'enable_ipv4', 'enable_ipv6'];

function network(n: Network): Obj {
  const o: Obj = { name: n.name };
  if (n.driver !== 'bridge') o.driver = n.driver;
  if (nonEmpty(n.driverOpts)) o.driver_opts = sortedKeys(n.driverOpts);
  if (n.ipam.driver !== undefined || n.ipam.config.length) {
    const ipam: Obj = {};
    if (n.ipam.driver !== undefined) ipam.driver = n.ipam.driver;
    if (n.ipam.config.length) {
      ipam.config = n.ipam.config.map((c) => ({
        ...(c.subnet !== undefined ? { subnet: c.subnet } : {}),
        ...(c.gateway !== undefined ? { gateway: c.gateway } : {}),
        ...(c.ipRange !== undefined ? { ip_range: c.ipRange } : {}),
        ...(c.auxAddresses !== undefined ? { aux_addresses: sortedKeys(c.auxAddresses) } : {}),
      }));
    }
    o.ipam = ipam;
  }
  if (n.external) o.external = true;
  if (n.internal) o.internal = true;
  if (n.enableIpv6) o.enable_ipv6 = true;
  if (n.attachable) o.attachable = true;
  if (nonEmpty(n.labels)) o.labels = sortedKeys(n.labels);
  return ordered(o, NETWORK_ORDER);
}

function volume(v: Volume): Obj {
  const o: Obj = { name: v.name };
  if (v.driver !== 'local') o.driver = v.driver;
  if (nonEmpty(v.driverOpts)) o.driver_opts = sortedKeys(v.driverOpts);
  if (v.external) o.external = true;
  if (nonEmpty(v.labels)) o.labels = sortedKeys(v.labels);
  return o;
}

/** The canonical project as a plain object, in compose's key order. */
export function canonicalConfig(p: Project): Obj {
  const o: Obj = { name: p.name, services: sortedKeys(Object.fromEntries(Object.entries(p.services).map(([k, s]) => [k, service(s, p.name)]))) };
  if (nonEmpty(p.networks)) o.networks = sortedKeys(Object.fromEntries(Object.entries(p.networks).map(([k, n]) => [k, network(n)])));
  if (nonEmpty(p.volumes)) o.volumes = sortedKeys(Object.fromEntries(Object.entries(p.volumes).map(([k, v]) => [k, volume(v)])));
  return o;
}

/** `docker compose config` output: YAML (default) or JSON (`--format json`). */
export function renderConfig(p: Project, format: 'yaml' | 'json' = 'yaml'): string {
  const o = canonicalConfig(p);
  // compose marshals the project as a Go map for JSON: top-level keys sorted.
  if (format === 'json') return `${JSON.stringify(sortedKeys(o), null, 2)}\n`;
  return stringify(o, { lineWidth: 0, minContentWidth: 0, nullStr: 'null', aliasDuplicateObjects: false });
}
