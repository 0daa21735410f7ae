/**
 * hakod configuration: command-line flags and a daemon.json-like file, merged and validated the
 * way dockerd does it (a directive given both as a flag and in the file is an error). Pure: the
 * caller reads the file; nothing here touches the system.
 */
import { InvalidArgument } from '../errdefs/index.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface RuntimeConfig {
  /** Binary name (looked up in PATH) or absolute path. */
  path: string;
  runtimeArgs: string[];
}

/** The settled configuration hakod runs with; daemon/wire.ts builds the engine from it. */
export interface DaemonConfig {
  /** Listen addresses: `unix:///path` or `tcp://127.0.0.1:2375`. */
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  logLevel: LogLevel;
  /** The default OCI runtime: a key into `runtimes` (flag --runtime, daemon.json "default-runtime"). */
  runtime: string;
  /** Always holds "runc"; daemon.json's "runtimes" add to it. */
  runtimes: Record<string, RuntimeConfig>;
  /** The config file, if one was read. */
  configFile: string | null;
  /**
   * Leave containers running when hakod stops (dockerd's live-restore; flag --live-restore,
   * daemon.json "live-restore"). Off: hakod stops them gracefully on shutdown.
   */
  liveRestore: boolean;
  /** Seconds a shutdown waits at least for containers to stop (dockerd's shutdown-timeout; default 15; -1 forever). */
  shutdownTimeout: number;
  /**
   * dockerd's userns-remap (flag --userns-remap, daemon.json "userns-remap"): `default` (the
   * hako-remap user) or `user[:group]` with ranges in /etc/subuid and /etc/subgid; null: off.
   */
  usernsRemap: string | null;
  /**
   * TLS on the tcp:// listeners, as dockerd's --tls/--tlsverify/--tlscacert/--tlscert/--tlskey
   * (unix sockets never speak TLS). `verify` implies `enabled` and requires client certificates
   * signed by the CA. The files default to /etc/hako/{ca,cert,key}.pem (dockerd: ~/.docker).
   */
  tls: DaemonTls;
  /** daemon.json keys hakod does not interpret yet, kept as written for the subsystems that will. */
  extra: Record<string, unknown>;
}

export interface DaemonTls {
  enabled: boolean;
  verify: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export const DEFAULTS = {
  host: 'unix:///run/hako/hako.sock',
  dataRoot: '/var/lib/hako',
  execRoot: '/run/hako',
  runtime: 'runc',
  logLevel: 'info' as LogLevel,
  configFile: '/etc/hako/daemon.json',
  tlsCaCert: '/etc/hako/ca.pem',
  tlsCert: '/etc/hako/cert.pem',
  tlsKey: '/etc/hako/key.pem',
};

/** What the command line said; undefined = not given. */
export interface DaemonFlags {
  help: boolean;
  version: boolean;
  hosts: string[];
  configFile?: string;
  dataRoot?: string;
  execRoot?: string;
  runtime?: string;
  logLevel?: LogLevel;
  pidfile?: string;
  liveRestore?: boolean;
  shutdownTimeout?: string;
  usernsRemap?: string;
  tls?: boolean;
  tlsVerify?: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
}

type ValueFlag = 'hosts' | 'configFile' | 'dataRoot' | 'execRoot' | 'runtime' | 'logLevel' | 'pidfile' | 'shutdownTimeout' | 'usernsRemap'
  | 'tlsCaCert' | 'tlsCert' | 'tlsKey';
type BoolFlag = 'liveRestore' | 'tls' | 'tlsVerify';
const BOOL_FLAGS = new Map<string, BoolFlag>([['--live-restore', 'liveRestore'], ['--tls', 'tls'], ['--tlsverify', 'tlsVerify']]);

const VALUE_FLAGS = new Map<string, ValueFlag>([
  ['-H', 'hosts'], ['--host', 'hosts'],
  ['--config-file', 'configFile'],
  ['--data-root', 'dataRoot'],
  ['--exec-root', 'execRoot'],
  ['--runtime', 'runtime'], ['--default-runtime', 'runtime'],
  ['-l', 'logLevel'], ['--log-level', 'logLevel'],
  ['-p', 'pidfile'], ['--pidfile', 'pidfile'],
  ['--shutdown-timeout', 'shutdownTimeout'],
  ['--userns-remap', 'usernsRemap'],
  ['--tlscacert', 'tlsCaCert'], ['--tlscert', 'tlsCert'], ['--tlskey', 'tlsKey'],
]);

export const USAGE = `Usage:  hakod [OPTIONS]

A Docker-compatible container engine: serves the Docker Engine API on a unix socket.

Options:
      --config-file string      Daemon configuration file (default "${DEFAULTS.configFile}")
      --data-root string        Root directory of persistent state (default "${DEFAULTS.dataRoot}")
  -D, --debug                   Enable debug mode (same as --log-level debug)
      --exec-root string        Root directory for execution state files (default "${DEFAULTS.execRoot}")
  -h, --help                    Print usage
  -H, --host list               Daemon socket(s) to listen on (default "${DEFAULTS.host}")
      --live-restore            Leave containers running when hakod stops (default: stop them gracefully)
  -l, --log-level string        Set the logging level ("debug"|"info"|"warn"|"error") (default "info")
  -p, --pidfile string          Path to use for daemon PID file (default "<exec-root>/hakod.pid")
      --runtime string          OCI runtime for containers (default "${DEFAULTS.runtime}")
      --shutdown-timeout int    Seconds to wait at least for containers to stop on shutdown (default 15)
      --tls                     Use TLS on tcp:// hosts; implied by --tlsverify
      --tlscacert string        Trust certs signed only by this CA (default "${DEFAULTS.tlsCaCert}")
      --tlscert string          Path to TLS certificate file (default "${DEFAULTS.tlsCert}")
      --tlskey string           Path to TLS key file (default "${DEFAULTS.tlsKey}")
      --tlsverify               Use TLS and verify the remote: clients need a certificate signed by the CA
      --userns-remap string     User/Group setting for user namespaces ("default" or "user[:group]")
  -v, --version                 Print version information and quit
`;

/** daemon.json keys kept in `extra` that a subsystem reads (validated where it is wired). */
const EXTRA_KEYS_READ: ReadonlySet<string> = new Set(['insecure-registries', 'registry-mirrors']);

/** Parses hakod's command line; unknown flags and missing values are InvalidArgument. */
export function parseFlags(argv: readonly string[]): DaemonFlags {
  const flags: DaemonFlags = { help: false, version: false, hosts: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('-') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '-h' || name === '--help') { flags.help = true; continue; }
    if (name === '-v' || name === '--version') { flags.version = true; continue; }
    if (name === '-D' || name === '--debug') { flags.logLevel = 'debug'; continue; }
    const boolKey = BOOL_FLAGS.get(name);
    if (boolKey !== undefined) {
      const v = eq > 0 ? arg.slice(eq + 1) : 'true';
      if (v !== 'true' && v !== 'false') throw new InvalidArgument(`invalid value "${v}" for flag ${name}: use true or false`);
      flags[boolKey] = v === 'true';
      continue;
    }
    const key = VALUE_FLAGS.get(name);
    if (key === undefined) {
      throw new InvalidArgument(arg.startsWith('-') ? `unknown flag: ${name}\nSee 'hakod --help'.` : `hakod takes no arguments, got "${arg}"\nSee 'hakod --help'.`);
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new InvalidArgument(`flag needs an argument: ${name}`);
    if (key === 'hosts') flags.hosts.push(value);
    else if (key === 'logLevel') flags.logLevel = checkLogLevel(value, `flag ${name}`);
    else flags[key] = value;
  }
  return flags;
}

function checkLogLevel(value: unknown, where: string): LogLevel {
  if (typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new InvalidArgument(`invalid log level ${JSON.stringify(value)} in ${where}: use one of ${LOG_LEVELS.join(', ')}`);
}

/** A listen address, decoded. */
export type HostAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseHost(raw: string): HostAddress {
  if (raw.startsWith('unix://')) {
    const path = raw.slice(7);
    if (!path.startsWith('/')) throw new InvalidArgument(`invalid host "${raw}": a unix socket needs an absolute path, as in ${DEFAULTS.host}`);
    return { kind: 'unix', path };
  }
  if (raw.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d+)\/?$/.exec(raw);
    const port = Number(m?.[2]);
    if (m === null || port < 1 || port > 65535) throw new InvalidArgument(`invalid host "${raw}": expected tcp://HOST:PORT, as in tcp://127.0.0.1:2375`);
    return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  if (raw.startsWith('/')) return { kind: 'unix', path: raw };
  throw new InvalidArgument(`invalid host "${raw}": use unix:///path/to/socket or tcp://HOST:PORT`);
}

/** The daemon.json keys hakod interprets, by their flag field. */
const FILE_KEYS: Record<string, ValueFlag | 'debug' | 'runtimes' | BoolFlag> = {
  tls: 'tls',
  tlsverify: 'tlsVerify',
  tlscacert: 'tlsCaCert',
  tlscert: 'tlsCert',
  tlskey: 'tlsKey',
  'live-restore': 'liveRestore',
  'shutdown-timeout': 'shutdownTimeout',
  hosts: 'hosts',
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  'default-runtime': 'runtime',
  'log-level': 'logLevel',
  pidfile: 'pidfile',
  debug: 'debug',
  runtimes: 'runtimes',
  'userns-remap': 'usernsRemap',
};

export interface ResolvedConfig {
  config: DaemonConfig;
  /** Things to log at start-up: unknown keys that were kept, and the like. */
  warnings: string[];
}

/**
 * Merges flags, the config file's text (null when there is none) and the defaults.
 * `fileName` names the file in messages.
 */
export function resolveConfig(flags: DaemonFlags, fileText: string | null, fileName: string | null): ResolvedConfig {
  const warnings: string[] = [];
  const file = fileText === null ? {} : parseFile(fileText, fileName ?? 'config file');
  const where = (key: string) => `"${key}" in ${fileName ?? 'config file'}`;
  const extra: Record<string, unknown> = {};
  const conflicts: string[] = [];
  const fromFile: Partial<Record<ValueFlag | 'debug' | 'runtimes' | BoolFlag, unknown>> = {};

  for (const [key, value] of Object.entries(file)) {
    const field = FILE_KEYS[key];
    if (field === undefined) {
      extra[key] = value;
      if (!EXTRA_KEYS_READ.has(key)) warnings.push(`configuration key ${where(key)} is not used by this version of hakod; it is kept as written`);
      continue;
    }
    fromFile[field] = value;
    const flagValue = field === 'hosts' ? (flags.hosts.length > 0 ? flags.hosts : undefined) : field === 'debug' || field === 'runtimes' ? undefined : flags[field];
    if (flagValue !== undefined) conflicts.push(`${key}: (from flag: ${JSON.stringify(flagValue)}, from file: ${JSON.stringify(value)})`);
  }
  if (conflicts.length > 0) {
    throw new InvalidArgument(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }

  const hosts = flags.hosts.length > 0 ? flags.hosts : fromFile.hosts !== undefined ? stringList(fromFile.hosts, where('hosts')) : [DEFAULTS.host];
  if (hosts.length === 0) throw new InvalidArgument(`${where('hosts')} is empty: name at least one socket, as in ["${DEFAULTS.host}"]`);

  const dataRoot = absolutePath(flags.dataRoot ?? optionalString(fromFile.dataRoot, where('data-root')) ?? DEFAULTS.dataRoot, 'data-root');
  const execRoot = absolutePath(flags.execRoot ?? optionalString(fromFile.execRoot, where('exec-root')) ?? DEFAULTS.execRoot, 'exec-root');
  const pidfile = absolutePath(flags.pidfile ?? optionalString(fromFile.pidfile, where('pidfile')) ?? `${execRoot}/hakod.pid`, 'pidfile');

  let logLevel = flags.logLevel ?? (fromFile.logLevel === undefined ? undefined : checkLogLevel(fromFile.logLevel, where('log-level')));
  if (fromFile.debug !== undefined) {
    if (typeof fromFile.debug !== 'boolean') throw new InvalidArgument(`${where('debug')} must be true or false`);
    if (fromFile.debug && logLevel === undefined) logLevel = 'debug';
  }

  const runtimes: Record<string, RuntimeConfig> = { runc: { path: 'runc', runtimeArgs: [] } };
  if (fromFile.runtimes !== undefined) Object.assign(runtimes, parseRuntimes(fromFile.runtimes, where('runtimes')));
  const defaultRuntime = flags.runtime ?? optionalString(fromFile.runtime, where('default-runtime')) ?? DEFAULTS.runtime;
  if (runtimes[defaultRuntime] === undefined) {
    // An unknown name is taken as the binary itself (`--runtime crun`), as a convenience.
    if (/^[A-Za-z0-9_.-]+$/.test(defaultRuntime) || defaultRuntime.startsWith('/')) runtimes[defaultRuntime] = { path: defaultRuntime, runtimeArgs: [] };
    else throw new InvalidArgument(`default runtime "${defaultRuntime}" is not a runtime name or path; declare it under "runtimes"`);
  }

  if (fromFile.liveRestore !== undefined && typeof fromFile.liveRestore !== 'boolean') throw new InvalidArgument(`${where('live-restore')} must be true or false`);
  const liveRestore = flags.liveRestore ?? (fromFile.liveRestore as boolean | undefined) ?? false;
  const rawTimeout = flags.shutdownTimeout ?? fromFile.shutdownTimeout;
  const shutdownTimeout = rawTimeout === undefined ? 15 : Number(rawTimeout);
  if (!Number.isInteger(shutdownTimeout) || shutdownTimeout < -1) {
    throw new InvalidArgument(`invalid shutdown-timeout ${JSON.stringify(rawTimeout)}: use a whole number of seconds, or -1 to wait forever`);
  }

  const usernsRemap = flags.usernsRemap ?? optionalString(fromFile.usernsRemap, where('userns-remap')) ?? null;

  for (const [field, key] of [['tls', 'tls'], ['tlsVerify', 'tlsverify']] as const) {
    if (fromFile[field] !== undefined && typeof fromFile[field] !== 'boolean') throw new InvalidArgument(`${where(key)} must be true or false`);
  }
  const tlsVerify = flags.tlsVerify ?? (fromFile.tlsVerify as boolean | undefined) ?? false;
  const tls: DaemonTls = {
    // As dockerd: --tlsverify implies --tls.
    enabled: tlsVerify || (flags.tls ?? (fromFile.tls as boolean | undefined) ?? false),
    verify: tlsVerify,
    caFile: absolutePath(flags.tlsCaCert ?? optionalString(fromFile.tlsCaCert, where('tlscacert')) ?? DEFAULTS.tlsCaCert, 'tlscacert'),
    certFile: absolutePath(flags.tlsCert ?? optionalString(fromFile.tlsCert, where('tlscert')) ?? DEFAULTS.tlsCert, 'tlscert'),
    keyFile: absolutePath(flags.tlsKey ?? optionalString(fromFile.tlsKey, where('tlskey')) ?? DEFAULTS.tlsKey, 'tlskey'),
  };
  // A tcp host without a port listens on docker's conventional one: 2375, or 2376 with TLS.
  const listenHosts = hosts.map((h) => (/^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/\s[\]]+)\/?$/.test(h) ? `${h.replace(/\/$/, '')}:${tls.enabled ? 2376 : 2375}` : h));
  for (const host of listenHosts) parseHost(host);

  return {
    config: {
      hosts: listenHosts, dataRoot, execRoot, pidfile, logLevel: logLevel ?? DEFAULTS.logLevel, runtime: defaultRuntime, runtimes,
      configFile: fileText === null ? null : fileName, extra, liveRestore, shutdownTimeout, usernsRemap, tls,
    },
    warnings,
  };
}

function parseFile(text: string, fileName: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`configuration file ${fileName} is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgument(`configuration file ${fileName} must hold a JSON object, like {"data-root": "/var/lib/hako"}`);
  }
  return value as Record<string, unknown>;
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new InvalidArgument(`${where} must be a list of strings`);
  return value as string[];
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new InvalidArgument(`${where} must be a non-empty string`);
  return value;
}

function absolutePath(value: string, what: string): string {
  if (!value.startsWith('/')) throw new InvalidArgument(`${what} must be an absolute path, got "${value}"`);
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

function parseRuntimes(value: unknown, where: string): Record<string, RuntimeConfig> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgument(`${where} must be an object like {"crun": {"path": "/usr/bin/crun"}}`);
  const out: Record<string, RuntimeConfig> = {};
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    const entry = raw as { path?: unknown; runtimeArgs?: unknown } | null;
    if (entry === null || typeof entry !== 'object' || typeof entry.path !== 'string' || entry.path === '') {
      throw new InvalidArgument(`runtime "${name}" in ${where} needs a "path"`);
    }
    out[name] = { path: entry.path, runtimeArgs: entry.runtimeArgs === undefined ? [] : stringList(entry.runtimeArgs, `"runtimeArgs" of runtime "${name}"`) };
  }
  return out;
}
