/**
 * A JSON-schema checker for the keywords the Compose schema uses (type, properties,
 * patternProperties, additionalProperties, required, enum, items, uniqueItems, oneOf, $ref,
 * pattern, minimum, maximum), answering with the first error in Compose's words
 * (`services.web Additional property foo is not allowed`, `services.web.ports.0 must be a ...`).
 */

type Schema = Record<string, unknown>;

export interface SchemaError {
  /** Dotted path of the offending value: `services.web.ports.0`, or `(root)`. */
  path: string;
  message: string;
}

export function validateAgainst(root: Schema, value: unknown): SchemaError | null {
  return check(root, root, value, []);
}

export function formatSchemaError(e: SchemaError): string {
  return `${e.path} ${e.message}`;
}

function pathText(path: string[]): string {
  return path.length === 0 ? '(root)' : path.join('.');
}

/** The schema's patterns, compiled once (validation walks them for every object of every file). */
const compiledPatterns = new Map<string, RegExp>();
function patternOf(source: string): RegExp {
  let re = compiledPatterns.get(source);
  if (!re) compiledPatterns.set(source, (re = new RegExp(source, 'u')));
  return re;
}

function resolve(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 20 && typeof cur.$ref === 'string'; i++) {
    const ref = cur.$ref as string;
    const parts = ref.replace(/^#\//, '').split('/');
    let node: unknown = root;
    for (const p of parts) node = (node as Schema)[p];
    cur = { ...(node as Schema), ...Object.fromEntries(Object.entries(cur).filter(([k]) => k !== '$ref')) };
  }
  return cur;
}

function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v; // string, boolean, object
}

function typeMatches(t: string, v: unknown): boolean {
  const actual = typeOf(v);
  if (t === actual) return true;
  if (t === 'number' && actual === 'integer') return true;
  return false;
}

function typesOf(s: Schema): string[] | null {
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type as string[];
  return null;
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function typeError(types: string[], path: string[]): SchemaError {
  return { path: pathText(path), message: `must be ${types.map(article).join(' or ')}` };
}

function check(root: Schema, schema0: Schema, v: unknown, path: string[]): SchemaError | null {
  const s = resolve(root, schema0);
  if (s.oneOf) return checkOneOf(root, s.oneOf as Schema[], v, path, s);
  const types = typesOf(s);
  if (types && !types.some((t) => typeMatches(t, v))) return typeError(types, path);
  if (Array.isArray(s.enum) && !(s.enum as unknown[]).some((e) => e === v)) {
    return { path: pathText(path), message: `must be one of the following: ${(s.enum as unknown[]).map((e) => JSON.stringify(e)).join(', ')}` };
  }
  if (typeof v === 'string' && typeof s.pattern === 'string' && !patternOf(s.pattern).test(v)) {
    return { path: pathText(path), message: `Does not match pattern '${s.pattern}'` };
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) return { path: pathText(path), message: `must be greater than or equal to ${s.minimum}` };
    if (typeof s.maximum === 'number' && v > s.maximum) return { path: pathText(path), message: `must be less than or equal to ${s.maximum}` };
  }
  if (Array.isArray(v)) {
    if (s.items && typeof s.items === 'object') {
      for (let i = 0; i < v.length; i++) {
        const e = check(root, s.items as Schema, v[i], [...path, String(i)]);
        if (e) return e;
      }
    }
    if (s.uniqueItems === true) {
      const seen = new Map<string, number>();
      for (let i = 0; i < v.length; i++) {
        const key = JSON.stringify(v[i]);
        const j = seen.get(key);
        if (j !== undefined) return { path: pathText(path), message: `array items[${j},${i}] must be unique` };
        seen.set(key, i);
      }
    }
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const obj = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>).map(([p, sub]) => [patternOf(p), sub] as const);
    for (const req of (s.required ?? []) as string[]) {
      if (!(req in obj)) return { path: pathText(path), message: `${req} is required` };
    }
    for (const [k, sub] of Object.entries(obj)) {
      let matched = false;
      if (Object.hasOwn(props, k)) {
        matched = true;
        const e = check(root, props[k]!, sub, [...path, k]);
        if (e) return e;
      }
      for (const [re, ps] of patterns) {
        if (!re.test(k)) continue;
        matched = true;
        const e = check(root, ps, sub, [...path, k]);
        if (e) return e;
      }
      if (!matched) {
        if (s.additionalProperties === false) return { path: pathText(path), message: `Additional property ${k} is not allowed` };
        if (s.additionalProperties && typeof s.additionalProperties === 'object') {
          const e = check(root, s.additionalProperties as Schema, sub, [...path, k]);
          if (e) return e;
        }
      }
    }
  }
  return null;
}

function checkOneOf(root: Schema, branches: Schema[], v: unknown, path: string[], outer: Schema): SchemaError | null {
  const errors: Array<SchemaError | null> = [];
  for (const b of branches) {
    const e = check(root, { ...b }, v, path);
    if (!e) {
      // The rest of the outer schema (beside oneOf) still applies.
      const rest = Object.fromEntries(Object.entries(outer).filter(([k]) => k !== 'oneOf'));
      return Object.keys(rest).length > 0 ? check(root, rest, v, path) : null;
    }
    errors.push(e);
  }
  // Report the error of the branch whose type fits the value (the most specific one), as
  // compose-go does; when no branch's type fits, name the accepted types.
  const accepted: string[] = [];
  for (let i = 0; i < branches.length; i++) {
    const b = resolve(root, branches[i]!);
    const types = typesOf(b);
    if (types === null || types.some((t) => typeMatches(t, v))) {
      const e = errors[i];
      if (e && !(types === null && e.path === pathText(path) && e.message.startsWith('must be '))) return e;
    }
    if (types) accepted.push(...types);
  }
  return accepted.length > 0 ? typeError([...new Set(accepted)], path) : errors[0] ?? null;
}
