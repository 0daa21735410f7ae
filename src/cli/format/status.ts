/**
 * Container status strings and ids as docker shows them (moby container/state.go State.String,
 * moby pkg/stringid).
 */

import { randomBytes } from 'node:crypto';
import { humanDuration } from './units.js';

export interface ContainerStatusInput {
  running?: boolean;
  paused?: boolean;
  restarting?: boolean;
  dead?: boolean;
  removing?: boolean;
  exitCode?: number;
  /** ISO string, Date or ms; Go's zero time ("0001-01-01T00:00:00Z") and empty mean "never". */
  startedAt?: string | Date | number;
  finishedAt?: string | Date | number;
  /** 'starting' | 'healthy' | 'unhealthy' | 'none' */
  health?: string;
}

function timeOf(t: string | Date | number | undefined): number | undefined {
  if (t === undefined || t === '') return undefined;
  const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime();
  return Number.isNaN(ms) || ms <= 0 ? undefined : ms;
}

/** "Up 5 minutes", "Up 2 minutes (Paused)", "Up 1 second (healthy)", "Exited (0) 3 seconds ago", "Created". */
export function containerStatus(s: ContainerStatusInput, now: number = Date.now()): string {
  const started = timeOf(s.startedAt);
  const finished = timeOf(s.finishedAt);
  if (s.running) {
    const up = humanDuration(now - (started ?? now));
    if (s.paused) return `Up ${up} (Paused)`;
    if (s.restarting) return `Restarting (${s.exitCode ?? 0}) ${humanDuration(now - (finished ?? now))} ago`;
    if (s.health && s.health !== 'none') return `Up ${up} (${s.health === 'starting' ? 'health: starting' : s.health})`;
    return `Up ${up}`;
  }
  if (s.removing) return 'Removal In Progress';
  if (s.dead) return 'Dead';
  if (started === undefined) return 'Created';
  if (finished === undefined) return '';
  return `Exited (${s.exitCode ?? 0}) ${humanDuration(now - finished)} ago`;
}

/** The 12-character id docker shows; a "sha256:" style prefix is dropped (stringid.TruncateID). */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const bare = colon >= 0 ? id.slice(colon + 1) : id;
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

/** A new 64-hex id whose short form is never all digits (docker avoids ids that parse as numbers). */
export function generateId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

/** A full 64-hex id. */
export function isFullId(id: string): boolean {
  return /^[a-f0-9]{64}$/.test(id);
}

/** A 12-hex short id. */
export function isShortId(id: string): boolean {
  return /^[a-f0-9]{12}$/.test(id);
}
