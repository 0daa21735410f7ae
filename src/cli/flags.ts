/**
 * A small flag parser with spf13/pflag's semantics, so `hako` accepts what `docker` accepts:
 * combined shorthands (`-dit`, `-dp 8080:80`), values attached or separate (`--name=x`,
 * `--name x`, `-ex=1`, `-e=x`), repeated array flags, `--flag=false`, `--` to end flags, `-` as an
 * argument, and interspersed=false (run/create/exec: everything after the image is the command's).
 * Errors carry pflag's exact messages; the caller adds the usage line and exit code.
 */

export type FlagKind = 'bool' | 'string' | 'stringArray' | 'int' | 'duration' | 'uint';

export interface FlagDef {
  name: string;
  short?: string;
  kind: FlagKind;
  /** Shown in help after the flag name ("string", "list", "filter", "bytes"); defaults by kind. */
  valueName?: string;
  default?: string | number | boolean;
  usage: string;
  hidden?: boolean;
  /** Other long names that set the same value (`--net` for `--network`). */
  aliases?: string[];
  /** Checks a value as it is parsed (pflag Value.Set); answers the reason it is invalid. */
  validate?: (value: string) => string | undefined;
}

export type FlagValue = string | number | boolean | string[];

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface ParsedFlags {
  /** Values by long name; unset flags have their default (arrays: []). */
  values: Record<string, FlagValue>;
  /** Long names the user set explicitly (pflag's `Changed`). */
  changed: Set<string>;
  args: string[];
  help: boolean;
}

/** Go's time.ParseDuration, in milliseconds ("1m30s", "300ms", "1.5h", "0"). */
export function parseGoDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let sign = 1;
  let rest = s;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '') throw new Error(`time: invalid duration "${s}"`);
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let pos = 0;
  re.lastIndex = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    total += Number(m[1]) * (unit[m[2] ?? ''] ?? 0);
    pos = re.lastIndex;
  }
  if (pos !== rest.length) {
    if (/^\d+(\.\d*)?$/.test(rest.slice(pos))) throw new Error(`time: missing unit in duration "${s}"`);
    throw new Error(`time: invalid duration "${s}"`);
  }
  return sign * total;
}

function kindName(def: FlagDef): string {
  if (def.valueName !== undefined) return def.valueName;
  switch (def.kind) {
    case 'bool': return '';
    case 'stringArray': return 'stringArray';
    case 'duration': return 'duration';
    case 'int': return 'int';
    case 'uint': return 'uint';
    default: return 'string';
  }
}

function flagTitle(def: FlagDef): string {
  return def.short ? `-${def.short}, --${def.name}` : `--${def.name}`;
}

function defaultOf(def: FlagDef): FlagValue {
  if (def.kind === 'stringArray') return [];
  if (def.default !== undefined) return def.default;
  switch (def.kind) {
    case 'bool': return false;
    case 'int': case 'uint': case 'duration': return 0;
    default: return '';
  }
}

function convert(def: FlagDef, raw: string): FlagValue {
  const invalid = (why: string): FlagError =>
    new FlagError(`invalid argument "${raw}" for "${flagTitle(def)}" flag: ${why}`);
  const why = def.validate?.(raw);
  if (why !== undefined) throw invalid(why);
  switch (def.kind) {
    case 'bool': {
      const t = ['1', 't', 'T', 'true', 'TRUE', 'True'];
      const f = ['0', 'f', 'F', 'false', 'FALSE', 'False'];
      if (t.includes(raw)) return true;
      if (f.includes(raw)) return false;
      throw invalid(`strconv.ParseBool: parsing "${raw}": invalid syntax`);
    }
    case 'int': case 'uint': {
      if (!/^[-+]?\d+$/.test(raw) || (def.kind === 'uint' && raw.startsWith('-'))) {
        throw invalid(`strconv.Parse${def.kind === 'int' ? 'Int' : 'Uint'}: parsing "${raw}": invalid syntax`);
      }
      return Number(raw);
    }
    case 'duration':
      try {
        return parseGoDuration(raw);
      } catch (e) {
        throw invalid((e as Error).message);
      }
    default:
      return raw;
  }
}

export class FlagSet {
  readonly defs: FlagDef[];
  readonly #long = new Map<string, FlagDef>();
  readonly #short = new Map<string, FlagDef>();
  readonly interspersed: boolean;

  constructor(defs: FlagDef[], opts: { interspersed?: boolean; helpShorthand?: boolean } = {}) {
    this.interspersed = opts.interspersed ?? true;
    const all = [...defs];
    const shortTaken = defs.some((d) => d.short === 'h');
    all.push({ name: 'help', short: shortTaken || opts.helpShorthand === false ? undefined : 'h', kind: 'bool', usage: 'Print usage', hidden: true });
    this.defs = all;
    for (const d of all) {
      this.#long.set(d.name, d);
      for (const a of d.aliases ?? []) this.#long.set(a, d);
      if (d.short) this.#short.set(d.short, d);
    }
  }

  parse(argv: string[]): ParsedFlags {
    const values: Record<string, FlagValue> = {};
    for (const d of this.defs) values[d.name] = defaultOf(d);
    const changed = new Set<string>();
    const args: string[] = [];

    const set = (def: FlagDef, raw: string): void => {
      const v = convert(def, raw);
      if (def.kind === 'stringArray') {
        // A flag given again appends; its default is dropped on first use (pflag's stringArray).
        (values[def.name] as string[]).push(raw);
      } else {
        values[def.name] = v;
      }
      changed.add(def.name);
    };

    let i = 0;
    while (i < argv.length) {
      const a = argv[i++] as string;
      if (a === '--') {
        args.push(...argv.slice(i));
        break;
      }
      if (!a.startsWith('-') || a === '-') {
        args.push(a);
        if (!this.interspersed) {
          args.push(...argv.slice(i));
          break;
        }
        continue;
      }
      if (a.startsWith('--')) {
        const body = a.slice(2);
        const eq = body.indexOf('=');
        const name = eq >= 0 ? body.slice(0, eq) : body;
        const def = this.#long.get(name);
        if (!def) throw new FlagError(`unknown flag: --${name}`);
        if (eq >= 0) set(def, body.slice(eq + 1));
        else if (def.kind === 'bool') set(def, 'true');
        else if (i < argv.length) set(def, argv[i++] as string);
        else throw new FlagError(`flag needs an argument: --${name}`);
        continue;
      }
      // One or more shorthands: -abc, -p80, -p=80, -e A=1
      let rest = a.slice(1);
      while (rest.length > 0) {
        const c = rest[0] as string;
        const def = this.#short.get(c);
        if (!def) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
        if (rest.length > 2 && rest[1] === '=') {
          set(def, rest.slice(2));
          rest = '';
        } else if (def.kind === 'bool') {
          set(def, 'true');
          rest = rest.slice(1);
        } else if (rest.length > 1) {
          set(def, rest.slice(1));
          rest = '';
        } else if (i < argv.length) {
          set(def, argv[i++] as string);
          rest = '';
        } else {
          throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
        }
      }
    }
    return { values, changed, args, help: values['help'] === true };
  }

  /** The "Options:" block of docker's help, aligned like cobra's FlagUsages. */
  usage(): string {
    const rows: Array<[string, string]> = [];
    for (const d of this.defs) {
      if (d.hidden) continue;
      const head = d.short ? `  -${d.short}, --${d.name}` : `      --${d.name}`;
      const vn = kindName(d);
      let usage = d.usage;
      const dflt = d.default;
      if (dflt !== undefined && dflt !== '' && dflt !== false && !(d.kind === 'int' && dflt === 0)) {
        usage += d.kind === 'string' ? ` (default "${String(dflt)}")` : ` (default ${String(dflt)})`;
      }
      rows.push([vn ? `${head} ${vn}` : head, usage]);
    }
    const width = Math.max(0, ...rows.map(([h]) => h.length)) + 3;
    return rows.map(([h, u]) => h.padEnd(width) + u.split('\n').join('\n' + ' '.repeat(width))).join('\n');
  }
}

/** Typed accessors over ParsedFlags.values, so commands read `f.bool('all')`. */
export class Flags {
  readonly changed: Set<string>;
  readonly #values: Record<string, FlagValue>;
  constructor(parsed: ParsedFlags) {
    this.#values = parsed.values;
    this.changed = parsed.changed;
  }
  bool(name: string): boolean { return this.#values[name] === true; }
  string(name: string): string { const v = this.#values[name]; return typeof v === 'string' ? v : v === undefined ? '' : String(v); }
  number(name: string): number { return Number(this.#values[name] ?? 0); }
  array(name: string): string[] { const v = this.#values[name]; return Array.isArray(v) ? v : []; }
  has(name: string): boolean { return this.changed.has(name); }
}
