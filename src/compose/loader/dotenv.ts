/**
 * `.env` / `env_file` syntax as compose-go's dotenv reads it: `KEY=value`, `KEY: value`,
 * `export KEY=value`, `#` comments (whole lines, or after " #" in an unquoted value),
 * 'single quotes' (literal but for \', may span lines), "double quotes" (may span lines; Go's
 * escapes; interpolated), unquoted values (trimmed; interpolated), and `KEY` alone (inherited:
 * its value comes from the lookup, absent when unset).
 */
import { substitute, TemplateError, type Lookup } from './interpolate.js';

export class DotenvError extends Error {}

const KEY_CHAR = /[\p{L}\p{N}_.\-[\]]/u;

/**
 * Parses `text`; `lookup` resolves `${VAR}` in values and inherited keys (variables defined
 * earlier in the same file are seen first). `raw` (env_file `format: raw`) keeps values as
 * written: no quotes, escapes or interpolation.
 */
export function parseDotenv(text: string, lookup: Lookup, opts: { raw?: boolean; missing?: (name: string) => void } = {}): Map<string, string> {
  const vars = new Map<string, string>();
  const look: Lookup = (k) => (vars.has(k) ? vars.get(k) : lookup(k));
  const missing = opts.missing ?? (() => {});
  const src = text.replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  const skipLine = (): void => {
    while (i < src.length && src[i] !== '\n') i++;
  };
  while (i < src.length) {
    // Leading whitespace and blank lines.
    while (i < src.length && (src[i] === ' ' || src[i] === '\t')) i++;
    if (i >= src.length) break;
    if (src[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (src[i] === '#') {
      skipLine();
      continue;
    }
    if (src.startsWith('export ', i) || src.startsWith('export\t', i)) {
      i += 7;
      while (src[i] === ' ' || src[i] === '\t') i++;
    }
    const keyStart = i;
    while (i < src.length && KEY_CHAR.test(src[i]!)) i++;
    const key = src.slice(keyStart, i);
    while (src[i] === ' ' || src[i] === '\t') i++;
    if (i >= src.length || src[i] === '\n' || src[i] === '#') {
      if (key === '') throw new DotenvError(`line ${line}: unexpected character "${src[i] ?? ''}" in variable name`);
      // An inherited variable: `KEY` alone.
      const v = lookup(key);
      if (v !== undefined) vars.set(key, v);
      skipLine();
      continue;
    }
    if (key === '' || (src[i] !== '=' && src[i] !== ':')) {
      throw new DotenvError(`line ${line}: unexpected character ${JSON.stringify(src[i])} in variable name ${JSON.stringify(src.slice(keyStart).split('\n')[0])}`);
    }
    i++; // = or :
    while (src[i] === ' ' || src[i] === '\t') i++;
    let value: string;
    const q = src[i];
    if (!opts.raw && (q === '"' || q === "'")) {
      let j = i + 1;
      let body = '';
      while (j < src.length && src[j] !== q) {
        if (src[j] === '\\' && j + 1 < src.length) {
          // An escaped quote is the quote; any other escape stays for expandDouble.
          body += src[j + 1] === q ? q : src[j]! + src[j + 1]!;
          j += 2;
          continue;
        }
        body += src[j];
        j++;
      }
      if (j >= src.length) throw new DotenvError(`line ${line}: unterminated quoted value ${src.slice(i).split('\n')[0]}`);
      line += (body.match(/\n/g) ?? []).length;
      // What follows the closing quote is read as the next statement (a comment, usually).
      i = j + 1;
      value = q === "'" ? body : expandDouble(body, look, missing, key, line);
    } else {
      const start = i;
      skipLine();
      let raw = src.slice(start, i);
      if (!opts.raw) {
        const hash = raw.indexOf(' #');
        if (hash >= 0) raw = raw.slice(0, hash);
        raw = raw.trimEnd();
        value = interp(raw, look, missing, key, line);
      } else {
        value = raw.trim();
      }
    }
    vars.set(key, value);
  }
  return vars;
}

function interp(s: string, look: Lookup, missing: (name: string) => void, key: string, line: number): string {
  try {
    return substitute(s, look, missing);
  } catch (err) {
    if (err instanceof TemplateError) throw new DotenvError(`line ${line}: ${key}: ${err.message}`);
    throw err;
  }
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\', $: '$$' };

/**
 * Escapes and interpolation of a double-quoted value: Go's \a \b \f \n \r \t \v \" \\ and
 * octal \0NNN; `\$` is a literal dollar; any other backslash stays as written.
 */
function expandDouble(body: string, look: Lookup, missing: (name: string) => void, key: string, line: number): string {
  const out = body.replace(/\\(?:[abcfnrtv$"\\]|0[0-7]{0,3})/g, (m) => {
    if (m.startsWith('\\0')) return String.fromCharCode(parseInt(m.slice(2) || '0', 8));
    return ESCAPES[m[1]!] ?? m;
  });
  return interp(out, look, missing, key, line);
}
