/**
 * Merging Compose files and `extends` (compose-spec "Merge and override"): mappings merge key by
 * key, `command`/`entrypoint`/`healthcheck.test` are replaced, `ports`/`expose`/`dns`/... are
 * unique-merged, `volumes` merge by target, list-or-dict attributes (environment, labels,
 * build.args, sysctls, depends_on, networks) are turned into mappings first so either syntax
 * merges with the other. Works on the raw (interpolated, validated) dictionaries.
 */
import { Override, Reset } from './markers.js';
import { volumeTarget } from './syntax.js';

type Dict = Record<string, unknown>;

export function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `["A=1", "B"]` → `{A: "1", B: null}`; a mapping is kept (numbers/booleans as strings). */
export function listOrDict(v: unknown, sep = '='): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = String(e);
      const i = s.indexOf(sep);
      if (i < 0) out[s] = null;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (isDict(v)) {
    for (const [k, e] of Object.entries(v)) out[k] = e === null || e === undefined ? null : String(e);
  }
  return out;
}

/** listOrDict with a key alone as "" (labels, sysctls, options: compose-go's Labels/Mapping). */
export function stringMap(v: unknown, sep = '='): Record<string, string> {
  return Object.fromEntries(Object.entries(listOrDict(v, sep)).map(([k, e]) => [k, e ?? '']));
}

function stringList(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Turns the either-syntax attributes of a raw service into their mapping/list form. */
export function canonicalService(raw: Dict): Dict {
  const plain: Dict = {};
  const marked: Dict = {};
  for (const [k, v] of Object.entries(raw)) {
    // An `!override` value is canonicalized inside its marker; `!reset` stays as it is.
    if (v instanceof Override) marked[k] = new Override(canonicalPlain({ [k]: v.value })[k]);
    else if (v instanceof Reset) marked[k] = v;
    else plain[k] = v;
  }
  return { ...canonicalPlain(plain), ...marked };
}

const isMarker = (v: unknown): boolean => v instanceof Override || v instanceof Reset;

function canonicalPlain(raw: Dict): Dict {
  const s: Dict = { ...raw };
  for (const k of ['environment', 'labels', 'sysctls', 'annotations']) if (k in s && s[k] !== null) s[k] = listOrDict(s[k]);
  if (isDict(s.build)) {
    const b: Dict = { ...s.build };
    for (const k of ['args', 'labels']) if (k in b && b[k] !== null && !isMarker(b[k])) b[k] = listOrDict(b[k]);
    s.build = b;
  } else if (typeof s.build === 'string') s.build = { context: s.build };
  if (Array.isArray(s.depends_on)) {
    s.depends_on = Object.fromEntries(s.depends_on.map((n) => [String(n), { condition: 'service_started', required: true }]));
  }
  if (Array.isArray(s.networks)) s.networks = Object.fromEntries(s.networks.map((n) => [String(n), null]));
  for (const k of ['dns', 'dns_search', 'tmpfs', 'env_file', 'dns_opt']) if (k in s && !Array.isArray(s[k]) && s[k] !== null) s[k] = stringList(s[k]);
  if (isDict(s.extra_hosts)) {
    const hosts: string[] = [];
    for (const [h, ip] of Object.entries(s.extra_hosts)) for (const one of stringList(ip)) hosts.push(`${h}:${String(one)}`);
    s.extra_hosts = hosts;
  } else if (Array.isArray(s.extra_hosts)) {
    s.extra_hosts = s.extra_hosts.map((e) => String(e).replace(/^([^=:]+)=/, '$1:'));
  }
  return s;
}

const REPLACED = new Set(['command', 'entrypoint']);
const UNIQUE = new Set(['ports', 'expose', 'dns', 'dns_search', 'dns_opt', 'cap_add', 'cap_drop', 'security_opt', 'tmpfs', 'profiles', 'group_add', 'devices', 'extra_hosts', 'volumes_from', 'links', 'external_links', 'env_file', 'secrets', 'configs']);

function uniqueAppend(a: unknown[], b: unknown[]): unknown[] {
  const out = [...a];
  const seen = new Set(a.map((e) => JSON.stringify(e)));
  for (const e of b) {
    const k = JSON.stringify(e);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(e);
    }
  }
  return out;
}

function mergeVolumes(a: unknown[], b: unknown[]): unknown[] {
  const out = [...a];
  for (const e of b) {
    const t = volumeTarget(e);
    const i = t === null ? -1 : out.findIndex((x) => volumeTarget(x) === t);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (b instanceof Override) return b.value;
  if (isDict(a) && isDict(b) && !(a instanceof Reset) && !(b instanceof Reset)) {
    const out: Dict = { ...a };
    for (const [k, v] of Object.entries(b)) {
      if (v instanceof Reset) delete out[k];
      else out[k] = k in out ? deepMerge(out[k], v) : v;
    }
    return out;
  }
  return b;
}

/** `over` merged onto `base` (both canonical raw services). */
export function mergeService(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const a = out[k];
    if (v instanceof Reset) delete out[k];
    else if (v instanceof Override) out[k] = v.value;
    else if (!(k in out) || a === null || a === undefined) out[k] = v;
    else if (REPLACED.has(k)) out[k] = v;
    else if (k === 'volumes' && Array.isArray(a) && Array.isArray(v)) out[k] = mergeVolumes(a, v);
    else if (UNIQUE.has(k) && Array.isArray(a) && Array.isArray(v)) out[k] = uniqueAppend(a, v);
    else if (k === 'healthcheck' && isDict(a) && isDict(v)) out[k] = { ...a, ...v };
    else if (k === 'logging' && isDict(a) && isDict(v)) {
      const sameDriver = v.driver === undefined || a.driver === undefined || v.driver === a.driver;
      out[k] = sameDriver ? deepMerge(a, v) : v;
    } else if (k === 'build' && isDict(a) && isDict(v)) {
      const m = deepMerge(a, v) as Dict;
      for (const lk of ['cache_from', 'tags', 'extra_hosts']) if (Array.isArray(a[lk]) && Array.isArray(v[lk])) m[lk] = uniqueAppend(a[lk] as unknown[], v[lk] as unknown[]);
      out[k] = m;
    } else if (Array.isArray(a) && Array.isArray(v)) out[k] = [...a, ...v];
    else out[k] = deepMerge(a, v);
  }
  return out;
}

/** Merges whole files' top-level dictionaries in order (services canonicalized already). */
export function mergeFiles(files: Dict[]): Dict {
  const out: Dict = {};
  for (const f of files) {
    for (const [k, v] of Object.entries(f)) {
      if (k === 'services' && isDict(v)) {
        const cur = (isDict(out.services) ? out.services : {}) as Dict;
        const merged: Dict = { ...cur };
        for (const [name, svc] of Object.entries(v)) {
          if (svc instanceof Reset) {
            delete merged[name];
            continue;
          }
          const s = isDict(svc) ? svc : svc instanceof Override && isDict(svc.value) ? svc.value : {};
          merged[name] = isDict(cur[name]) ? mergeService(cur[name] as Dict, s) : s;
        }
        out.services = merged;
      } else if (k in out) out[k] = deepMerge(out[k], v);
      else out[k] = v;
    }
  }
  return out;
}
