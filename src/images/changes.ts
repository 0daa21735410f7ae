/**
 * `--change` lines of `docker commit` / `docker import`: a Dockerfile subset applied to an image's
 * container config. Docker accepts exactly CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL,
 * ONBUILD, STOPSIGNAL, USER, VOLUME and WORKDIR here (moby builder/dockerfile BuildFromConfig);
 * the semantics follow the Dockerfile reference (shared/reference/dockerfile-reference).
 */
import { posix } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';

/** The `config` object of an image config (OCI image-spec config.md, "config" field). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  OnBuild?: string[];
  Healthcheck?: Healthcheck;
  [key: string]: unknown;
}

export interface Healthcheck {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

const VALID = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/**
 * Returns a copy of `config` with every change applied in order. Throws InvalidArgument naming the
 * offending line for an unknown instruction or a malformed argument.
 */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: ContainerConfig = structuredClone(config);
  // Dockerfile rule: ENTRYPOINT resets CMD unless CMD was set earlier in the same "build".
  let cmdSet = false;
  for (const line of instructionLines(changes)) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line);
    if (!m) continue;
    const name = (m[1] ?? '').toUpperCase();
    const args = (m[2] ?? '').trim();
    const fail = (why: string): never => { throw new InvalidArgument(`invalid change "${line}": ${why}`); };
    switch (name) {
      case 'CMD':
        out.Cmd = commandForm(args);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = commandForm(args);
        if (!cmdSet) out.Cmd = null;
        break;
      case 'ENV':
        for (const [k, v] of keyValues(args, fail)) out.Env = setEnv(out.Env ?? [], k, expand(v, out.Env ?? []));
        break;
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}) };
        for (const [k, v] of keyValues(args, fail)) out.Labels[k] = v;
        break;
      case 'EXPOSE':
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const word of shellWords(args)) for (const p of exposedPorts(word, fail)) out.ExposedPorts[p] = {};
        break;
      case 'VOLUME': {
        const list = args.startsWith('[') ? jsonArray(args) ?? fail('not a JSON array of strings') : shellWords(args);
        out.Volumes = { ...(out.Volumes ?? {}) };
        for (const v of list) {
          if (v.trim() === '') fail('VOLUME specified can not be an empty string');
          out.Volumes[v] = {};
        }
        break;
      }
      case 'WORKDIR':
        if (args === '') fail('WORKDIR requires exactly one argument');
        out.WorkingDir = posix.resolve(out.WorkingDir || '/', expand(args, out.Env ?? []));
        break;
      case 'USER':
        if (args === '') fail('USER requires exactly one argument');
        out.User = expand(args, out.Env ?? []);
        break;
      case 'STOPSIGNAL':
        if (args === '') fail('STOPSIGNAL requires exactly one argument');
        out.StopSignal = args;
        break;
      case 'ONBUILD': {
        const trigger = (/^\S+/.exec(args)?.[0] ?? '').toUpperCase();
        if (trigger === '') fail('ONBUILD requires an instruction');
        if (trigger === 'ONBUILD') fail('chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (trigger === 'FROM' || trigger === 'MAINTAINER') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
        out.OnBuild = [...(out.OnBuild ?? []), args];
        break;
      }
      case 'HEALTHCHECK':
        out.Healthcheck = healthcheck(args, fail);
        break;
      default:
        throw new InvalidArgument(`${name.toLowerCase()} is not a valid change command (use one of ${VALID.join(', ')})`);
    }
  }
  return out;
}

/** Splits the change strings into instructions: newlines separate, a trailing '\' continues. */
function instructionLines(changes: readonly string[]): string[] {
  const out: string[] = [];
  for (const change of changes) {
    let pending = '';
    for (const raw of change.split('\n')) {
      const line = raw.trimEnd();
      if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
      if (line.endsWith('\\')) { pending += line.slice(0, -1); continue; }
      out.push((pending + line).trim());
      pending = '';
    }
    if (pending.trim() !== '') out.push(pending.trim());
  }
  return out;
}

/** Exec form when the argument is a JSON array of strings, else shell form (`/bin/sh -c`). */
function commandForm(args: string): string[] {
  return jsonArray(args) ?? ['/bin/sh', '-c', args];
}

function jsonArray(s: string): string[] | null {
  if (!s.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
  } catch {
    return null;
  }
}

/**
 * Splits on unquoted whitespace, removing quotes and backslash escapes the way the Dockerfile
 * parser does for ENV/LABEL/EXPOSE/VOLUME arguments.
 */
export function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote === null && /\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && quote !== "'" && i + 1 < s.length) { cur += s[++i]; continue; }
    if (quote === null && (c === '"' || c === "'")) { quote = c; continue; }
    if (c === quote) { quote = null; continue; }
    cur += c;
  }
  if (quote !== null) throw new InvalidArgument(`unterminated quote in "${s}"`);
  if (inWord) words.push(cur);
  return words;
}

/** `k=v k2="v 2"` or the legacy `k some value` (one pair, the rest of the line is the value). */
function keyValues(args: string, fail: (why: string) => never): Array<[string, string]> {
  const words = shellWords(args);
  if (words.length === 0) fail('requires at least one argument');
  if (!(words[0] as string).includes('=')) {
    const legacy = /^(\S+)\s+([\s\S]+)$/.exec(args);
    if (!legacy) return fail(`${words[0]} needs a value (KEY=VALUE or KEY VALUE)`);
    return [[legacy[1] as string, unquote((legacy[2] as string).trim())]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) fail(`"${w}" is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function unquote(s: string): string {
  return s.length >= 2 && (s[0] === '"' || s[0] === "'") && s.endsWith(s[0]) ? s.slice(1, -1) : s;
}

function setEnv(env: string[], key: string, value: string): string[] {
  return [...env.filter((e) => e.split('=')[0] !== key), `${key}=${value}`];
}

/** $VAR and ${VAR} from the image's own Env, as the Dockerfile does for ENV/WORKDIR/USER. */
function expand(s: string, env: string[]): string {
  const lookup = (k: string): string => {
    const hit = env.find((e) => e.startsWith(`${k}=`));
    return hit === undefined ? '' : hit.slice(k.length + 1);
  };
  return s.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (all, braced: string | undefined, bare: string | undefined) => (all === '\\$' ? '$' : lookup(braced ?? bare ?? '')));
}

/** "80", "80/udp", "8000-8002/tcp" -> ["80/tcp"], ... */
function exposedPorts(word: string, fail: (why: string) => never): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
  if (!m) return fail(`invalid port "${word}"`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (lo < 1 || hi > 65535 || hi < lo) fail(`invalid port range "${word}"`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

/** HEALTHCHECK NONE | HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD ... */
function healthcheck(args: string, fail: (why: string) => never): Healthcheck {
  if (/^NONE$/i.test(args)) return { Test: ['NONE'] };
  const hc: Healthcheck = { Test: [] };
  let rest = args;
  for (let m = /^--([a-z-]+)=(\S+)\s*/.exec(rest); m; m = /^--([a-z-]+)=(\S+)\s*/.exec(rest)) {
    rest = rest.slice(m[0].length);
    const [, flag = '', value = ''] = m;
    if (flag === 'retries') {
      if (!/^\d+$/.test(value)) fail(`--retries must be a whole number, not "${value}"`);
      hc.Retries = Number(value);
      continue;
    }
    const key = ({ interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const)[flag];
    if (key === undefined) fail(`unknown HEALTHCHECK flag --${flag}`);
    else hc[key] = goDuration(value) ?? fail(`invalid duration "${value}" for --${flag}`);
  }
  const cmd = /^CMD\s+([\s\S]+)$/i.exec(rest);
  if (!cmd) fail('HEALTHCHECK needs CMD or NONE');
  const body = (cmd?.[1] ?? '').trim();
  const exec = jsonArray(body);
  hc.Test = exec ? ['CMD', ...exec] : ['CMD-SHELL', body];
  return hc;
}

/** Go's time.ParseDuration subset ("30s", "1m30s", "500ms") in nanoseconds. */
export function goDuration(s: string): number | null {
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (s === '0') return 0;
  let total = 0;
  let rest = s;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) return null;
    total += Number(m[1]) * (units[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return s === '' ? null : Math.round(total);
}
