/**
 * The values of instructions as docker's legacy builder reads and writes them: EXPOSE port specs,
 * HEALTHCHECK options (Go durations) and the Go `%q`/`String()` forms its history entries carry,
 * the `until=` of builder prune. Pure.
 */
import { InvalidArgument } from '../errdefs/index.js';
import type { Healthcheck } from '../images/index.js';
import type { Instruction } from './parser.js';

/** "80" -> "80/tcp", "8000-8001/udp" -> both ports. */
export function expandPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new InvalidArgument(`invalid containerPort: ${spec}`);
  const lo = Number(m[1]);
  const hi = m[2] !== undefined ? Number(m[2]) : lo;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (hi < lo || hi > 65535) throw new InvalidArgument(`invalid port range: ${spec}`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

/** until=: a Go duration back from now, or a timestamp (unix seconds or RFC 3339). */
export function untilTime(v: string, now = Date.now()): number {
  if (/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(v)) return now - goDuration(v) / 1e6;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid filter until=${v}: use a duration such as 24h or a timestamp`);
  return t;
}

/** Go duration ("30s", "1m30s", "500ms") -> nanoseconds. */
export function goDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed = m.index + m[0].length;
  }
  if (consumed !== text.length || text === '') throw new InvalidArgument(`time: invalid duration "${text}"`);
  return Math.round(total);
}

export function healthcheck(ins: Instruction, shell: string[]): Healthcheck {
  const rest = ins.rest.trim();
  if (/^NONE$/i.test(rest)) return { Test: ['NONE'] };
  const hc: Healthcheck = { Test: [] };
  for (const f of ins.flags) {
    const v = f.value ?? '';
    if (f.name === 'retries') {
      if (!/^\d+$/.test(v)) throw new InvalidArgument(`invalid --retries value "${v}": use a whole number`);
      hc.Retries = Number(v);
      continue;
    }
    const ns = goDuration(v);
    if (ns !== 0 && ns < 1e6) throw new InvalidArgument(`Interval "${f.name}" cannot be less than 1ms`);
    if (f.name === 'interval') hc.Interval = ns;
    else if (f.name === 'timeout') hc.Timeout = ns;
    else if (f.name === 'start-period') hc.StartPeriod = ns;
    else if (f.name === 'start-interval') hc.StartInterval = ns;
  }
  const cmd = rest.replace(/^CMD\s*/i, '');
  hc.Test = ins.json ? ['CMD', ...ins.json] : ['CMD-SHELL', cmd];
  void shell;
  return hc;
}

/**
 * Go's `%q` of a *container.HealthConfig, as docker's dispatchHealthcheck writes it: durations by
 * their String(), Retries as a quoted rune (`'\x03'`). Docker 25+ (API 1.44+) has StartInterval;
 * dockerd 20.10 printed one duration fewer.
 */
export function hcText(hc: Healthcheck): string {
  const d = (ns: number | undefined): string => `"${goDurationString(ns ?? 0)}"`;
  return `&{${goQuote(hc.Test)} ${d(hc.Interval)} ${d(hc.Timeout)} ${d(hc.StartPeriod)} ${d(hc.StartInterval)} ${goQuoteRune(hc.Retries ?? 0)}}`;
}

/** Go's time.Duration.String(): "0s", "1.5s", "500ms", "1m30s", "1h0m0s". */
export function goDurationString(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  const trim = (v: string): string => v.replace(/\.?0+$/, '');
  const frac = (v: number, digits: number): string => trim((v / 10 ** digits).toFixed(digits));
  let out: string;
  if (u < 1e9) {
    out = u < 1e3 ? `${u}ns` : u < 1e6 ? `${frac(u, 3)}µs` : `${frac(u, 6)}ms`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const secs = `${frac(u, 9)}s`;
    out = h > 0 ? `${h}h${m}m${secs}` : m > 0 ? `${m}m${secs}` : secs;
  }
  return neg ? `-${out}` : out;
}

/** Go's %q of an int: strconv.QuoteRune ('a', '\x02', '\n', '\u0080'). */
export function goQuoteRune(r: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 39: "\\'", 92: '\\\\' };
  if (named[r] !== undefined) return `'${named[r]}'`;
  if (r < 0x20 || r === 0x7f) return `'\\x${r.toString(16).padStart(2, '0')}'`;
  if (r < 0x7f || (r >= 0xa0 && r <= 0x10ffff && !(r >= 0xd800 && r < 0xe000))) return `'${String.fromCodePoint(r)}'`;
  return `'\\u${(r >= 0x80 && r < 0xa0 ? r : 0xfffd).toString(16).padStart(4, '0')}'`;
}

/** Go's %q of a []string: ["a" "b c"]. */
export function goQuote(argv: readonly string[]): string {
  return `[${argv.map((a) => JSON.stringify(a)).join(' ')}]`;
}
