/**
 * The flags `run` and `create` share, and the pure mapping from them to the
 * POST /containers/create body (Config + HostConfig + NetworkingConfig), following what docker's
 * cli/command/container/opts.go parse() sends, so later engine work needs no CLI changes.
 */
import type { FlagDef, Flags } from './flags.js';
import { kvMap } from './flag-values.js';

type Json = Record<string, unknown>;

const list = (name: string, usage: string, short?: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ name, short, kind: 'stringArray', valueName: 'list', usage, ...extra });
const str = (name: string, usage: string, short?: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ name, short, kind: 'string', usage, ...extra });
const bool = (name: string, usage: string, short?: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ name, short, kind: 'bool', usage, ...extra });
const int = (name: string, usage: string, short?: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ name, short, kind: 'int', usage, ...extra });
const dur = (name: string, usage: string): FlagDef => ({ name, kind: 'duration', usage: `${usage} (ms|s|m|h) (default 0s)` });
const bytes = (name: string, usage: string, short?: string): FlagDef => ({ name, short, kind: 'string', valueName: 'bytes', usage });

export const CONTAINER_FLAGS: FlagDef[] = [
  list('add-host', 'Add a custom host-to-IP mapping (host:ip)'),
  list('annotation', 'Add an annotation to the container (passed through to the OCI runtime)', undefined, { valueName: 'map' }),
  list('attach', 'Attach to STDIN, STDOUT or STDERR', 'a'),
  { name: 'blkio-weight', kind: 'uint', valueName: 'uint16', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  list('blkio-weight-device', 'Block IO weight (relative device weight)'),
  list('cap-add', 'Add Linux capabilities'),
  list('cap-drop', 'Drop Linux capabilities'),
  str('cgroup-parent', 'Optional parent cgroup for the container'),
  str('cgroupns', 'Cgroup namespace to use (host|private)'),
  str('cidfile', 'Write the container ID to the file'),
  int('cpu-count', 'CPU count (Windows only)'),
  int('cpu-percent', 'CPU percent (Windows only)'),
  int('cpu-period', 'Limit CPU CFS (Completely Fair Scheduler) period'),
  int('cpu-quota', 'Limit CPU CFS (Completely Fair Scheduler) quota'),
  int('cpu-rt-period', 'Limit CPU real-time period in microseconds'),
  int('cpu-rt-runtime', 'Limit CPU real-time runtime in microseconds'),
  int('cpu-shares', 'CPU shares (relative weight)', 'c'),
  str('cpus', 'Number of CPUs', undefined, { valueName: 'decimal' }),
  str('cpuset-cpus', 'CPUs in which to allow execution (0-3, 0,1)'),
  str('cpuset-mems', 'MEMs in which to allow execution (0-3, 0,1)'),
  list('device', 'Add a host device to the container'),
  list('device-cgroup-rule', 'Add a rule to the cgroup allowed devices list'),
  list('device-read-bps', 'Limit read rate (bytes per second) from a device'),
  list('device-read-iops', 'Limit read rate (IO per second) from a device'),
  list('device-write-bps', 'Limit write rate (bytes per second) to a device'),
  list('device-write-iops', 'Limit write rate (IO per second) to a device'),
  bool('disable-content-trust', 'Skip image verification (deprecated)', undefined, { hidden: true }),
  list('dns', 'Set custom DNS servers'),
  list('dns-option', 'Set DNS options', undefined, { aliases: ['dns-opt'] }),
  list('dns-search', 'Set custom DNS search domains'),
  str('domainname', 'Container NIS domain name'),
  str('entrypoint', 'Overwrite the default ENTRYPOINT of the image'),
  list('env', 'Set environment variables', 'e', { validate: validateEnv }),
  list('env-file', 'Read in a file of environment variables'),
  list('expose', 'Expose a port or a range of ports'),
  str('gpus', "GPU devices to add to the container ('all' to pass all GPUs)", undefined, { valueName: 'gpu-request' }),
  list('group-add', 'Add additional groups to join'),
  str('health-cmd', 'Command to run to check health'),
  dur('health-interval', 'Time between running the check'),
  str('health-on-failure', 'Action to take once the container turns unhealthy (none|kill|restart|stop)'),
  int('health-retries', 'Consecutive failures needed to report unhealthy'),
  dur('health-start-interval', 'Time between running the check during the start period'),
  dur('health-start-period', 'Start period for the container to initialize before starting health-retries countdown'),
  dur('health-timeout', 'Maximum time to allow one check to run'),
  str('hostname', 'Container host name', 'h'),
  bool('init', 'Run an init inside the container that forwards signals and reaps processes'),
  bool('interactive', 'Keep STDIN open even if not attached', 'i'),
  str('ip', 'IPv4 address (e.g., 172.30.100.104)'),
  str('ip6', 'IPv6 address (e.g., 2001:db8::33)'),
  str('ipc', 'IPC mode to use'),
  str('isolation', 'Container isolation technology'),
  bytes('kernel-memory', 'Kernel memory limit (deprecated)'),
  list('label', 'Set meta data on a container', 'l'),
  list('label-file', 'Read in a line delimited file of labels'),
  list('link', 'Add link to another container'),
  list('link-local-ip', 'Container IPv4/IPv6 link-local addresses'),
  str('log-driver', 'Logging driver for the container'),
  list('log-opt', 'Log driver options'),
  str('mac-address', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'),
  bytes('memory', 'Memory limit', 'm'),
  bytes('memory-reservation', 'Memory soft limit'),
  bytes('memory-swap', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
  int('memory-swappiness', 'Tune container memory swappiness (0 to 100)', undefined, { default: -1 }),
  list('mount', 'Attach a filesystem mount to the container', undefined, { valueName: 'mount' }),
  list('network', 'Connect a container to a network', undefined, { valueName: 'network', aliases: ['net'] }),
  list('network-alias', 'Add network-scoped alias for the container', undefined, { aliases: ['net-alias'] }),
  bool('no-healthcheck', 'Disable any container-specified HEALTHCHECK'),
  bool('oom-kill-disable', 'Disable OOM Killer'),
  int('oom-score-adj', "Tune host's OOM preferences (-1000 to 1000)"),
  str('pid', 'PID namespace to use'),
  int('pids-limit', 'Tune container pids limit (set -1 for unlimited)'),
  str('platform', 'Set platform if server is multi-platform capable'),
  bool('privileged', 'Give extended privileges to this container'),
  list('publish', "Publish a container's port(s) to the host", 'p'),
  bool('publish-all', 'Publish all exposed ports to random ports', 'P'),
  str('pull', 'Pull image before running ("always", "missing", "never")', undefined, { default: 'missing' }),
  bool('quiet', 'Suppress the pull output', 'q'),
  bool('read-only', "Mount the container's root filesystem as read only"),
  str('restart', 'Restart policy to apply when a container exits', undefined, { default: 'no' }),
  bool('rm', 'Automatically remove the container and its associated anonymous volumes when it exits'),
  str('runtime', 'Runtime to use for this container'),
  list('security-opt', 'Security Options'),
  bytes('shm-size', 'Size of /dev/shm'),
  str('stop-signal', 'Signal to stop the container'),
  int('stop-timeout', 'Timeout (in seconds) to stop a container'),
  list('storage-opt', 'Storage driver options for the container'),
  list('sysctl', 'Sysctl options', undefined, { valueName: 'map' }),
  list('tmpfs', 'Mount a tmpfs directory'),
  bool('tty', 'Allocate a pseudo-TTY', 't'),
  list('ulimit', 'Ulimit options', undefined, { valueName: 'ulimit' }),
  bool('use-api-socket', 'Bind mount Docker API socket and required auth'),
  str('user', 'Username or UID (format: <name|uid>[:<group|gid>])', 'u'),
  str('userns', 'User namespace to use'),
  str('uts', 'UTS namespace to use'),
  list('volume', 'Bind mount a volume', 'v'),
  str('volume-driver', 'Optional volume driver for the container'),
  list('volumes-from', 'Mount volumes from the specified container(s)'),
  str('workdir', 'Working directory inside the container', 'w'),
  str('name', 'Assign a name to the container'),
];

export const RUN_ONLY_FLAGS: FlagDef[] = [
  bool('detach', 'Run container in background and print container ID', 'd'),
  str('detach-keys', 'Override the key sequence for detaching a container'),
  bool('sig-proxy', 'Proxy received signals to the process', undefined, { default: true }),
];

/** docker's opts.ValidateEnv: a variable needs a name. */
export function validateEnv(v: string): string | undefined {
  return v.startsWith('=') || v === '' ? `invalid environment variable: ${v}` : undefined;
}

/** docker's units.RAMInBytes: "512m", "1g", "1.5GB", "100" (bytes); binary multiples. */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * (mult[(m[2] ?? '').toLowerCase()] ?? 1));
}

/** Lines of an --env-file / --label-file: blank and # lines skipped, leading space trimmed. */
export function parseKeyValueFile(content: string, lookup?: (k: string) => string | undefined): string[] {
  const out: string[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line;
    if (key === '') throw new Error(`no variable name on line '${line}'`);
    if (/\s/.test(key)) throw new Error(`variable '${key.trimEnd()}' contains whitespaces`);
    if (eq >= 0) out.push(line);
    else if (lookup) {
      const v = lookup(key);
      out.push(v === undefined ? key : `${key}=${v}`);
    } else out.push(line);
  }
  return out;
}

export interface PortSpec {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
}

function expandRange(r: string, what: string): number[] {
  const [a, b] = r.split('-');
  const start = Number(a);
  const end = b === undefined ? start : Number(b);
  if (!/^\d+(-\d+)?$/.test(r) || start > end || end > 65535) throw new Error(`invalid ${what}: ${r}`);
  const out: number[] = [];
  for (let p = start; p <= end; p++) out.push(p);
  return out;
}

/** `-p [ip:][hostPort:]containerPort[/proto]` with ranges, as go-connections/nat.ParsePortSpecs. */
export function parsePorts(publish: string[], expose: string[] = []): PortSpec {
  const exposed: PortSpec['exposed'] = {};
  const bindings: PortSpec['bindings'] = {};
  for (const spec of publish) {
    let rest = spec;
    let proto = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      proto = rest.slice(slash + 1).toLowerCase();
      rest = rest.slice(0, slash);
    }
    let ip = '';
    // IPv6 in brackets: [::1]:80:80
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      ip = rest.slice(1, close);
      rest = rest.slice(close + 2);
    }
    const parts = rest.split(':');
    let hostPart = '';
    let ctrPart: string;
    if (parts.length === 1) ctrPart = parts[0] as string;
    else if (parts.length === 2) { hostPart = parts[0] as string; ctrPart = parts[1] as string; }
    else if (parts.length === 3 && !ip) { ip = parts[0] as string; hostPart = parts[1] as string; ctrPart = parts[2] as string; }
    else throw new Error(`invalid port format: ${spec}`);
    if (ctrPart === '') throw new Error(`no port specified: ${spec}<empty>`);
    const ctr = expandRange(ctrPart, 'containerPort');
    const host = hostPart ? expandRange(hostPart, 'hostPort') : [];
    if (host.length > 1 && host.length !== ctr.length) {
      // a host range for one container port: docker lets the daemon pick within the range
      if (ctr.length !== 1) throw new Error(`invalid ranges specified for container and host Ports: ${ctrPart} and ${hostPart}`);
    }
    ctr.forEach((p, i) => {
      const key = `${p}/${proto}`;
      exposed[key] = {};
      let hp = '';
      if (host.length === ctr.length) hp = String(host[i]);
      else if (host.length > 1) hp = hostPart;
      else if (host.length === 1) hp = String(host[0]);
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
    });
  }
  for (const e of expose) {
    const [range, proto = 'tcp'] = e.split('/');
    for (const p of expandRange(range ?? '', 'range format for --expose')) exposed[`${p}/${proto}`] = {};
  }
  return { exposed, bindings };
}

/** docker's opts.ParseRestartPolicy plus the daemon's ValidateRestartPolicy, with their messages. */
export function parseRestartPolicy(s: string): { Name: string; MaximumRetryCount: number } {
  if (s === '') return { Name: 'no', MaximumRetryCount: 0 };
  const colon = s.indexOf(':');
  const name = colon < 0 ? s : s.slice(0, colon);
  const count = colon < 0 ? '' : s.slice(colon + 1);
  if (colon === 0) throw new Error('invalid restart policy format: no policy provided before colon');
  if (count !== '' && !/^[+-]?\d+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
  const max = count === '' ? 0 : Number(count);
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
    throw new Error(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (name !== 'on-failure' && max !== 0) {
    throw new Error(`invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? ' and cannot be negative' : ''}`);
  }
  if (max < 0) throw new Error('invalid restart policy: maximum retry count cannot be negative');
  return { Name: name, MaximumRetryCount: max };
}

/** `--mount type=bind,source=/a,target=/b,readonly` -> the API's Mount object. */
export function parseMount(spec: string): Json {
  const m: Json = { Type: 'volume' };
  const bind: Json = {};
  const vol: Json = {};
  const tmpfs: Json = {};
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    switch (key) {
      case 'type': m['Type'] = val; break;
      case 'source': case 'src': m['Source'] = val; break;
      case 'target': case 'destination': case 'dst': m['Target'] = val; break;
      case 'readonly': case 'ro': m['ReadOnly'] = val === undefined || val === 'true' || val === '1'; break;
      case 'consistency': m['Consistency'] = val; break;
      case 'bind-propagation': bind['Propagation'] = val; break;
      case 'volume-nocopy': vol['NoCopy'] = val === undefined || val === 'true'; break;
      case 'volume-driver': vol['DriverConfig'] = { Name: val }; break;
      case 'tmpfs-size': tmpfs['SizeBytes'] = parseBytes(val ?? ''); break;
      case 'tmpfs-mode': tmpfs['Mode'] = parseInt(val ?? '', 8); break;
      default: throw new Error(`invalid field '${key}' must be a key=value pair`);
    }
  }
  if (!m['Target']) throw new Error('target is required');
  if (Object.keys(bind).length) m['BindOptions'] = bind;
  if (Object.keys(vol).length) m['VolumeOptions'] = vol;
  if (Object.keys(tmpfs).length) m['TmpfsOptions'] = tmpfs;
  return m;
}

function throttle(items: string[], rate: 'Rate' | 'Weight', parse: (v: string) => number): Json[] {
  return items.map((it) => {
    const i = it.lastIndexOf(':');
    return { Path: it.slice(0, i), [rate]: parse(it.slice(i + 1)) };
  });
}

function ulimits(items: string[]): Json[] {
  return items.map((it) => {
    const [name, limits = ''] = it.split('=');
    const [soft, hard] = limits.split(':');
    return { Name: name, Soft: Number(soft), Hard: Number(hard ?? soft) };
  });
}

export interface BuildInput {
  flags: Flags;
  image: string;
  args: string[];
  /** Reads --env-file / --label-file contents (tests pass a fake). */
  readFile: (path: string) => string;
  /** Looks up a bare `-e NAME` in the client's environment. */
  lookupEnv: (name: string) => string | undefined;
  /** Resolves a relative bind source ("./data") against the working directory. */
  resolvePath: (p: string) => string;
  /** [height, width] of the client's terminal when it is one. */
  consoleSize?: [number, number];
  /** True for `run -d`: nothing is attached. */
  detach?: boolean;
}

export interface ContainerCreateBody extends Json {
  HostConfig: Json;
  NetworkingConfig: { EndpointsConfig: Record<string, Json> };
}

/**
 * Flags to the create body. Throws Error with docker's wording on invalid input; the caller
 * prints it with withHelp() and exits 125.
 */
export function buildCreateBody(input: BuildInput): ContainerCreateBody {
  const f = input.flags;
  const attach = f.array('attach').map((a) => a.toLowerCase());
  for (const a of attach) {
    if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new Error(`valid streams are STDIN, STDOUT and STDERR`);
  }
  const stdinOpen = f.bool('interactive');
  let attachStdin = attach.includes('stdin') || stdinOpen;
  let attachStdout = attach.length === 0 || attach.includes('stdout');
  let attachStderr = attach.length === 0 || attach.includes('stderr');
  if (input.detach) {
    if (attach.length) throw new Error('conflicting options: cannot specify both --attach and --detach');
    attachStdin = attachStdout = attachStderr = false;
  }

  const swappiness = f.number('memory-swappiness');
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  // -v: anything with a source is a bind (or named volume) in Binds; a bare path is an anonymous volume.
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of f.array('volume')) {
    const parts = v.split(':');
    if (parts.length === 1) {
      volumes[v] = {};
      continue;
    }
    let host = parts[0] as string;
    if (host.startsWith('.')) host = input.resolvePath(host);
    binds.push([host, ...parts.slice(1)].join(':'));
  }

  const tmpfs: Record<string, string> = {};
  for (const t of f.array('tmpfs')) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }

  let entrypoint: string[] | null = null;
  if (f.string('entrypoint') !== '') entrypoint = [f.string('entrypoint')];
  else if (f.has('entrypoint')) entrypoint = [''];

  const ports = parsePorts(f.array('publish'), f.array('expose'));

  let env: string[];
  try {
    const fromFiles = f.array('env-file').flatMap((p) => parseKeyValueFile(input.readFile(p), input.lookupEnv));
    env = [...fromFiles, ...f.array('env').map((e) => {
      if (e.includes('=')) return e;
      const v = input.lookupEnv(e);
      return v === undefined ? e : `${e}=${v}`;
    })];
  } catch (err) {
    throw new Error(`--env-file: ${(err as Error).message}`);
  }
  let labels: string[];
  try {
    labels = [...f.array('label-file').flatMap((p) => parseKeyValueFile(input.readFile(p))), ...f.array('label')];
  } catch (err) {
    throw new Error(`--label-file: ${(err as Error).message}`);
  }

  const restart = parseRestartPolicy(f.string('restart'));
  if (f.bool('rm') && restart.Name !== 'no') throw new Error('conflicting options: cannot specify both --restart and --rm');

  const logOpts = kvMap(f.array('log-opt'));
  if (Object.keys(logOpts).length && f.string('log-driver') === 'none') {
    throw new Error('invalid logging opts for driver none');
  }

  let healthcheck: Json | undefined;
  const hasHealth = ['health-cmd', 'health-interval', 'health-timeout', 'health-start-period', 'health-retries', 'health-start-interval']
    .some((n) => f.has(n) && f.string(n) !== '' && f.number(n) !== 0);
  // Podman's --health-on-failure; carried as a label, which the engine reads (docker's API has no field).
  const onFailure = f.string('health-on-failure');
  if (onFailure !== '') {
    if (!['none', 'kill', 'restart', 'stop'].includes(onFailure)) {
      throw new Error(`invalid argument "${onFailure}" for "--health-on-failure" flag: use one of none, kill, restart, stop`);
    }
    if (f.bool('no-healthcheck') && onFailure !== 'none') throw new Error('--health-on-failure conflicts with --no-healthcheck');
    labels.push(`io.hako.health.on-failure=${onFailure}`);
  }
  if (f.bool('no-healthcheck')) {
    if (hasHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (hasHealth) {
    for (const n of ['health-interval', 'health-timeout', 'health-retries', 'health-start-period', 'health-start-interval']) {
      if (f.number(n) < 0) throw new Error(`--${n} cannot be negative`);
    }
    const ns = (n: string): number => Math.round(f.number(n) * 1e6);
    healthcheck = {
      Test: f.string('health-cmd') ? ['CMD-SHELL', f.string('health-cmd')] : null,
      Interval: ns('health-interval'),
      Timeout: ns('health-timeout'),
      StartPeriod: ns('health-start-period'),
      StartInterval: ns('health-start-interval'),
      Retries: f.number('health-retries'),
    };
  }

  const memBytes = (n: string): number => (f.string(n) ? (f.string(n) === '-1' ? -1 : parseBytes(f.string(n))) : 0);
  let nanoCpus = 0;
  if (f.string('cpus')) {
    const c = Number(f.string('cpus'));
    if (!Number.isFinite(c) || c < 0) throw new Error(`invalid argument "${f.string('cpus')}" for "--cpus" flag: failed to parse ${f.string('cpus')} as a rational number`);
    nanoCpus = Math.round(c * 1e9);
  }

  const networks = f.array('network');
  const networkMode = networks[0] ?? 'default';
  const endpoints: Record<string, Json> = {};
  const aliases = f.array('network-alias');
  const ipam: Json = {};
  if (f.string('ip')) ipam['IPv4Address'] = f.string('ip');
  if (f.string('ip6')) ipam['IPv6Address'] = f.string('ip6');
  if (f.array('link-local-ip').length) ipam['LinkLocalIPs'] = f.array('link-local-ip');
  const first: Json = {};
  if (aliases.length) first['Aliases'] = aliases;
  if (Object.keys(ipam).length) first['IPAMConfig'] = ipam;
  if (f.array('link').length && networks.length && networkMode !== 'default' && networkMode !== 'bridge') first['Links'] = f.array('link');
  if (f.string('mac-address')) first['MacAddress'] = f.string('mac-address');
  if (Object.keys(first).length) endpoints[networkMode] = first;
  for (const n of networks.slice(1)) {
    if (n in endpoints || n === networkMode) throw new Error(`network "${n}" is specified multiple times`);
    endpoints[n] = {};
  }

  const securityOpt = parseSecurityOpts(f.array('security-opt'), input.readFile);
  const maskedPaths = securityOpt.includes('systempaths=unconfined') ? [] : undefined;

  const config: Json = {
    Hostname: f.string('hostname'),
    Domainname: f.string('domainname'),
    User: f.string('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(ports.exposed).length ? ports.exposed : undefined,
    Tty: f.bool('tty'),
    OpenStdin: stdinOpen,
    // When allocating stdin in attached mode, close stdin at client disconnect (docker's parse()).
    StdinOnce: stdinOpen && attachStdin,
    Env: env,
    Cmd: input.args.length ? input.args : null,
    Healthcheck: healthcheck,
    Image: input.image,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    WorkingDir: f.string('workdir'),
    Entrypoint: entrypoint,
    Labels: kvMap(labels),
    StopSignal: f.string('stop-signal') || undefined,
    StopTimeout: f.has('stop-timeout') ? f.number('stop-timeout') : undefined,
  };

  const hostConfig: Json = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: f.string('cidfile'),
    LogConfig: { Type: f.string('log-driver'), Config: logOpts },
    NetworkMode: networkMode,
    PortBindings: ports.bindings,
    RestartPolicy: restart,
    AutoRemove: f.bool('rm'),
    VolumeDriver: f.string('volume-driver'),
    VolumesFrom: f.array('volumes-from').length ? f.array('volumes-from') : null,
    ConsoleSize: input.consoleSize ?? [0, 0],
    Annotations: f.array('annotation').length ? kvMap(f.array('annotation')) : undefined,
    CapAdd: f.array('cap-add').length ? f.array('cap-add') : null,
    CapDrop: f.array('cap-drop').length ? f.array('cap-drop') : null,
    CgroupnsMode: f.string('cgroupns'),
    Dns: f.array('dns'),
    DnsOptions: f.array('dns-option'),
    DnsSearch: f.array('dns-search'),
    ExtraHosts: f.array('add-host').length ? f.array('add-host') : null,
    GroupAdd: f.array('group-add').length ? f.array('group-add') : null,
    IpcMode: f.string('ipc'),
    Cgroup: '',
    Links: f.array('link').length ? f.array('link') : null,
    OomScoreAdj: f.number('oom-score-adj'),
    PidMode: f.string('pid'),
    Privileged: f.bool('privileged'),
    PublishAllPorts: f.bool('publish-all'),
    ReadonlyRootfs: f.bool('read-only'),
    SecurityOpt: securityOpt.length ? securityOpt : null,
    StorageOpt: f.array('storage-opt').length ? kvMap(f.array('storage-opt')) : undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    UTSMode: f.string('uts'),
    UsernsMode: f.string('userns'),
    ShmSize: memBytes('shm-size'),
    Sysctls: f.array('sysctl').length ? kvMap(f.array('sysctl')) : undefined,
    Runtime: f.string('runtime') || undefined,
    Isolation: f.string('isolation'),
    // Resources
    CpuShares: f.number('cpu-shares'),
    Memory: memBytes('memory'),
    NanoCpus: nanoCpus,
    CgroupParent: f.string('cgroup-parent'),
    BlkioWeight: f.number('blkio-weight'),
    BlkioWeightDevice: throttle(f.array('blkio-weight-device'), 'Weight', Number),
    BlkioDeviceReadBps: throttle(f.array('device-read-bps'), 'Rate', parseBytes),
    BlkioDeviceWriteBps: throttle(f.array('device-write-bps'), 'Rate', parseBytes),
    BlkioDeviceReadIOps: throttle(f.array('device-read-iops'), 'Rate', Number),
    BlkioDeviceWriteIOps: throttle(f.array('device-write-iops'), 'Rate', Number),
    CpuPeriod: f.number('cpu-period'),
    CpuQuota: f.number('cpu-quota'),
    CpuRealtimePeriod: f.number('cpu-rt-period'),
    CpuRealtimeRuntime: f.number('cpu-rt-runtime'),
    CpusetCpus: f.string('cpuset-cpus'),
    CpusetMems: f.string('cpuset-mems'),
    Devices: f.array('device').map((d) => {
      const [host = '', ctr = host, perms = 'rwm'] = d.split(':');
      return { PathOnHost: host, PathInContainer: ctr, CgroupPermissions: perms };
    }),
    DeviceCgroupRules: f.array('device-cgroup-rule').length ? f.array('device-cgroup-rule') : null,
    MemoryReservation: memBytes('memory-reservation'),
    MemorySwap: memBytes('memory-swap'),
    MemorySwappiness: swappiness,
    OomKillDisable: f.bool('oom-kill-disable'),
    PidsLimit: f.number('pids-limit'),
    Ulimits: ulimits(f.array('ulimit')),
    Mounts: f.array('mount').length ? f.array('mount').map(parseMount) : undefined,
    MaskedPaths: maskedPaths,
    ReadonlyPaths: maskedPaths,
    Init: f.has('init') ? f.bool('init') : undefined,
  };

  return { ...stripUndefined(config), HostConfig: stripUndefined(hostConfig), NetworkingConfig: { EndpointsConfig: endpoints } };
}

/**
 * docker's parseSecurityOpts: `seccomp=PROFILE.json` is read here and sent as `seccomp=<compact
 * JSON>` (the daemon never reads client files); `unconfined` and the other options pass as given.
 */
export function parseSecurityOpts(opts: string[], readFile: (path: string) => string): string[] {
  return opts.map((opt) => {
    if (opt === 'no-new-privileges') return opt;
    let i = opt.indexOf('=');
    if (i < 0) i = opt.indexOf(':');
    if (i < 0) throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    if (key !== 'seccomp' || value === 'unconfined') return opt;
    let text: string;
    try {
      text = readFile(value);
    } catch (err) {
      throw new Error(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
    try {
      return `seccomp=${JSON.stringify(JSON.parse(text))}`;
    } catch (err) {
      throw new Error(`compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
  });
}

function stripUndefined(o: Json): Json {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
