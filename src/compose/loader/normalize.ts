/**
 * Raw (interpolated, validated, merged, canonical) service dictionaries → model.ts `Service`:
 * short syntaxes expanded, paths made absolute, sizes in bytes, durations in ns, defaults filled.
 */
import * as path from 'node:path';
import { InvalidArgument } from '../../errdefs/index.js';
import type { Build, Healthcheck, Mount, Port, Service, ServiceNetwork } from '../model.js';
import { isDict, listOrDict, stringMap } from './merge.js';
import { mount, parsePortShort, parseVolumeShort, SyntaxError_ } from './syntax.js';
import { parseBytes, parseDuration, shellSplit } from './units.js';

type Dict = Record<string, unknown>;

export interface NormalizeContext {
  projectName: string;
  workingDir: string;
  home: string | undefined;
  /** The interpolation environment: resolves `KEY` alone in `environment`. */
  lookup: (name: string) => string | undefined;
  /** env_file contents, already parsed (path → variables), by the loader. */
  envFile: (file: string, required: boolean, format: string | null, where: string) => Map<string, string> | null;
  warn: (msg: string) => void;
}

function invalid(msg: string): never {
  throw new InvalidArgument(msg);
}

function fail(where: string, msg: string): never {
  throw new InvalidArgument(`${where}: ${msg}`);
}

export function toBool(v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (/^(1|t|true|y|yes|on)$/i.test(v)) return true;
    if (/^(0|f|false|n|no|off)$/i.test(v)) return false;
  }
  return fail(where, `invalid boolean value ${JSON.stringify(v)}`);
}

function toInt(v: unknown, where: string): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  return fail(where, `invalid integer value ${JSON.stringify(v)}`);
}

function toNumber(v: unknown, where: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'number' && Number.isFinite(n)) return n;
  // String(): JSON.stringify would print 1e400 (Infinity) as null.
  return fail(where, `invalid number ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
}

function bytes(v: unknown, where: string): number | null {
  if (v === undefined || v === null) return null;
  const n = parseBytes(v);
  if (n === null) fail(where, `invalid size ${JSON.stringify(v)}: expected a number of bytes or a size like 512m, 1g`);
  return n;
}

function durationNs(v: unknown, where: string): number | null {
  if (v === undefined || v === null) return null;
  const n = parseDuration(v);
  if (n === null) fail(where, `invalid duration ${JSON.stringify(v)}: expected a Go duration like 30s, 1m30s`);
  return n;
}

function strOrNull(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((e) => String(e));
}

function command(v: unknown, where: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map(String);
  try {
    return shellSplit(String(v));
  } catch (err) {
    return fail(where, (err as Error).message);
  }
}

/** `./x`, `x`, `~/x` → absolute (the working dir, $HOME). */
export function absPath(p: string, base: string, home: string | undefined): string {
  if (p === '~' || p.startsWith('~/')) {
    if (!home) throw new InvalidArgument(`cannot expand "${p}": HOME is not set`);
    return path.join(home, p.slice(1));
  }
  return path.resolve(base, p);
}

function isUrl(s: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(s) || /\.git(#.*)?$/.test(s);
}

function build(raw: unknown, where: string, ctx: NormalizeContext): Build | null {
  if (raw === undefined || raw === null) return null;
  const b = (isDict(raw) ? raw : { context: raw }) as Dict;
  const ctxRaw = b.context === undefined ? '.' : String(b.context);
  const context = isUrl(ctxRaw) ? ctxRaw : absPath(ctxRaw, ctx.workingDir, ctx.home);
  return {
    context,
    dockerfile: b.dockerfile === undefined ? 'Dockerfile' : String(b.dockerfile),
    dockerfileInline: strOrNull(b.dockerfile_inline),
    // `ARG` alone takes its value from the environment, as `environment` does.
    args: Object.fromEntries(Object.entries(listOrDict(b.args)).map(([k, v]) => [k, v ?? ctx.lookup(k) ?? null])),
    target: strOrNull(b.target),
    labels: b.labels ? stringMap(b.labels) : {},
    noCache: b.no_cache === undefined ? false : toBool(b.no_cache, `${where}.no_cache`),
    pull: b.pull === undefined ? false : toBool(b.pull, `${where}.pull`),
    network: strOrNull(b.network),
    extraHosts: Array.isArray(b.extra_hosts) ? b.extra_hosts.map((e) => String(e).replace(/^([^=:]+)=/, '$1:')) : isDict(b.extra_hosts) ? Object.entries(b.extra_hosts).map(([h, ip]) => `${h}:${String(ip)}`) : [],
    shmSize: bytes(b.shm_size, `${where}.shm_size`),
    tags: strings(b.tags),
    cacheFrom: strings(b.cache_from),
  };
}

function ports(raw: unknown, where: string): Port[] {
  const out: Port[] = [];
  (Array.isArray(raw) ? raw : []).forEach((p, i) => {
    const at = `${where}.${i}`;
    if (isDict(p)) {
      if (p.mode !== undefined && p.mode !== 'ingress' && p.mode !== 'host') fail(at, `invalid mode ${JSON.stringify(p.mode)}`);
      const proto = String(p.protocol ?? 'tcp').toLowerCase();
      if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') fail(at, `invalid proto: ${proto}`);
      const target = toInt(p.target, `${at}.target`);
      out.push({ target, published: strOrNull(p.published), hostIp: strOrNull(p.host_ip), protocol: proto });
      return;
    }
    try {
      out.push(...parsePortShort(p as string | number));
    } catch (err) {
      if (err instanceof SyntaxError_) fail(at, err.message);
      throw err;
    }
  });
  return out;
}

function volumes(raw: unknown, where: string, ctx: NormalizeContext, named: (key: string, at: string) => void): Mount[] {
  const out: Mount[] = [];
  (Array.isArray(raw) ? raw : []).forEach((v, i) => {
    const at = `${where}.${i}`;
    if (typeof v === 'string') {
      let s;
      try {
        s = parseVolumeShort(v);
      } catch (err) {
        if (err instanceof SyntaxError_) fail(at, err.message);
        throw err;
      }
      if (s.type === 'bind') {
        out.push(mount({ type: 'bind', source: absPath(s.source!, ctx.workingDir, ctx.home), target: s.target, readOnly: s.readOnly, createHostPath: true, bindPropagation: s.propagation }));
      } else {
        if (s.source !== null) named(s.source, at);
        out.push(mount({ type: 'volume', source: s.source, target: s.target, readOnly: s.readOnly, volumeNocopy: s.nocopy }));
      }
      return;
    }
    const d = v as Dict;
    const type = String(d.type);
    const target = d.target === undefined ? fail(at, 'target is required') : String(d.target);
    const readOnly = d.read_only === undefined ? false : toBool(d.read_only, `${at}.read_only`);
    if (type === 'bind') {
      if (d.source === undefined) fail(at, 'source is required for a bind mount');
      const b = (isDict(d.bind) ? d.bind : {}) as Dict;
      for (const k of ['recursive', 'selinux']) if (b[k] !== undefined) fail(`${at}.bind.${k}`, `hako does not support the attribute "bind.${k}" yet`);
      out.push(mount({ type: 'bind', source: absPath(String(d.source), ctx.workingDir, ctx.home), target, readOnly, createHostPath: b.create_host_path === undefined ? false : toBool(b.create_host_path, `${at}.bind.create_host_path`), bindPropagation: strOrNull(b.propagation) }));
    } else if (type === 'volume') {
      const vol = (isDict(d.volume) ? d.volume : {}) as Dict;
      for (const k of ['subpath', 'labels']) if (vol[k] !== undefined) fail(`${at}.volume.${k}`, `hako does not support the attribute "volume.${k}" yet`);
      const source = strOrNull(d.source);
      if (source !== null && source !== '') named(source, at);
      out.push(mount({ type: 'volume', source: source || null, target, readOnly, volumeNocopy: vol.nocopy === undefined ? false : toBool(vol.nocopy, `${at}.volume.nocopy`) }));
    } else if (type === 'tmpfs') {
      const t = (isDict(d.tmpfs) ? d.tmpfs : {}) as Dict;
      if (t.mode !== undefined) fail(`${at}.tmpfs.mode`, 'hako does not support the attribute "tmpfs.mode" yet');
      out.push(mount({ type: 'tmpfs', target, readOnly, tmpfsSize: bytes(t.size, `${at}.tmpfs.size`) }));
    } else {
      fail(`${at}.type`, `hako does not support volumes of type "${type}" yet (bind, volume and tmpfs are supported)`);
    }
    if (d.consistency !== undefined) ctx.warn(`${at}.consistency is ignored on Linux`);
  });
  return out;
}

function healthcheck(raw: unknown, where: string): Healthcheck | null {
  if (!isDict(raw)) return null;
  const disable = raw.disable === undefined ? false : toBool(raw.disable, `${where}.disable`);
  let test: string[] = [];
  if (typeof raw.test === 'string') test = ['CMD-SHELL', raw.test];
  else if (Array.isArray(raw.test)) test = raw.test.map(String);
  if (disable) test = ['NONE'];
  if (test.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0]!)) fail(`${where}.test`, 'healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"');
  return {
    test,
    interval: durationNs(raw.interval, `${where}.interval`),
    timeout: durationNs(raw.timeout, `${where}.timeout`),
    startPeriod: durationNs(raw.start_period, `${where}.start_period`),
    startInterval: durationNs(raw.start_interval, `${where}.start_interval`),
    retries: raw.retries === undefined || raw.retries === null ? null : toInt(raw.retries, `${where}.retries`),
    disable,
  };
}

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

export function normalizeService(name: string, raw: Dict, ctx: NormalizeContext): Service {
  const where = `services.${name}`;
  const env: Record<string, string | null> = {};
  (Array.isArray(raw.env_file) ? raw.env_file : []).forEach((e, i) => {
    const at = `${where}.env_file.${i}`;
    const d: Dict = isDict(e) ? e : { path: e };
    const file = absPath(String(d.path), ctx.workingDir, ctx.home);
    const required = d.required === undefined ? true : toBool(d.required, `${at}.required`);
    const vars = ctx.envFile(file, required, strOrNull(d.format), at);
    if (vars) for (const [k, v] of vars) env[k] = v;
  });
  for (const [k, v] of Object.entries(listOrDict(raw.environment))) env[k] = v === null ? ctx.lookup(k) ?? null : v;

  const dependsOn: Service['dependsOn'] = {};
  if (isDict(raw.depends_on)) {
    for (const [dep, d] of Object.entries(raw.depends_on)) {
      const dd = (isDict(d) ? d : {}) as Dict;
      dependsOn[dep] = {
        condition: (dd.condition as Service['dependsOn'][string]['condition']) ?? 'service_started',
        required: dd.required === undefined ? true : toBool(dd.required, `${where}.depends_on.${dep}.required`),
        restart: dd.restart === undefined ? false : toBool(dd.restart, `${where}.depends_on.${dep}.restart`),
      };
    }
  }
  const addDep = (svc: string): void => {
    dependsOn[svc] ??= { condition: 'service_started', required: true, restart: false };
  };
  for (const l of strings(raw.links)) {
    const [svc, alias] = l.split(':');
    addDep(svc!);
    if (alias !== undefined && alias !== svc) ctx.warn(`${where}.links: the alias "${alias}" of "${svc}" is not supported by hako; use the service name or a network alias`);
  }

  const networkMode = strOrNull(raw.network_mode);
  if (networkMode !== null && raw.networks !== undefined && raw.networks !== null) {
    fail(where, `service ${name} declares mutually exclusive \`network_mode\` and \`networks\``);
  }
  if (networkMode !== null && !/^(none|host|bridge|container:.+|service:.+)$/.test(networkMode)) {
    fail(`${where}.network_mode`, `unsupported network mode "${networkMode}": use none, host, bridge, container:<name> or service:<name>`);
  }
  if (networkMode?.startsWith('service:')) addDep(networkMode.slice(8));
  const networks: Record<string, ServiceNetwork> = {};
  if (networkMode === null) {
    const nets = isDict(raw.networks) ? raw.networks : { default: null };
    for (const [key, n] of Object.entries(nets)) {
      const d = (isDict(n) ? n : {}) as Dict;
      for (const k of ['interface_name', 'link_local_ips', 'driver_opts', 'gw_priority']) {
        if (d[k] !== undefined) fail(`${where}.networks.${key}.${k}`, `hako does not support the attribute "${k}" yet`);
      }
      networks[key] = {
        aliases: strings(d.aliases),
        ipv4Address: strOrNull(d.ipv4_address),
        ipv6Address: strOrNull(d.ipv6_address),
        macAddress: strOrNull(d.mac_address),
        priority: d.priority === undefined ? 0 : toNumber(d.priority, `${where}.networks.${key}.priority`),
      };
    }
  }

  const volumesFrom = strings(raw.volumes_from).map((v) => {
    if (v.startsWith('container:')) return v;
    const [svc, mode] = v.split(':');
    addDep(svc!);
    return `service:${svc}${mode ? `:${mode}` : ''}`;
  });

  const restart = raw.restart === undefined ? 'no' : String(raw.restart);
  if (!RESTART.test(restart)) fail(`${where}.restart`, `invalid restart policy "${restart}": use no, always, on-failure[:max-retries] or unless-stopped`);

  const pullRaw = raw.pull_policy === undefined ? 'missing' : String(raw.pull_policy);
  let pullPolicy: Service['pullPolicy'];
  if (pullRaw === 'always' || pullRaw === 'never' || pullRaw === 'missing' || pullRaw === 'build') pullPolicy = pullRaw;
  else if (pullRaw === 'if_not_present' || pullRaw === 'daily' || pullRaw === 'weekly' || /^every_/.test(pullRaw)) pullPolicy = 'missing';
  else fail(`${where}.pull_policy`, `invalid pull policy "${pullRaw}": use always, never, missing, build, daily, weekly or every_<duration>`);

  const ulimits: Service['ulimits'] = {};
  if (isDict(raw.ulimits)) {
    for (const [k, u] of Object.entries(raw.ulimits)) {
      if (isDict(u)) ulimits[k] = { soft: toInt(u.soft, `${where}.ulimits.${k}.soft`), hard: toInt(u.hard, `${where}.ulimits.${k}.hard`) };
      else {
        const n = toInt(u, `${where}.ulimits.${k}`);
        ulimits[k] = { soft: n, hard: n };
      }
    }
  }

  let memLimit = bytes(raw.mem_limit, `${where}.mem_limit`);
  let memReservation = bytes(raw.mem_reservation, `${where}.mem_reservation`);
  let cpus = raw.cpus === undefined || raw.cpus === null ? null : toNumber(raw.cpus, `${where}.cpus`);
  let pidsLimit = raw.pids_limit === undefined || raw.pids_limit === null ? null : toInt(raw.pids_limit, `${where}.pids_limit`);
  let scale = raw.scale === undefined ? 1 : toInt(raw.scale, `${where}.scale`);
  let restartPolicy = restart;
  const deploy = isDict(raw.deploy) ? raw.deploy : null;
  if (deploy) {
    const at = `${where}.deploy`;
    if (deploy.replicas !== undefined && deploy.replicas !== null) {
      const r = toInt(deploy.replicas, `${at}.replicas`);
      if (raw.scale !== undefined && r !== scale) invalid(`${where}: can't set distinct values on 'scale' and 'deploy.replicas': invalid compose project`);
      scale = r;
    }
    if (deploy.mode !== undefined && deploy.mode !== 'replicated') fail(`${at}.mode`, `hako does not support deploy mode "${String(deploy.mode)}" (only replicated)`);
    for (const k of ['placement', 'update_config', 'rollback_config', 'endpoint_mode', 'labels']) {
      if (deploy[k] !== undefined) fail(`${at}.${k}`, `hako does not support the attribute "deploy.${k}" yet`);
    }
    const res = isDict(deploy.resources) ? deploy.resources : null;
    if (res) {
      // Either spelling, or both with the same value (compose-go's checkConsistency).
      const same = <T>(own: T | null, other: T | null, ownKey: string, deployKey: string): T | null => {
        if (own !== null && other !== null && own !== other) invalid(`${where}: can't set distinct values on '${ownKey}' and '${deployKey}': invalid compose project`);
        return other ?? own;
      };
      const lim = isDict(res.limits) ? res.limits : {};
      if (lim.cpus !== undefined) cpus = same(cpus, toNumber(lim.cpus, `${at}.resources.limits.cpus`), 'cpus', 'deploy.resources.limits.cpus');
      if (lim.memory !== undefined) memLimit = same(memLimit, bytes(lim.memory, `${at}.resources.limits.memory`), 'mem_limit', 'deploy.resources.limits.memory');
      if (lim.pids !== undefined) pidsLimit = same(pidsLimit, toInt(lim.pids, `${at}.resources.limits.pids`), 'pids_limit', 'deploy.resources.limits.pids');
      const resv = isDict(res.reservations) ? res.reservations : {};
      if (resv.memory !== undefined) memReservation = same(memReservation, bytes(resv.memory, `${at}.resources.reservations.memory`), 'mem_reservation', 'deploy.resources.reservations.memory');
      if (resv.cpus !== undefined) ctx.warn(`${at}.resources.reservations.cpus is not applied to containers (docker compose does not apply it either outside swarm)`);
      for (const k of ['devices', 'generic_resources']) {
        if (resv[k] !== undefined) fail(`${at}.resources.reservations.${k}`, `hako does not support the attribute "deploy.resources.reservations.${k}" yet`);
      }
    }
    const rp = isDict(deploy.restart_policy) ? deploy.restart_policy : null;
    if (rp && raw.restart === undefined) {
      const cond = String(rp.condition ?? 'any');
      if (rp.delay !== undefined || rp.window !== undefined) fail(`${at}.restart_policy`, 'hako does not support restart_policy.delay or window yet');
      restartPolicy = cond === 'none' ? 'no' : cond === 'on-failure' ? (rp.max_attempts !== undefined ? `on-failure:${toInt(rp.max_attempts, `${at}.restart_policy.max_attempts`)}` : 'on-failure') : cond === 'any' ? 'always' : fail(`${at}.restart_policy.condition`, `invalid condition "${cond}": use none, on-failure or any`);
    }
  }

  const logging = isDict(raw.logging) ? { driver: strOrNull(raw.logging.driver), options: stringMap(raw.logging.options) } : null;

  const devices = (Array.isArray(raw.devices) ? raw.devices : []).map((d) => (isDict(d) ? [d.source, d.target ?? d.source, d.permissions ?? 'rwm'].map(String).join(':') : String(d)));
  const stopGrace = durationNs(raw.stop_grace_period, `${where}.stop_grace_period`);
  if (scale < 0) fail(`${where}.${raw.scale !== undefined ? 'scale' : 'deploy.replicas'}`, 'must be greater than or equal to 0');
  if (scale > 1 && raw.container_name !== undefined && raw.container_name !== null) {
    invalid(`${where}: can't set container_name and ${raw.scale !== undefined ? 'scale' : 'deploy.replicas'} as container name must be unique: invalid compose project`);
  }
  const b = build(raw.build, `${where}.build`, ctx);
  if (b && b.dockerfileInline !== null && isDict(raw.build) && raw.build.dockerfile !== undefined) {
    invalid(`service "${name}" declares mutualy exclusive dockerfile and dockerfile_inline: invalid compose project`);
  }
  const image = raw.image !== undefined && raw.image !== null ? String(raw.image) : b ? `${ctx.projectName}-${name}` : invalid(`service "${name}" has neither an image nor a build context specified: invalid compose project`);
  const extraHosts = strings(raw.extra_hosts);
  extraHosts.forEach((h, i) => {
    if (!/^[^:=]+[:=].+/.test(h)) fail(`${where}.extra_hosts.${i}`, `invalid additional host, missing IP: ${h}`);
  });

  return {
    name,
    image,
    build: b,
    pullPolicy,
    containerName: strOrNull(raw.container_name),
    command: command(raw.command, `${where}.command`),
    entrypoint: command(raw.entrypoint, `${where}.entrypoint`),
    workingDir: strOrNull(raw.working_dir),
    user: strOrNull(raw.user),
    hostname: strOrNull(raw.hostname),
    domainname: strOrNull(raw.domainname),
    environment: env,
    labels: stringMap(raw.labels),
    ports: ports(raw.ports, `${where}.ports`),
    expose: strings(raw.expose),
    volumes: volumes(raw.volumes, `${where}.volumes`, ctx, () => {}),
    tmpfs: strings(raw.tmpfs),
    dependsOn,
    networks,
    networkMode,
    healthcheck: healthcheck(raw.healthcheck, `${where}.healthcheck`),
    restart: restartPolicy,
    stopGracePeriod: stopGrace === null ? null : stopGrace / 1e9,
    stopSignal: strOrNull(raw.stop_signal),
    init: raw.init === undefined || raw.init === null ? null : toBool(raw.init, `${where}.init`),
    tty: raw.tty === undefined ? false : toBool(raw.tty, `${where}.tty`),
    stdinOpen: raw.stdin_open === undefined ? false : toBool(raw.stdin_open, `${where}.stdin_open`),
    privileged: raw.privileged === undefined ? false : toBool(raw.privileged, `${where}.privileged`),
    readOnly: raw.read_only === undefined ? false : toBool(raw.read_only, `${where}.read_only`),
    capAdd: strings(raw.cap_add),
    capDrop: strings(raw.cap_drop),
    securityOpt: strings(raw.security_opt),
    dns: strings(raw.dns),
    dnsSearch: strings(raw.dns_search),
    dnsOpt: strings(raw.dns_opt),
    extraHosts,
    sysctls: stringMap(raw.sysctls),
    ulimits,
    memLimit,
    memReservation,
    memswapLimit: raw.memswap_limit === -1 || raw.memswap_limit === '-1' ? -1 : bytes(raw.memswap_limit, `${where}.memswap_limit`),
    shmSize: bytes(raw.shm_size, `${where}.shm_size`),
    cpus,
    cpuShares: raw.cpu_shares === undefined || raw.cpu_shares === null ? null : toInt(raw.cpu_shares, `${where}.cpu_shares`),
    cpuset: strOrNull(raw.cpuset),
    pidsLimit,
    oomScoreAdj: raw.oom_score_adj === undefined || raw.oom_score_adj === null ? null : toInt(raw.oom_score_adj, `${where}.oom_score_adj`),
    devices,
    groupAdd: strings(raw.group_add),
    ipc: strOrNull(raw.ipc),
    pid: strOrNull(raw.pid),
    logging,
    platform: strOrNull(raw.platform),
    scale,
    profiles: strings(raw.profiles),
    volumesFrom,
    files: [],
  };
}

/** Volume keys a raw service's `volumes` name (short `name:/path` or long `source:`). */
export function namedVolumeKeys(raw: Dict): string[] {
  const out: string[] = [];
  for (const v of Array.isArray(raw.volumes) ? raw.volumes : []) {
    if (typeof v === 'string') {
      try {
        const s = parseVolumeShort(v);
        if (s.type === 'volume' && s.source) out.push(s.source);
      } catch {
        /* reported by normalizeService */
      }
    } else if (isDict(v) && v.type === 'volume' && typeof v.source === 'string' && v.source !== '') out.push(v.source);
  }
  return out;
}
