/**
 * The `filters` of GET /images/json and POST /images/prune, with Docker's semantics and errors
 * (moby daemon/images/image_list.go, image_prune.go).
 */
import type { Filters } from '../engine/contract.js';
import { InvalidArgument } from '../errdefs/index.js';
import { goDuration } from './changes.js';

/** Refuses keys outside `allowed`, as Docker does ("invalid filter 'x'"). */
export function checkFilterKeys(filters: Filters, allowed: readonly string[]): void {
  for (const key of Object.keys(filters)) {
    if (!allowed.includes(key)) throw new InvalidArgument(`invalid filter '${key}'`);
  }
}

/** dangling=true|false|1|0; null when absent. Conflicting values are an error. */
export function danglingFilter(filters: Filters): boolean | null {
  const values = filters.dangling ?? [];
  if (values.length === 0) return null;
  const parsed = new Set(values.map((v) => {
    const lower = v.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    throw new InvalidArgument(`invalid filter 'dangling=${v}'`);
  }));
  if (parsed.size > 1) throw new InvalidArgument('invalid filter \'dangling\': true and false given together');
  return [...parsed][0] as boolean;
}

/** label=key / label=key=value (all must match); `negate` for prune's label!=. */
export function labelsMatch(labels: Record<string, string> | undefined, wanted: readonly string[], negate = false): boolean {
  const have = labels ?? {};
  const hit = (w: string): boolean => {
    const eq = w.indexOf('=');
    if (eq < 0) return Object.hasOwn(have, w);
    return have[w.slice(0, eq)] === w.slice(eq + 1);
  };
  // label: every one must match; label!: none may match.
  return negate ? !wanted.some(hit) : wanted.every(hit);
}

/**
 * A timestamp filter value in milliseconds: RFC 3339 date/time, Unix seconds (fractions
 * allowed), or a Go duration counted back from `now` ("10m", "24h"), like Docker's
 * GetTimestamp.
 */
export function filterTime(value: string, now: Date, key: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const d = goDuration(value);
  if (d !== null) return now.getTime() - d / 1e6;
  const ms = Date.parse(value);
  if (!Number.isNaN(ms)) return ms;
  throw new InvalidArgument(`invalid filter '${key}=${value}': not a timestamp, Unix time or duration`);
}

/** Go's path.Match as a RegExp: `*` and `?` stop at '/', `[...]` classes with `^` negation. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i] as string);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new InvalidArgument(`invalid filter 'reference=${pattern}': syntax error in pattern`);
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      re += `[${negated ? '^/' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Docker's FamiliarMatch: the pattern against "name:tag" (or "name@digest"), then against the
 * bare name, so `busybox` matches "busybox:latest".
 */
export function referenceMatches(patterns: readonly RegExp[], familiarRef: string): boolean {
  const name = familiarRef.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  return patterns.some((p) => p.test(familiarRef) || p.test(name));
}
