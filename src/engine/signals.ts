import { constants } from 'node:os';
import { InvalidArgument } from '../errdefs/index.js';

const byNumber = new Map<number, string>(
  Object.entries(constants.signals).map(([name, n]) => [n, name] as [number, string]),
);

/**
 * Parses a signal as docker accepts it: `SIGTERM`, `TERM`, `term`, `15`, `SIGRTMIN+3`.
 * Returns the number; InvalidArgument names the bad value.
 */
export function parseSignal(value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = v.toUpperCase().startsWith('SIG') ? v.toUpperCase() : `SIG${v.toUpperCase()}`;
    const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(name);
    if (rt) {
      const base = rt[1] === 'IN' ? 34 : 64;
      const n = base + Number(rt[2] ?? 0);
      if (n >= 34 && n <= 64) return n;
    }
    const n = (constants.signals as Record<string, number>)[name];
    if (n !== undefined) return n;
  }
  throw new InvalidArgument(`Invalid signal: ${value}`);
}

export function signalName(n: number): string {
  return byNumber.get(n) ?? String(n);
}
