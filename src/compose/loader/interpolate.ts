/**
 * Compose variable substitution (compose-spec "Interpolation"): `$VAR`, `${VAR}`, `${VAR:-d}`,
 * `${VAR-d}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR:+r}`, `${VAR+r}`, `$$`, defaults and
 * replacements nested. Keys are never interpolated, only scalar string values.
 */
import { InvalidArgument } from '../../errdefs/index.js';
import { Override, Reset } from './markers.js';

export type Lookup = (name: string) => string | undefined;

/** Raised while substituting one string; the caller adds the key path. */
export class TemplateError extends Error {}

/** A `$` that starts no valid substitution (compose-go's InvalidTemplateError). */
export class InvalidTemplate extends TemplateError {
  constructor(readonly template: string) {
    super(`Invalid template: ${JSON.stringify(template)}`);
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/**
 * Substitutes `template`. `missing(name)` is called for each variable used unset without a
 * default (compose warns and substitutes "").
 */
export function substitute(template: string, lookup: Lookup, missing: (name: string) => void): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < template.length && NAME_CHAR.test(template[j]!)) j++;
      out += value(template.slice(i + 1, j), lookup, missing);
      i = j;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(template, i + 2);
      if (end < 0) throw new InvalidTemplate(template);
      out += braced(template.slice(i + 2, end), template, lookup, missing);
      i = end + 1;
      continue;
    }
    throw new InvalidTemplate(template);
  }
  return out;
}

function value(name: string, lookup: Lookup, missing: (name: string) => void): string {
  const v = lookup(name);
  if (v === undefined) {
    missing(name);
    return '';
  }
  return v;
}

/** Index of the `}` closing a `${` whose body starts at `from`, counting nested `${`. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
      continue;
    }
    if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
      continue;
    }
    if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(body: string, whole: string, lookup: Lookup, missing: (name: string) => void): string {
  let j = 0;
  if (j < body.length && NAME_START.test(body[j]!)) {
    while (j < body.length && NAME_CHAR.test(body[j]!)) j++;
  }
  const name = body.slice(0, j);
  if (name === '') throw new InvalidTemplate(whole);
  const rest = body.slice(j);
  if (rest === '') return value(name, lookup, missing);
  const m = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest);
  if (!m) throw new InvalidTemplate(whole);
  const op = m[1]!;
  const arg = rest.slice(op.length);
  const v = lookup(name);
  const sub = (): string => substitute(arg, lookup, missing);
  switch (op) {
    case ':-':
      return v === undefined || v === '' ? sub() : v;
    case '-':
      return v === undefined ? sub() : v;
    case ':?':
      if (v === undefined || v === '') throw new TemplateError(`required variable ${name} is missing a value${arg ? `: ${sub()}` : ''}`);
      return v;
    case '?':
      if (v === undefined) throw new TemplateError(`required variable ${name} is missing a value${arg ? `: ${sub()}` : ''}`);
      return v;
    case ':+':
      return v === undefined || v === '' ? '' : sub();
    default: // '+'
      return v === undefined ? '' : sub();
  }
}

/**
 * Interpolates every string value of a parsed YAML tree (keys untouched). Errors name the
 * file and the key path: `error while interpolating services.web.image: ...`.
 */
export function interpolateTree(tree: unknown, lookup: Lookup, missing: (name: string) => void, file: string): unknown {
  const walk = (v: unknown, path: string[]): unknown => {
    if (typeof v === 'string') {
      try {
        return substitute(v, lookup, missing);
      } catch (err) {
        const at = path.join('.') || '(root)';
        if (err instanceof InvalidTemplate) {
          // compose-go's wording, with the file named.
          throw new InvalidArgument(`${file}: invalid interpolation format for ${at}.\nYou may need to escape any $ with another $.\n${v}`);
        }
        if (err instanceof TemplateError) throw new InvalidArgument(`${file}: error while interpolating ${at}: ${err.message}`);
        throw err;
      }
    }
    if (v instanceof Reset) return v;
    if (v instanceof Override) return new Override(walk(v.value, path));
    if (Array.isArray(v)) return v.map((e, i) => walk(e, [...path, String(i)]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v)) out[k] = walk(e, [...path, k]);
      return out;
    }
    return v;
  };
  return walk(tree, []);
}
