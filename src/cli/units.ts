/**
 * docker's time arguments (--since/--until, filters): what cli/format's units do not cover.
 */
import { parseDuration } from './format/index.js';

/**
 * docker's timestamp/duration arguments for --since/--until/filters: RFC3339 (with or without
 * zone/fraction), a date, unix seconds (with fraction), or a Go duration relative to now ("10m").
 * Returns unix seconds as the API's string form ("1700000000.000000000").
 */
export function parseTimestamp(value: string, now: number = Date.now()): string {
  if (value === '') return '';
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  if (/^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(value)) return secondsString(now - parseDuration(value) * 1000);
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

