/**
 * Human units as docker prints and parses them (github.com/docker/go-units size.go and
 * duration.go; Go's time.ParseDuration and Duration.String). A leaf: the CLI's tables, the
 * daemon's views and log options, and the Compose loader all read and write these forms, and
 * must agree to the byte.
 */

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's %.<precision>g: shortest form, trailing zeros dropped, exponent past the precision. */
function goG(n: number, precision: number): string {
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(n.toPrecision(precision)))));
  if (exp < -4 || exp >= precision) {
    return n.toExponential(precision - 1).replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(Number(n.toPrecision(precision)));
}

function custom(size: number, base: number, abbrs: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return `${goG(size, precision)}${abbrs[i]}`;
}

/** Decimal size with four significant digits: "1.235MB", "4.1kB", "0B" (units.HumanSize). */
export function humanSize(bytes: number): string {
  return custom(bytes, 1000, DECIMAL_ABBRS, 4);
}

/** humanSize with another precision (units.HumanSizeWithPrecision). */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  return custom(bytes, 1000, DECIMAL_ABBRS, precision);
}

/** Binary size: "1.5MiB", "512KiB" (units.BytesSize). */
export function bytesSize(bytes: number): string {
  return custom(bytes, 1024, BINARY_ABBRS, 4);
}

const DECIMAL_MAP: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BINARY_MAP: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

function parseSizeWith(sizeStr: string, map: Record<string, number>): number {
  let num: string;
  let sfx: string;
  const sp = sizeStr.indexOf(' ');
  if (sp >= 0) {
    num = sizeStr.slice(0, sp);
    sfx = sizeStr.slice(sp + 1);
  } else {
    let sep = -1;
    for (let i = sizeStr.length - 1; i >= 0; i--) {
      if (/[0-9.]/.test(sizeStr[i]!)) {
        sep = i;
        break;
      }
    }
    if (sep < 0) throw new Error(`invalid size: '${sizeStr}'`);
    num = sizeStr.slice(0, sep + 1);
    sfx = sizeStr.slice(sep + 1);
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  const size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${sizeStr}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const lower = sfx.toLowerCase();
  const badSuffix = (): never => {
    throw new Error(`invalid suffix: '${lower}'`);
  };
  if (sfx.length > 3) badSuffix();
  if (lower[0] === 'b') {
    if (lower.length > 1) badSuffix();
    return Math.trunc(size);
  }
  const mul = map[lower[0]!];
  if (mul === undefined) badSuffix();
  if ((lower.length === 2 && lower[1] !== 'b') || (lower.length === 3 && lower.slice(1) !== 'ib')) badSuffix();
  return Math.trunc(size * mul!);
}

/** Binary units, as `--memory`/`--shm-size` take them: "512k", "10m", "1g", "1.5GiB" (units.RAMInBytes). */
export function ramInBytes(size: string): number {
  return parseSizeWith(size, BINARY_MAP);
}

/** Decimal units: "10m" is 10,000,000 (units.FromHumanSize, used by json-file max-size). */
export function fromHumanSize(size: string): number {
  return parseSizeWith(size, DECIMAL_MAP);
}

/** "Less than a second", "About a minute", "5 minutes", "About an hour", "3 days" (units.HumanDuration). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** "5 minutes ago". */
export function ago(date: Date | number, now: number = Date.now()): string {
  return `${humanDuration(now - (typeof date === 'number' ? date : date.getTime()))} ago`;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Go's time.ParseDuration, in seconds: "10s", "1m30s", "1.5h", "-2m", "0". */
export function parseDuration(s: string): number {
  const invalid = (): never => {
    throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  };
  let rest = s;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') invalid();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.') invalid();
    const value = Number(`${m[1] || '0'}.${m[2] ?? ''}`.replace(/\.$/, ''));
    rest = rest.slice(m[0].length);
    const u = /^[^0-9.]+/.exec(rest);
    if (!u) throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    const unit = DURATION_UNITS[u[0]];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u[0])} in duration ${JSON.stringify(s)}`);
    total += value * unit;
    rest = rest.slice(u[0].length);
  }
  return sign * total;
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
