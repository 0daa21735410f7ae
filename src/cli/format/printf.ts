/** Go's fmt.Sprintf for the verbs templates use: %v %s %d %q %f %e %g %x %X %t %c %%, width, precision, flags. */

import { formatNumber, goTypeName, printValue } from './values.js';

function pad(s: string, width: number | undefined, left: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (left) return s + ' '.repeat(width - s.length);
  if (zero) {
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(width - s.length) + s.slice(sign.length);
  }
  return ' '.repeat(width - s.length) + s;
}

function bad(verb: string, arg: unknown): string {
  return `%!${verb}(${goTypeName(arg)}=${printValue(arg)})`;
}

/** Go's strconv.Quote, close enough: JSON escaping without escaping non-ASCII. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function formatOne(verb: string, arg: unknown, flags: string, width: number | undefined, prec: number | undefined): string {
  const left = flags.includes('-');
  const zero = flags.includes('0') && !left;
  const plus = flags.includes('+');
  const withSign = (s: string, n: number): string => (plus && n >= 0 ? `+${s}` : flags.includes(' ') && n >= 0 ? ` ${s}` : s);
  let s: string;
  switch (verb) {
    case 'v':
      s = typeof arg === 'string' ? arg : typeof arg === 'number' ? withSign(formatNumber(arg), arg) : printValue(arg === undefined ? null : arg);
      if (flags.includes('#') && typeof arg === 'string') s = goQuote(arg);
      break;
    case 's':
      if (typeof arg === 'number' || typeof arg === 'boolean') return pad(bad(verb, arg), width, left, false);
      s = printValue(arg === undefined ? null : arg);
      if (prec !== undefined) s = [...s].slice(0, prec).join('');
      break;
    case 'q':
      if (typeof arg === 'number' && Number.isInteger(arg)) s = `'${String.fromCodePoint(arg)}'`;
      else if (typeof arg !== 'string') return bad(verb, arg);
      else s = flags.includes('#') && !arg.includes('`') ? `\`${arg}\`` : goQuote(arg);
      break;
    case 'd':
      if (typeof arg === 'boolean' || typeof arg === 'string' || (typeof arg === 'number' && !Number.isInteger(arg))) return bad(verb, arg);
      if (typeof arg !== 'number') return bad(verb, arg);
      s = withSign(String(arg), arg);
      break;
    case 'x':
    case 'X':
    case 'o':
    case 'b': {
      const radix = verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
      if (typeof arg === 'number' && Number.isInteger(arg)) s = arg.toString(radix);
      else if (typeof arg === 'string' && radix === 16) s = Buffer.from(arg).toString('hex');
      else return bad(verb, arg);
      if (verb === 'X') s = s.toUpperCase();
      if (flags.includes('#') && radix === 16) s = (verb === 'X' ? '0X' : '0x') + s;
      break;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (typeof arg !== 'number') return bad(verb, arg);
      const v = verb.toLowerCase();
      if (v === 'f') s = arg.toFixed(prec ?? 6);
      else if (v === 'e') s = arg.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      else s = prec === undefined ? formatNumber(arg) : String(Number(arg.toPrecision(prec)));
      if (verb === 'E' || verb === 'G') s = s.toUpperCase();
      s = withSign(s, arg);
      break;
    }
    case 't':
      if (typeof arg !== 'boolean') return bad(verb, arg);
      s = String(arg);
      break;
    case 'c':
      if (typeof arg !== 'number') return bad(verb, arg);
      s = String.fromCodePoint(arg);
      break;
    default:
      return `%!${verb}(${goTypeName(arg)}=${printValue(arg)})`;
  }
  return pad(s, width, left, zero && typeof arg === 'number');
}

export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    const m = /^%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])?/.exec(format.slice(pct))!;
    i = pct + m[0].length;
    const verb = m[4];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      continue;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const width = m[2] === undefined ? undefined : Number(m[2]);
    const prec = m[3] === undefined ? undefined : Number(m[3] || '0');
    out += formatOne(verb, args[argi++], m[1] ?? '', width, prec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args.slice(argi).map((a) => `${goTypeName(a)}=${printValue(a)}`).join(', ')})`;
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, k) => {
    if (k > 0 && typeof a !== 'string' && typeof args[k - 1] !== 'string') out += ' ';
    out += printValue(a === undefined ? null : a);
  });
  return out;
}

/** fmt.Sprintln: always spaces between operands, and a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map((a) => printValue(a === undefined ? null : a)).join(' ')}\n`;
}
