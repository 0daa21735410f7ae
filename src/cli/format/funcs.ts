/**
 * Template functions: Go's builtins (https://pkg.go.dev/text/template#hdr-Functions) and the ones
 * docker's CLI adds (docker/cli templates/templates.go: json, split, join, title, lower, upper,
 * pad, truncate), plus the header variants docker uses so a `table` header keeps column names.
 * `and`/`or` short-circuit and are evaluated by the executor, not here.
 */

import { goQuote, sprint, sprintf, sprintln } from './printf.js';
import { goTypeName, isStructLike, truth } from './values.js';

export type TemplateFunc = (...args: unknown[]) => unknown;

interface FuncDef {
  fn: TemplateFunc;
  /** Exact argument count, or [min] for variadic. */
  arity: number | [number];
}

/** A function's own failure; the executor adds `error calling <name>: `. */
export class FuncError extends Error {}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`wrong type for value; expected string; got ${goTypeName(v)}`);
  return v;
}

function int(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`wrong type for value; expected int; got ${goTypeName(v)}`);
  return v;
}

const CONTEXT_ROW = Symbol('docker formatter context');

/**
 * Marks a list row as a docker CLI formatter context (ContainerContext, imageContext, …). Those
 * marshal themselves (marshalMap) as a Go map: keys in sorted order, and json.Marshal's HTML
 * escaping (`<none>` is `\u003cnone\u003e`), which the encoder's SetEscapeHTML(false) does not undo.
 */
export function contextRow<T extends object>(row: T): T {
  Object.defineProperty(row, CONTEXT_ROW, { value: true, enumerable: false });
  return row;
}

/** encoding/json with SetEscapeHTML(false), trailing newline trimmed (docker's formatJSON). */
export function goJson(v: unknown): string {
  if (typeof v === 'object' && v !== null && (v as { [CONTEXT_ROW]?: boolean })[CONTEXT_ROW]) {
    const sorted = Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return goJson(sorted).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  }
  const s = JSON.stringify(v === undefined ? null : v, (_k, x: unknown) => (x instanceof Map ? Object.fromEntries(x) : x));
  return (s ?? 'null').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** strings.Title: upper-cases the first letter of each word (letters, digits, _ join words). */
function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

function join(elems: unknown, sep: unknown): string {
  const s = str(sep);
  if (elems === null || elems === undefined) return '';
  if (Array.isArray(elems)) return elems.map((e) => sprint([e])).join(s);
  if (typeof elems === 'object') {
    const values = elems instanceof Map ? [...elems.values()] : Object.values(elems);
    return values.map((e) => sprint([e])).sort().join(s);
  }
  throw new FuncError(`expected slice, got ${goTypeName(elems)}`);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const key of keys) {
    if (v === null || v === undefined) throw new FuncError('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      const n = int(key);
      if (n < 0 || n >= v.length) throw new FuncError(`index out of range: ${n}`);
      v = typeof v === 'string' ? Buffer.from(v)[n] : v[n];
    } else if (v instanceof Map) {
      v = v.has(key) ? v.get(key) : '';
    } else if (typeof v === 'object') {
      const k = str(key);
      // A missing key gives the map's zero value; docker's maps (labels, options) hold strings.
      v = Object.prototype.hasOwnProperty.call(v, k) ? (v as Record<string, unknown>)[k] : '';
    } else {
      throw new FuncError(`can't index item of type ${goTypeName(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (typeof item !== 'string' && !Array.isArray(item)) throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
  const [a = 0, b = item.length] = idx.map(int);
  if (a < 0 || b > item.length || a > b) throw new FuncError(`index out of range: ${a}:${b}`);
  return item.slice(a, b);
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  if (v !== null && typeof v === 'object' && !isStructLike(v)) return Object.keys(v).length;
  throw new FuncError(`len of type ${goTypeName(v)}`);
}

/** Go's eq: basic kinds only; arg1 == any of the rest. */
function comparable(v: unknown): v is string | number | boolean | null | undefined {
  return v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v);
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new FuncError('missing argument for comparison');
  if (!comparable(a)) throw new FuncError('invalid type for comparison');
  return rest.some((b) => {
    if (!comparable(b)) throw new FuncError('invalid type for comparison');
    if (a !== null && a !== undefined && b !== null && b !== undefined && typeof a !== typeof b) throw new FuncError('incompatible types for comparison');
    return a === b || ((a === null || a === undefined) && (b === null || b === undefined));
  });
}

function lt(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) {
    throw new FuncError(typeof a === typeof b ? 'invalid type for comparison' : 'incompatible types for comparison');
  }
  return (a as number) < (b as number);
}

function ne(a: unknown, b: unknown): boolean {
  return !eq(a, b);
}

const identity = (v: unknown): unknown => v;

export const BUILTINS: Record<string, FuncDef> = {
  // Go's builtins (and/or are evaluated lazily by the executor; listed for the parser).
  and: { fn: () => undefined, arity: [1] },
  or: { fn: () => undefined, arity: [1] },
  not: { fn: (v) => !truth(v), arity: 1 },
  len: { fn: length, arity: 1 },
  index: { fn: index, arity: [1] },
  slice: { fn: slice, arity: [1] },
  print: { fn: (...a) => sprint(a), arity: [0] },
  printf: { fn: (f, ...a) => sprintf(str(f), a), arity: [1] },
  println: { fn: (...a) => sprintln(a), arity: [0] },
  eq: { fn: eq, arity: [1] },
  ne: { fn: ne, arity: 2 },
  lt: { fn: lt, arity: 2 },
  le: { fn: (a, b) => lt(a, b) || eq(a, b), arity: 2 },
  gt: { fn: (a, b) => !(lt(a, b) || eq(a, b)), arity: 2 },
  ge: { fn: (a, b) => !lt(a, b), arity: 2 },
  html: { fn: (...a) => sprint(a).replace(/[&<>"'\0]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '\0': '\uFFFD' })[c]!), arity: [0] },
  js: { fn: (...a) => goQuote(sprint(a)).slice(1, -1).replace(/</g, '\\u003C').replace(/>/g, '\\u003E').replace(/'/g, "\\'"), arity: [0] },
  urlquery: { fn: (...a) => encodeURIComponent(sprint(a)).replace(/%20/g, '+'), arity: [0] },
  call: {
    fn: (f, ...a) => {
      if (typeof f !== 'function') throw new FuncError(`non-function of type ${goTypeName(f)}`);
      return (f as TemplateFunc)(...a);
    },
    arity: [1],
  },
  // docker's additions
  json: { fn: goJson, arity: 1 },
  split: { fn: (s, sep) => str(s).split(str(sep)), arity: 2 },
  join: { fn: join, arity: 2 },
  title: { fn: (s) => title(str(s)), arity: 1 },
  lower: { fn: (s) => str(s).toLowerCase(), arity: 1 },
  upper: { fn: (s) => str(s).toUpperCase(), arity: 1 },
  pad: { fn: (s, a, b) => (str(s) === '' ? '' : ' '.repeat(int(a)) + str(s) + ' '.repeat(int(b))), arity: 3 },
  truncate: { fn: (s, n) => (str(s).length < int(n) ? str(s) : str(s).slice(0, int(n))), arity: 2 },
};

/** docker's HeaderFunctions: a table header shows column names, not transformed ones. */
export const HEADER_FUNCS: Record<string, FuncDef> = {
  ...BUILTINS,
  json: { fn: identity, arity: 1 },
  split: { fn: identity, arity: 2 },
  join: { fn: identity, arity: 2 },
  title: { fn: identity, arity: 1 },
  lower: { fn: identity, arity: 1 },
  upper: { fn: identity, arity: 1 },
  truncate: { fn: identity, arity: 2 },
};

export type FuncTable = Record<string, FuncDef>;
