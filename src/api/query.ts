/**
 * Query-string decoding with Docker's conventions: booleans written 1/true/True/0/false, integers,
 * and the `filters` JSON in both its current ({"a":["b"]}) and pre-1.22 ({"a":{"b":true}}) forms.
 * Bad values are InvalidArgument errors that name the parameter.
 */
import { InvalidArgument } from '../errdefs/index.js';
import type { Filters } from '../engine/contract.js';

export const EMPTY_QUERY: URLSearchParams = new URLSearchParams();

/** Absent or empty -> `fallback`. Docker's httputils.BoolValue also treats "" as false. */
export function boolParam(query: URLSearchParams, name: string, fallback = false): boolean {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  switch (raw) {
    case '1': case 'true': case 'True': case 'TRUE': case 't': case 'T': case 'yes':
      return true;
    case '0': case 'false': case 'False': case 'FALSE': case 'f': case 'F': case 'no':
      return false;
  }
  throw new InvalidArgument(`invalid value for query parameter "${name}": "${raw}" (use true/false or 1/0)`);
}

/** Absent or empty -> undefined. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new InvalidArgument(`invalid value for query parameter "${name}": "${raw}" is not an integer`);
  return Number(raw);
}

/** Unix seconds, possibly fractional (logs since/until); absent -> 0. */
export function secondsParam(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new InvalidArgument(`invalid value for query parameter "${name}": "${raw}" is not a unix timestamp`);
  return n;
}

export function stringParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  return raw === null || raw === '' ? undefined : raw;
}

export function requiredParam(query: URLSearchParams, name: string): string {
  const raw = query.get(name);
  if (raw === null || raw === '') throw new InvalidArgument(`query parameter "${name}" is required`);
  return raw;
}

/** Decodes `filters`: {"status":["running"]} or the old {"status":{"running":true}}. */
export function filtersParam(query: URLSearchParams): Filters {
  const raw = query.get('filters');
  if (raw === null || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new InvalidArgument(`invalid filters ${JSON.stringify(raw)}: ${(err as Error).message}`);
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgument(`invalid filters ${JSON.stringify(raw)}: expected a JSON object such as {"label":["a=b"]}`);
  }
  const filters: Filters = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      filters[key] = value as string[];
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // Pre-1.22 form: {"key": {"value": true}}; only the true entries count.
      filters[key] = Object.entries(value as Record<string, unknown>).filter(([, on]) => on === true).map(([v]) => v);
    } else {
      throw new InvalidArgument(`invalid filter "${key}": expected a list of strings, got ${JSON.stringify(value)}`);
    }
  }
  return filters;
}
