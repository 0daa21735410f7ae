/**
 * How Go's text/template sees JS values. Plain objects from JSON play two Go roles: a struct
 * (Docker's PascalCase API objects: an unknown field is an error) or a map (labels, options: a
 * missing key prints "<no value>"). A class instance or an object whose keys all start with an
 * upper-case letter is a struct; anything else is a map. A JS `Map` is always a map.
 */

/** What a missing map key evaluates to (prints "<no value>", like Go's invalid reflect.Value). */
export const NO_VALUE: undefined = undefined;

export function isStructLike(v: object): boolean {
  if (v instanceof Map || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== Object.prototype && proto !== null) return true;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => /^[A-Z]/.test(k));
}

/** A Go-ish type name for error messages (`can't evaluate field X in type string`). */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float64';
    case 'boolean':
      return 'bool';
    case 'function':
      return 'func';
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Map) return 'map[string]interface {}';
  const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
  const name = proto?.constructor?.name;
  if (name && name !== 'Object') return name;
  return isStructLike(v as object) ? 'struct' : 'map[string]interface {}';
}

/** Go's template truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === 'number') return !Number.isNaN(v);
  if (typeof v === 'object' && !isStructLike(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's %v for a float64 or int (strconv 'g' shortest, exponent at least two digits). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** fmt.Sprint of one value, the way a template action prints it. */
export function printValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  return sprint(v, true);
}

function sprint(v: unknown, top: boolean): string {
  if (v === undefined) return top ? '<no value>' : '<nil>';
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return formatNumber(v);
    case 'boolean':
      return String(v);
    case 'bigint':
      return v.toString();
    case 'function':
      return '<func>';
  }
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `[${[...v].join(' ')}]`;
  if (Array.isArray(v)) return `[${v.map((e) => sprint(e, false)).join(' ')}]`;
  if (v instanceof Map) {
    const keys = [...v.keys()].map(String).sort();
    return `map[${keys.map((k) => `${k}:${sprint(v.get(k), false)}`).join(' ')}]`;
  }
  const obj = v as Record<string, unknown>;
  if (typeof obj['toString'] === 'function' && obj['toString'] !== Object.prototype.toString) return String(obj);
  if (isStructLike(obj)) return `{${Object.keys(obj).map((k) => sprint(obj[k], false)).join(' ')}}`;
  const keys = Object.keys(obj).sort();
  return `map[${keys.map((k) => `${k}:${sprint(obj[k], false)}`).join(' ')}]`;
}
