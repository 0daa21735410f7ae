/**
 * loadProject: Compose files → model.ts `Project`, as docker compose v2 (compose-go) loads them:
 * which files (`-f`, COMPOSE_FILE, else compose.yaml … in the working dir or a parent, plus the
 * override file beside it), the project directory and name, `.env` and the process environment,
 * then per file: YAML → interpolation → schema validation → refusal of what hako does not
 * implement → `extends`; then the files merged in order, profiles applied, and each service
 * normalized (normalize.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isCollection, parseDocument, visit } from 'yaml';
import { InvalidArgument } from '../../errdefs/index.js';
import type { InjectedFile, Mount, Network, Project, Service, Volume } from '../model.js';
import { DotenvError, parseDotenv } from './dotenv.js';
import { interpolateTree, type Lookup } from './interpolate.js';
import { canonicalService, isDict, mergeFiles, mergeService, stringMap } from './merge.js';
import { absPath, namedVolumeKeys, normalizeService, toBool } from './normalize.js';
import { composeSchema } from './schema.js';
import { mount, parsePortShort, parseVolumeShort, SyntaxError_ } from './syntax.js';
import { formatSchemaError, validateAgainst } from './validate.js';
import { mergeTags, Reset, stripMarkers } from './markers.js';

type Dict = Record<string, unknown>;

export interface LoadOptions {
  /** `-f` files in order (relative to `cwd`; `-` reads `stdin`); else COMPOSE_FILE, else the default names. */
  files?: string[];
  /** `-p`. */
  projectName?: string;
  /** `--project-directory`. */
  projectDirectory?: string;
  /** `--env-file` (relative to `cwd`); default `.env` in the project directory, when present. */
  envFiles?: string[];
  /** `--profile`; default COMPOSE_PROFILES. */
  profiles?: string[];
  /** Services named on the command line: they (and what they depend on) are enabled whatever their profiles. */
  services?: string[];
  /** The process environment. */
  env: Record<string, string | undefined>;
  cwd: string;
  /** Reads standard input, for `-f -`. */
  stdin?: () => Promise<string>;
}

export interface LoadResult {
  project: Project;
  /** Messages compose prints as `WARN[0000] …` (without that prefix). */
  warnings: string[];
}

export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const DEFAULT_OVERRIDE_NAMES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

/** Top-level and service attributes of the Compose spec that hako does not implement yet. */
const UNSUPPORTED_TOP = ['models'];
const UNSUPPORTED_SERVICE = [
  'develop', 'annotations', 'attach', 'blkio_config', 'cgroup', 'cgroup_parent', 'cpu_count', 'cpu_percent', 'cpu_quota',
  'cpu_period', 'cpu_rt_period', 'cpu_rt_runtime', 'credential_spec', 'device_cgroup_rules', 'gpus', 'isolation',
  'label_file', 'external_links', 'mem_swappiness', 'oom_kill_disable', 'post_start', 'pre_stop', 'provider',
  'pull_refresh_after', 'runtime', 'storage_opt', 'use_api_socket', 'userns_mode', 'uts', 'models',
  'mac_address',
];
const UNSUPPORTED_BUILD = ['entitlements', 'ssh', 'cache_to', 'additional_contexts', 'isolation', 'privileged', 'secrets', 'ulimits', 'platforms'];

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** compose-go's NormalizeProjectName: lowercase, only [a-z0-9_-], no leading `_`/`-`. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^-_a-z0-9]+/g, '').replace(/^[-_]+/, '');
}

function checkProjectName(name: string, from: string): string {
  if (!PROJECT_NAME.test(name)) {
    throw new InvalidArgument(`invalid project name "${name}"${from}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
  }
  return name;
}

interface SourceFile {
  /** Absolute path (for stdin: `<cwd>/-`... shown as "-"). */
  path: string;
  text: string;
}

async function readFiles(opts: LoadOptions, warnings: string[]): Promise<SourceFile[]> {
  let names = opts.files && opts.files.length > 0 ? opts.files : null;
  if (!names && opts.env.COMPOSE_FILE) {
    names = opts.env.COMPOSE_FILE.split(opts.env.COMPOSE_PATH_SEPARATOR || ':').filter((f) => f !== '');
  }
  if (names) {
    const out: SourceFile[] = [];
    for (const f of names) {
      if (f === '-') {
        if (!opts.stdin) throw new InvalidArgument('cannot read a compose file from standard input here');
        out.push({ path: path.join(opts.cwd, '-'), text: await opts.stdin() });
        continue;
      }
      const p = path.resolve(opts.cwd, f);
      out.push({ path: p, text: readText(p) });
    }
    return out;
  }
  // The default names, in the working directory or the nearest parent that has one.
  const start = opts.projectDirectory ? path.resolve(opts.cwd, opts.projectDirectory) : opts.cwd;
  for (let dir = start; ; dir = path.dirname(dir)) {
    const found = DEFAULT_FILE_NAMES.filter((n) => isFile(path.join(dir, n)));
    if (found.length > 0) {
      if (found.length > 1) warnings.push(`Found multiple config files with supported names: ${found.map((n) => path.join(dir, n)).join(', ')}\nUsing ${path.join(dir, found[0]!)}`);
      const files = [path.join(dir, found[0]!)];
      const overrides = DEFAULT_OVERRIDE_NAMES.filter((n) => isFile(path.join(dir, n)));
      if (overrides.length > 1) warnings.push(`Found multiple override files with supported names: ${overrides.map((n) => path.join(dir, n)).join(', ')}\nUsing ${path.join(dir, overrides[0]!)}`);
      if (overrides.length > 0) files.push(path.join(dir, overrides[0]!));
      return files.map((p) => ({ path: p, text: readText(p) }));
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new InvalidArgument('no configuration file provided: not found');
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A file's text; `strict` (YAML files) refuses bytes that are not UTF-8, else they read as U+FFFD. */
function readText(p: string, strict = true): string {
  let raw: Buffer;
  try {
    raw = readFileSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InvalidArgument(`open ${p}: no such file or directory`);
    if (code === 'EISDIR') throw new InvalidArgument(`read ${p}: is a directory`);
    throw new InvalidArgument(`open ${p}: ${(err as Error).message}`);
  }
  // yaml.v3 refuses bytes that are not UTF-8; a lossy decode would turn them into U+FFFD silently.
  if (!strict) return raw.toString('utf8');
  try {
    return UTF8.decode(raw);
  } catch {
    throw new InvalidArgument(`yaml: ${p}: invalid UTF-8 sequence`);
  }
}

/**
 * compose-go's YAML (yaml.v3) reads a plain `0440` as octal (Go's ParseInt base 0), as in
 * `mode: 0440`; YAML 1.2's core schema (the yaml package's) would read 440. So `0[0-7]+` is octal here.
 */
const LEGACY_OCTAL = { identify: (v: unknown) => typeof v === 'number', default: true, tag: 'tag:yaml.org,2002:int', test: /^[-+]?0[0-7]+$/, resolve: (s: string) => parseInt(s, 8) };

function parseYaml(text: string, file: string): Dict {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, customTags: (tags) => [LEGACY_OCTAL, ...tags, ...(mergeTags as typeof tags)] });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0].line;
    if (e.code === 'DUPLICATE_KEY' && line !== undefined) {
      // compose-go (yaml.v3): `line 8: mapping key "services" already defined at line 2`.
      const lines = text.split('\n');
      const m = /^(\s*)([^:#\s][^:]*?)\s*:/.exec(lines[line - 1] ?? '');
      if (m) {
        const first = lines.findIndex((l) => l.startsWith(`${m[1]}${m[2]}`) && /^\s*:/.test(l.slice(m[1]!.length + m[2]!.length)));
        throw new InvalidArgument(`yaml: ${file}: line ${line}: mapping key "${m[2]}" already defined at line ${first + 1}`);
      }
    }
    throw new InvalidArgument(`yaml: ${file}: ${line !== undefined ? `line ${line}: ` : ''}${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  // An alias inside its own anchor (`a: &a [*a]`) would make toJS return a cyclic value that every
  // later walk recurses into until the stack overflows; yaml.v3 refuses it.
  visit(doc, {
    Alias(_key, node, ancestors) {
      const target = node.resolve(doc);
      if (isCollection(target) && ancestors.includes(target)) throw new InvalidArgument(`yaml: ${file}: anchor '${node.source}' value contains itself`);
    },
  });
  const v = doc.toJS({ maxAliasCount: 10000 }) as unknown;
  if (v === null || v === undefined) return {};
  if (!isDict(v)) throw new InvalidArgument(`${file}: top-level object must be a mapping`);
  return v;
}

/** Everything shared by the files of one load. */
interface LoadContext {
  lookup: Lookup;
  missing: (name: string) => void;
  warnings: string[];
  workingDir: string;
  home: string | undefined;
  /** Parsed, interpolated and validated files by absolute path (for `extends: file:`). */
  cache: Map<string, Dict>;
}

/** One file: YAML, interpolation, schema, refusals. */
function prepareFile(file: SourceFile, ctx: LoadContext): Dict {
  const cached = ctx.cache.get(file.path);
  if (cached) return cached;
  const raw = parseYaml(file.text, file.path);
  const dict = interpolateTree(raw, ctx.lookup, ctx.missing, file.path) as Dict;
  // The file is checked without its merge tags (`!reset` keys gone, `!override` unwrapped).
  const plain = stripMarkers(dict) as Dict;
  const err = validateAgainst(composeSchema as Dict, plain);
  if (err) throw new InvalidArgument(`validating ${file.path}: ${formatSchemaError(err)}`);
  if ('version' in dict) {
    ctx.warnings.push(`${file.path}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
    delete dict.version;
  }
  refuseUnsupported(plain, file.path);
  checkShortSyntaxes(plain, file.path);
  ctx.cache.set(file.path, dict);
  return dict;
}

function unsupported(file: string, at: string, attr: string): never {
  throw new InvalidArgument(`${file}: ${at}: hako does not support the attribute "${attr}" yet`);
}

function refuseUnsupported(dict: Dict, file: string): void {
  for (const k of UNSUPPORTED_TOP) if (k in dict) unsupported(file, k, k);
  for (const [name, s] of Object.entries(isDict(dict.services) ? dict.services : {})) {
    if (!isDict(s)) continue;
    for (const k of UNSUPPORTED_SERVICE) if (k in s) unsupported(file, `services.${name}.${k}`, k);
    if (isDict(s.build)) for (const k of UNSUPPORTED_BUILD) if (k in s.build) unsupported(file, `services.${name}.build.${k}`, `build.${k}`);
  }
  for (const top of ['secrets', 'configs']) {
    for (const [name, sec] of Object.entries(isDict(dict[top]) ? dict[top] : {})) {
      if (!isDict(sec)) continue;
      for (const k of ['driver', 'driver_opts', 'template_driver', 'labels']) if (k in sec) unsupported(file, `${top}.${name}.${k}`, `${top}.${k}`);
    }
  }
  for (const [name, n] of Object.entries(isDict(dict.networks) ? dict.networks : {})) {
    if (!isDict(n)) continue;
    if (isDict(n.ipam) && n.ipam.options !== undefined) unsupported(file, `networks.${name}.ipam.options`, 'ipam.options');
    if (n.enable_ipv4 !== undefined && !toBool(n.enable_ipv4, `${file}: networks.${name}.enable_ipv4`)) unsupported(file, `networks.${name}.enable_ipv4`, 'enable_ipv4: false');
  }
}

/** Port and volume short syntaxes are checked per file, so errors can name it. */
function checkShortSyntaxes(dict: Dict, file: string): void {
  for (const [name, s] of Object.entries(isDict(dict.services) ? dict.services : {})) {
    if (!isDict(s)) continue;
    const check = (key: string, parse: (e: string | number) => unknown): void => {
      (Array.isArray(s[key]) ? (s[key] as unknown[]) : []).forEach((e, i) => {
        if (typeof e !== 'string' && typeof e !== 'number') return;
        try {
          parse(e);
        } catch (err) {
          if (err instanceof SyntaxError_) throw new InvalidArgument(`${file}: services.${name}.${key}.${i}: ${err.message}`);
          throw err;
        }
      });
    };
    check('ports', (e) => parsePortShort(e));
    check('volumes', (e) => parseVolumeShort(String(e)));
  }
}

/** Makes the relative paths of a service from a file in `dir` absolute (an `extends` from another directory). */
function rebase(svc: Dict, dir: string, home: string | undefined): Dict {
  const s: Dict = { ...svc };
  if (typeof s.build === 'string') s.build = absPath(s.build, dir, home);
  else if (isDict(s.build)) s.build = { ...s.build, context: absPath(String(s.build.context ?? '.'), dir, home) };
  if (s.env_file !== undefined) {
    s.env_file = (Array.isArray(s.env_file) ? s.env_file : [s.env_file]).map((e) => (isDict(e) ? { ...e, path: absPath(String(e.path), dir, home) } : absPath(String(e), dir, home)));
  }
  if (Array.isArray(s.volumes)) {
    s.volumes = s.volumes.map((v) => {
      if (typeof v === 'string') {
        const i = v.indexOf(':');
        return i > 0 && v.startsWith('.') ? absPath(v.slice(0, i), dir, home) + v.slice(i) : v;
      }
      if (isDict(v) && v.type === 'bind' && typeof v.source === 'string') return { ...v, source: absPath(v.source, dir, home) };
      return v;
    });
  }
  return s;
}

/** Resolves `extends` of every service of `file` (its own dictionary, mutated). */
function resolveExtends(file: string, dict: Dict, ctx: LoadContext): void {
  const services = isDict(dict.services) ? dict.services : {};
  const resolveOne = (fileOf: string, all: Dict, name: string, chain: string[]): Dict => {
    const svc = all[name];
    if (!isDict(svc)) throw new InvalidArgument(`${fileOf}: cannot extend service "${name}": service not found`);
    if (!('extends' in svc)) return svc;
    const id = `${fileOf}#${name}`;
    if (chain.includes(id)) throw new InvalidArgument(`${fileOf}: services.${name}.extends: circular reference: ${[...chain, id].join(' -> ')}`);
    const ext = svc.extends;
    const baseName = typeof ext === 'string' ? ext : String((ext as Dict).service);
    const extFile = isDict(ext) && typeof ext.file === 'string' ? path.resolve(path.dirname(fileOf), ext.file) : null;
    let base: Dict;
    if (extFile !== null) {
      const other = prepareFile({ path: extFile, text: ctx.cache.has(extFile) ? '' : readText(extFile) }, ctx);
      const otherServices = isDict(other.services) ? other.services : {};
      if (!isDict(otherServices[baseName])) throw new InvalidArgument(`cannot extend service "${name}" in ${fileOf}: service "${baseName}" not found in ${extFile}`);
      base = resolveOne(extFile, otherServices, baseName, [...chain, id]);
      if (path.dirname(extFile) !== ctx.workingDir) base = rebase(base, path.dirname(extFile), ctx.home);
    } else {
      if (!isDict(all[baseName])) throw new InvalidArgument(`cannot extend service "${name}" in ${fileOf}: service "${baseName}" not found`);
      base = resolveOne(fileOf, all, baseName, [...chain, id]);
    }
    const own: Dict = { ...svc };
    delete own.extends;
    const merged = mergeService(canonicalService(stripExtends(base)), canonicalService(own));
    all[name] = merged;
    return merged;
  };
  for (const name of Object.keys(services)) resolveOne(file, services, name, []);
}

/**
 * `include:` (compose-go's ApplyInclude): each entry is loaded as a project of its own — its paths
 * relative to the including project's directory, its own project directory (`project_directory`,
 * else the first file's), its own `.env` or `env_file`s under the including environment (which
 * wins), its own `extends` and nested `include`s, several `path`s merged — and its services,
 * networks, volumes, secrets and configs are added to the including file's. A resource defined on
 * both sides differently is refused with compose's message; an include cycle too.
 */
function applyInclude(file: string, dict: Dict, ctx: LoadContext, baseDir: string, chain: string[]): void {
  const inc = dict.include;
  delete dict.include;
  if (!Array.isArray(inc)) return;
  for (const item of inc as unknown[]) {
    const r: Dict = typeof item === 'string' ? { path: item } : isDict(item) ? item : {};
    const paths = (Array.isArray(r.path) ? r.path : r.path === undefined ? [] : [r.path]).map((p) => absPath(String(p), baseDir, ctx.home));
    const first = paths[0];
    if (first === undefined) throw new InvalidArgument(`${file}: include: an entry needs a path`);
    const projectDir = r.project_directory === undefined ? path.dirname(first) : absPath(String(r.project_directory), baseDir, ctx.home);
    if (chain.includes(first)) throw new InvalidArgument(`include cycle detected:\n${chain[0]}\n include ${[...chain.slice(1), first].join('\n include ')}`);
    const envFiles = r.env_file === undefined
      ? [path.join(projectDir, '.env')].filter(isFile)
      : (Array.isArray(r.env_file) ? r.env_file : [r.env_file]).map((f) => {
        const abs = absPath(String(f), baseDir, ctx.home);
        if (!existsSync(abs)) throw new InvalidArgument(`${file}: include: env_file ${abs}: no such file or directory`);
        if (!isFile(abs)) throw new InvalidArgument(`${abs} is not a file`);
        return abs;
      });
    const fileEnv: Record<string, string> = {};
    for (const f of envFiles) for (const [k, v] of envFileVars(f, (k) => ctx.lookup(k) ?? fileEnv[k], () => {})) fileEnv[k] = v;
    const child: LoadContext = { ...ctx, lookup: (k) => ctx.lookup(k) ?? fileEnv[k], workingDir: projectDir, cache: new Map() };
    const dicts: Dict[] = [];
    for (const p of paths) {
      const d = prepareFile({ path: p, text: readText(p) }, child);
      applyInclude(p, d, child, projectDir, [...chain, p]);
      resolveExtends(p, d, child);
      const services = isDict(d.services) ? d.services : {};
      dicts.push({ ...d, services: Object.fromEntries(Object.entries(services).map(([n, sv]) => [n, sv instanceof Reset ? sv : canonicalService(isDict(sv) ? sv : {})])) });
    }
    const imported = stripMarkers(mergeFiles(dicts)) as Dict;
    // Relative paths are the included project's: made absolute before they join the including file.
    if (isDict(imported.services)) {
      imported.services = Object.fromEntries(Object.entries(imported.services).map(([n, sv]) => [n, rebase(isDict(sv) ? sv : {}, projectDir, ctx.home)]));
    }
    for (const top of ['secrets', 'configs']) {
      if (!isDict(imported[top])) continue;
      imported[top] = Object.fromEntries(Object.entries(imported[top]).map(([n, d]) => [n, isDict(d) && typeof d.file === 'string' ? { ...d, file: absPath(d.file, projectDir, ctx.home) } : d]));
    }
    for (const key of ['services', 'volumes', 'networks', 'secrets', 'configs']) {
      const from = imported[key];
      if (!isDict(from)) continue;
      const to: Dict = isDict(dict[key]) ? (dict[key] as Dict) : {};
      for (const [name, def] of Object.entries(from)) {
        if (name in to) {
          const mine = key === 'services' && isDict(to[name]) ? rebase(canonicalService(to[name] as Dict), ctx.workingDir, ctx.home) : to[name];
          if (isDeepStrictEqual(stripMarkers(mine), def)) continue;
          throw new InvalidArgument(`${key}.${name} conflicts with imported resource`);
        }
        to[name] = def;
      }
      dict[key] = to;
    }
  }
}

function stripExtends(d: Dict): Dict {
  const c = { ...d };
  delete c.extends;
  return c;
}

function envFileVars(file: string, lookup: Lookup, missing: (n: string) => void, raw = false): Map<string, string> {
  try {
    return parseDotenv(readText(file, false), lookup, { raw, missing });
  } catch (err) {
    if (err instanceof DotenvError) throw new InvalidArgument(`failed to read ${file}: ${err.message}`);
    throw err;
  }
}

/** `.env` (or the --env-file files) read with the process environment taking precedence in their own interpolation. */
function readDotenv(opts: LoadOptions, dir: string, processEnv: Record<string, string>): Record<string, string> {
  const dotenv: Record<string, string> = {};
  const dotenvFiles = opts.envFiles && opts.envFiles.length > 0 ? opts.envFiles.map((f) => path.resolve(opts.cwd, f)) : [path.join(dir, '.env')];
  const silent = (): void => {};
  for (const f of dotenvFiles) {
    if (!opts.envFiles?.length && !isFile(f)) continue;
    if (existsSync(f) && !isFile(f)) throw new InvalidArgument(`${f} is a directory`);
    const lookup: Lookup = (k) => processEnv[k] ?? dotenv[k];
    for (const [k, v] of envFileVars(f, lookup, silent)) dotenv[k] = v;
  }
  return dotenv;
}

export async function loadProject(opts: LoadOptions): Promise<LoadResult> {
  const warnings: string[] = [];
  const processEnv = Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined));
  // compose-go reads the `.env` of the working directory (--project-directory, else the current
  // one) before choosing files: COMPOSE_FILE, COMPOSE_PATH_SEPARATOR, COMPOSE_PROFILES and
  // COMPOSE_PROJECT_NAME may come from it (the process environment wins).
  const startDir = opts.projectDirectory ? path.resolve(opts.cwd, opts.projectDirectory) : opts.cwd;
  const preEnv: Record<string, string> = { ...readDotenv(opts, startDir, processEnv), ...processEnv };
  const files = await readFiles({ ...opts, env: preEnv }, warnings);
  const workingDir = opts.projectDirectory ? path.resolve(opts.cwd, opts.projectDirectory) : path.dirname(files[0]!.path);

  // The interpolation environment: the process env over `.env` (or --env-file).
  const dotenv = readDotenv(opts, workingDir, processEnv);
  const env: Record<string, string> = { ...dotenv, ...processEnv };

  // The project name may come before interpolation (-p, COMPOSE_PROJECT_NAME) and is then
  // visible to it as COMPOSE_PROJECT_NAME.
  let projectName: string | null = null;
  if (opts.projectName !== undefined && opts.projectName !== '') projectName = checkProjectName(opts.projectName, '');
  else if (env.COMPOSE_PROJECT_NAME) projectName = checkProjectName(env.COMPOSE_PROJECT_NAME, ' (COMPOSE_PROJECT_NAME)');
  else if (preEnv.COMPOSE_PROJECT_NAME) projectName = checkProjectName(preEnv.COMPOSE_PROJECT_NAME, ' (COMPOSE_PROJECT_NAME)');

  const used = new Map<string, string>();
  const missingSeen = new Set<string>();
  const lookup: Lookup = (k) => {
    if (k === 'COMPOSE_PROJECT_NAME' && env[k] === undefined && projectName !== null) return projectName;
    const v = env[k];
    if (v !== undefined) used.set(k, v);
    return v;
  };
  const missing = (k: string): void => {
    if (missingSeen.has(k)) return;
    missingSeen.add(k);
    warnings.push(`The "${k}" variable is not set. Defaulting to a blank string.`);
  };
  const ctx: LoadContext = { lookup, missing, warnings, workingDir, home: env.HOME, cache: new Map() };

  const dicts: Dict[] = [];
  for (const f of files) {
    const d = prepareFile(f, ctx);
    applyInclude(f.path, d, ctx, workingDir, [f.path]);
    resolveExtends(f.path, d, ctx);
    const services = isDict(d.services) ? d.services : {};
    const canon: Dict = { ...d, services: Object.fromEntries(Object.entries(services).map(([n, s]) => [n, s instanceof Reset ? s : canonicalService(isDict(s) ? s : {})])) };
    dicts.push(canon);
  }
  const merged = stripMarkers(mergeFiles(dicts)) as Dict;

  if (projectName === null && typeof merged.name === 'string' && merged.name !== '') projectName = checkProjectName(merged.name, ' (top-level name)');
  if (projectName === null) {
    projectName = normalizeProjectName(path.basename(workingDir));
    if (projectName === '') throw new InvalidArgument(`project name must not be empty: the directory name "${path.basename(workingDir)}" has no letter or digit; use -p or a top-level name:`);
  }
  const name = projectName;

  // Profiles.
  const profileList = opts.profiles && opts.profiles.length > 0 ? opts.profiles : (env.COMPOSE_PROFILES ?? preEnv.COMPOSE_PROFILES ?? '').split(',');
  const active = new Set(profileList.map((p) => p.trim()).filter((p) => p !== ''));
  const rawServices = (isDict(merged.services) ? merged.services : {}) as Record<string, Dict>;
  const enabled = new Set<string>();
  for (const [n, s] of Object.entries(rawServices)) {
    const profiles = Array.isArray(s.profiles) ? s.profiles.map(String) : [];
    if (profiles.length === 0 || active.has('*') || profiles.some((p) => active.has(p))) enabled.add(n);
  }
  for (const n of opts.services ?? []) {
    if (!(n in rawServices)) throw new InvalidArgument(`no such service: ${n}`);
  }

  const envFileCache = new Map<string, Map<string, string>>();
  const nctx = {
    projectName: name,
    workingDir,
    home: env.HOME,
    lookup: (k: string) => env[k],
    warn: (m: string) => warnings.push(m),
    envFile: (file: string, required: boolean, format: string | null, where: string): Map<string, string> | null => {
      if (format !== null && format !== 'raw') throw new InvalidArgument(`${where}.format: unsupported env_file format "${format}": use raw or leave it unset`);
      if (!isFile(file)) {
        if (!required) return null;
        throw new InvalidArgument(`env file ${file} not found: stat ${file}: no such file or directory`);
      }
      const key = `${format ?? ''}:${file}`;
      let vars = envFileCache.get(key);
      if (!vars) {
        vars = envFileVars(file, (k) => env[k], missing, format === 'raw');
        envFileCache.set(key, vars);
      }
      return vars;
    },
  };
  const all: Record<string, Service> = {};
  const rawSecrets = (isDict(merged.secrets) ? merged.secrets : {}) as Record<string, unknown>;
  const rawConfigs = (isDict(merged.configs) ? merged.configs : {}) as Record<string, unknown>;
  for (const [n, s] of Object.entries(rawServices)) {
    all[n] = normalizeService(n, s, nctx);
    for (const kind of ['secret', 'config'] as const) {
      const { mounts, files: injected } = fileMounts(kind, n, s, kind === 'secret' ? rawSecrets : rawConfigs, { workingDir, home: env.HOME, env, warnings });
      all[n].volumes.push(...mounts);
      all[n].files.push(...injected);
    }
  }

  // Dependencies must exist; named services and their dependencies are enabled.
  for (const s of Object.values(all)) {
    const viaMode = s.networkMode?.startsWith('service:') ? s.networkMode.slice(8) : null;
    if (viaMode !== null && !(viaMode in all)) throw new InvalidArgument(`service "${viaMode}" not found for network_mode 'service:${viaMode}'`);
    for (const dep of Object.keys(s.dependsOn)) {
      if (!(dep in all)) throw new InvalidArgument(`service "${s.name}" depends on undefined service "${dep}": invalid compose project`);
    }
  }
  const enable = (n: string): void => {
    if (enabled.has(n) && !(opts.services ?? []).includes(n)) return;
    enabled.add(n);
    for (const d of Object.keys(all[n]!.dependsOn)) if (!enabled.has(d)) enable(d);
  };
  for (const n of opts.services ?? []) enable(n);
  for (const n of enabled) {
    for (const [dep, d] of Object.entries(all[n]!.dependsOn)) {
      if (!enabled.has(dep) && d.required) {
        throw new InvalidArgument(`service "${dep}" was pulled in as a dependency of service "${n}" but is not enabled by the active profiles. You may fix this by adding a common profile to "${dep}" and "${n}".`);
      }
    }
  }
  checkMountTargets(all);
  checkCycles(all);
  const services: Record<string, Service> = {};
  const disabledServices: Record<string, Service> = {};
  for (const n of Object.keys(all).sort()) (enabled.has(n) ? services : disabledServices)[n] = all[n]!;

  // Networks and volumes.
  const rawNetworks = (isDict(merged.networks) ? merged.networks : {}) as Record<string, unknown>;
  const networks: Record<string, Network> = {};
  for (const [key, n] of Object.entries(rawNetworks)) networks[key] = network(name, key, isDict(n) ? n : {}, warnings);
  const rawVolumes = (isDict(merged.volumes) ? merged.volumes : {}) as Record<string, unknown>;
  const volumes: Record<string, Volume> = {};
  for (const [key, v] of Object.entries(rawVolumes)) volumes[key] = volume(name, key, isDict(v) ? v : {}, warnings);
  for (const s of Object.values(services)) {
    for (const key of Object.keys(s.networks)) {
      if (key === 'default' && !networks.default) networks.default = network(name, 'default', {}, warnings);
      if (!networks[key]) throw new InvalidArgument(`service "${s.name}" refers to undefined network ${key}: invalid compose project`);
    }
    for (const key of namedVolumeKeys(rawServices[s.name]!)) {
      if (!volumes[key]) throw new InvalidArgument(`service "${s.name}" refers to undefined volume ${key}: invalid compose project`);
    }
  }

  const environment: Record<string, string> = { ...dotenv };
  for (const k of Object.keys(dotenv)) if (processEnv[k] !== undefined) environment[k] = processEnv[k];
  for (const [k, v] of used) environment[k] = v;

  return {
    project: { name, workingDir, configFiles: files.map((f) => f.path), services, disabledServices, networks, volumes, environment },
    warnings,
  };
}

/** Two mounts (volumes, tmpfs) on one target: compose-go's message. */
function checkMountTargets(services: Record<string, Service>): void {
  for (const s of Object.values(services)) {
    const seen = new Map<string, string>();
    const add = (target: string, loc: string): void => {
      const prev = seen.get(target);
      if (prev !== undefined) throw new InvalidArgument(`${loc}: target ${target} already mounted as ${prev}`);
      seen.set(target, loc);
    };
    s.tmpfs.forEach((t, i) => add(t.split(':')[0]!, `services.${s.name}.tmpfs[${i}]`));
    s.volumes.forEach((v, i) => add(v.target, `services.${s.name}.volumes[${i}]`));
  }
}

/** `depends_on` (and network_mode/volumes_from service references) must not loop. */
function checkCycles(services: Record<string, Service>): void {
  const done = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    const i = path.indexOf(name);
    if (i >= 0) throw new InvalidArgument(`dependency cycle detected: ${path.slice(i).join(' -> ')} -> ${name}`);
    for (const dep of Object.keys(services[name]?.dependsOn ?? {}).sort()) visit(dep, [...path, name]);
    done.add(name);
  };
  for (const name of Object.keys(services).sort()) visit(name, []);
}

/**
 * A service's `secrets` or `configs` as docker compose runs them outside swarm: a file source is
 * bind-mounted read-only at `/run/secrets/<target>` (a secret) or `/<target>` (a config), or at the
 * absolute target; an `environment:` or `content:` source (`content` was interpolated with the
 * rest of the file) is written into the container before it starts, with the long syntax's
 * `mode` (default 0444), `uid` and `gid`. External ones are refused (compose refuses them at `up`:
 * "unsupported external secret").
 */
function fileMounts(kind: 'secret' | 'config', service: string, raw: Dict, defs: Record<string, unknown>, o: { workingDir: string; home: string | undefined; env: Record<string, string>; warnings: string[] }): { mounts: Mount[]; files: InjectedFile[] } {
  const mounts: Mount[] = [];
  const files: InjectedFile[] = [];
  const key = `${kind}s`;
  (Array.isArray(raw[key]) ? (raw[key] as unknown[]) : []).forEach((e, i) => {
    const at = `services.${service}.${key}.${i}`;
    const d: Dict = isDict(e) ? e : { source: e };
    const source = String(d.source);
    const def = defs[source];
    if (!isDict(def)) throw new InvalidArgument(`service "${service}" refers to undefined ${kind} ${source}: invalid compose project`);
    if (def.external !== undefined && def.external !== false) throw new InvalidArgument(`${at}: unsupported external ${kind} ${typeof def.name === 'string' ? def.name : source}`);
    const target = d.target === undefined ? source : String(d.target);
    const dir = kind === 'secret' ? '/run/secrets/' : '/';
    const abs = target.startsWith('/') ? target : `${dir}${target}`;
    if (typeof def.environment === 'string' || typeof def.content === 'string') {
      const variable = typeof def.environment === 'string' ? def.environment : null;
      const content = variable !== null ? (o.env[variable] ?? null) : String(def.content);
      files.push({ target: abs, content, hostFile: null, environment: variable, kind, source, mode: fileMode(d.mode, `${at}.mode`), uid: ownerId(d.uid, `${at}.uid`), gid: ownerId(d.gid, `${at}.gid`) });
      return;
    }
    if (typeof def.file !== 'string') throw new InvalidArgument(`${kind} "${source}" must declare either \`file\`, \`environment\`${kind === 'config' ? ' or `content`' : ''}: invalid compose project`);
    const file = absPath(def.file, o.workingDir, o.home);
    if (d.uid !== undefined || d.gid !== undefined || d.mode !== undefined) {
      // The long syntax's owner and mode: the file is copied in (as compose's injectConfigs does)
      // rather than bind-mounted, which would show the host file's own.
      if (isFile(file)) {
        files.push({ target: abs, content: null, hostFile: file, environment: null, kind, source, mode: fileMode(d.mode, `${at}.mode`), uid: ownerId(d.uid, `${at}.uid`), gid: ownerId(d.gid, `${at}.gid`) });
        return;
      }
      o.warnings.push(`${at}: uid, gid and mode of ${kind} "${source}" are ignored: ${file} is not a regular file, it is bind-mounted`);
    }
    mounts.push(mount({ type: 'bind', source: file, target: abs, readOnly: true }));
  });
  return { mounts, files };
}

/** `mode`: a number (`0440` and `0o440` are octal, as compose-go reads them), or an octal string ("0440"). */
function fileMode(v: unknown, where: string): number {
  if (v === undefined || v === null) return 0o444;
  const n = typeof v === 'number' ? v : /^(0o?)?[0-7]+$/.test(String(v)) ? parseInt(String(v).replace(/^0o/, ''), 8) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0o7777) throw new InvalidArgument(`${where}: invalid file mode ${JSON.stringify(v)}: use an octal string such as "0440"`);
  return n;
}

function ownerId(v: unknown, where: string): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgument(`${where}: invalid id ${JSON.stringify(v)}: use a numeric uid/gid`);
  return n;
}

function externalName(key: string, d: Dict, kind: string, warnings: string[]): { external: boolean; name: string | null } {
  const ext = d.external;
  if (isDict(ext)) {
    if (typeof ext.name === 'string') {
      warnings.push(`${kind} ${key}: external.name is deprecated. Please set name and external: true`);
      return { external: true, name: ext.name };
    }
    return { external: true, name: null };
  }
  return { external: ext === undefined ? false : toBool(ext, `${kind}s.${key}.external`), name: null };
}

function network(project: string, key: string, d: Dict, warnings: string[]): Network {
  const { external, name: extName } = externalName(key, d, 'network', warnings);
  const given = extName ?? (typeof d.name === 'string' ? d.name : null);
  const ipam = isDict(d.ipam) ? d.ipam : {};
  return {
    name: given ?? (external ? key : `${project}_${key}`),
    driver: typeof d.driver === 'string' ? d.driver : 'bridge',
    driverOpts: stringMap(d.driver_opts),
    external,
    internal: d.internal === undefined ? false : toBool(d.internal, `networks.${key}.internal`),
    attachable: d.attachable === undefined ? false : toBool(d.attachable, `networks.${key}.attachable`),
    enableIpv6: d.enable_ipv6 === undefined ? false : toBool(d.enable_ipv6, `networks.${key}.enable_ipv6`),
    labels: stringMap(d.labels),
    ipam: {
      ...(typeof ipam.driver === 'string' ? { driver: ipam.driver } : {}),
      config: (Array.isArray(ipam.config) ? ipam.config : []).map((c: Dict) => ({
        ...(c.subnet !== undefined ? { subnet: String(c.subnet) } : {}),
        ...(c.ip_range !== undefined ? { ipRange: String(c.ip_range) } : {}),
        ...(c.gateway !== undefined ? { gateway: String(c.gateway) } : {}),
        ...(isDict(c.aux_addresses) ? { auxAddresses: stringMap(c.aux_addresses) } : {}),
      })),
    },
  };
}

function volume(project: string, key: string, d: Dict, warnings: string[]): Volume {
  const { external, name: extName } = externalName(key, d, 'volume', warnings);
  const given = extName ?? (typeof d.name === 'string' ? d.name : null);
  return {
    name: given ?? (external ? key : `${project}_${key}`),
    driver: typeof d.driver === 'string' ? d.driver : 'local',
    driverOpts: stringMap(d.driver_opts),
    external,
    labels: stringMap(d.labels),
  };
}
