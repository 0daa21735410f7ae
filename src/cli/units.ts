/**
 * docker's go-units wording, used by tables and messages: sizes ("4.26MB") and durations
 * ("About a minute"). Local until cli/format/ offers the same; see the report.
 */

/** go-units HumanSizeWithPrecision: decimal units, Go's %.<precision>g. */
export function humanSize(bytes: number, precision = 4): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(precision))}${units[i]}`;
}

/** go-units HumanDuration. */
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

/**
 * docker's timestamp/duration arguments for --since/--until/filters: RFC3339 (with or without
 * zone/fraction), a date, unix seconds (with fraction), or a Go duration relative to now ("10m").
 * Returns unix seconds as the API's string form ("1700000000.000000000").
 */
export function parseTimestamp(value: string, now: number = Date.now()): string {
  if (value === '') return '';
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  const rel = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.exec(value);
  if (rel) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    let ms = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (unit[m[2] ?? ''] ?? 0);
    return secondsString(now - ms);
  }
  let t = Date.parse(value);
  if (Number.isNaN(t) && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) t = Date.parse(`${value}Z`);
  if (Number.isNaN(t)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  // Without a zone, docker reads the time as local time; Date.parse already does for date-time forms.
  return secondsString(t);
}

function secondsString(ms: number): string {
  const s = Math.floor(ms / 1000);
  const ns = Math.round((ms - s * 1000) * 1e6);
  return `${s}.${String(ns).padStart(9, '0')}`;
}
