/**
 * The small value syntaxes of Compose files: Go durations (`1m30s`), Docker byte sizes
 * (`512m`, `1g`, as docker/go-units RAMInBytes), and the shell-word split compose applies to
 * string `command`/`entrypoint` (mattn/go-shellwords: quotes and backslashes, no expansion).
 */

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration string (or a number of seconds) in nanoseconds; null when not a duration. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1e9);
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  const neg = s.startsWith('-');
  const body = neg || s.startsWith('+') ? s.slice(1) : s;
  if (body === '') return null;
  re.lastIndex = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) return null;
    total += parseFloat(m[1]!) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return Math.round(neg ? -total : total);
}

/** Go's time.Duration.String() of a number of nanoseconds ("1m30s", "500ms", "0s"). */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    out = n < 1e3 ? `${n}ns` : n < 1e6 ? `${trim(n / 1e3)}µs` : `${trim(n / 1e6)}ms`;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const secs = trim(n / 1e9);
    out = h > 0 ? `${h}h${m}m${secs}s` : m > 0 ? `${m}m${secs}s` : `${secs}s`;
  }
  return neg ? `-${out}` : out;
}

function trim(x: number): string {
  return String(parseFloat(x.toFixed(9)));
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Bytes of a Docker size (`512m`, `1g`, `1.5gb`, `100`); null when not a size. */
export function parseBytes(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(v);
  if (!m) return null;
  const unit = m[2]!.toLowerCase();
  return Math.floor(parseFloat(m[1]!) * SIZE_UNITS[unit]!);
}

/** Splits a command string as compose does (go-shellwords without env expansion). */
export function shellSplit(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (quote) throw new Error(`invalid command line string: unterminated ${quote === '"' ? 'double' : 'single'} quote in ${JSON.stringify(s)}`);
  if (inWord) words.push(cur);
  return words;
}
