/**
 * Pure parts of userns-remap: the `/etc/subuid` and `/etc/subgid` files (shadow-utils'
 * subuid(5): `name-or-id:start:count` per line) and the id maps a remapped container gets.
 */
import { InvalidArgument } from '../errdefs/index.js';
import type { OciIdMapping } from '../runtime/index.js';

export interface SubIdRange {
  start: number;
  count: number;
}

/** Every `owner:start:count` line of a subuid/subgid file; comments and malformed lines are skipped. */
export function parseSubIds(text: string): Array<{ owner: string } & SubIdRange> {
  const out: Array<{ owner: string } & SubIdRange> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [owner, start, count] = line.split(':');
    if (!owner || !/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) continue;
    out.push({ owner, start: Number(start), count: Number(count) });
  }
  return out;
}

/** The ranges of `names` (a name and its numeric id both count, as shadow-utils reads them). */
export function rangesOf(entries: ReturnType<typeof parseSubIds>, names: readonly string[]): SubIdRange[] {
  return entries.filter((e) => names.includes(e.owner) && e.count > 0).map(({ start, count }) => ({ start, count }));
}

/**
 * The container-to-host map of a list of ranges, as dockerd builds it (idtools.createIDMap): the
 * ranges in file order, container ids counting up from 0.
 */
export function idMapOf(ranges: readonly SubIdRange[]): OciIdMapping[] {
  const out: OciIdMapping[] = [];
  let next = 0;
  for (const r of ranges) {
    out.push({ containerID: next, hostID: r.start, size: r.count });
    next += r.count;
  }
  return out;
}

/** The first free `count`-sized range at or above 100000 that no line of the file uses (usermod's choice). */
export function freeRange(entries: ReturnType<typeof parseSubIds>, count = 65536): SubIdRange {
  let start = 100000;
  const sorted = [...entries].sort((a, b) => a.start - b.start);
  for (const e of sorted) {
    if (start + count <= e.start) break;
    start = Math.max(start, e.start + e.count);
  }
  return { start, count };
}

/** daemon.json "userns-remap": `default`, `user`, `user:group`, `uid`, `uid:gid`. */
export function parseRemapSpec(spec: string): { user: string; group: string | null } {
  const m = /^([A-Za-z0-9_.][A-Za-z0-9_.-]*\$?)(?::([A-Za-z0-9_.][A-Za-z0-9_.-]*\$?))?$/.exec(spec);
  if (!m) throw new InvalidArgument(`userns-remap "${spec}": use "default" or "user[:group]" (names or ids with ranges in /etc/subuid and /etc/subgid)`);
  return { user: m[1]!, group: m[2] ?? null };
}

/** Container id of host id `id` through `map`, or -1 when it is not mapped. */
export function toContainer(map: readonly OciIdMapping[], id: number): number {
  for (const m of map) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + id - m.hostID;
  return -1;
}

/** The kernel's overflow id (nobody): what an unmapped id shows as. */
export const OVERFLOW_ID = 65534;

/**
 * Owner translations for tars of a remapped container (docker cp, export, commit): host ids to
 * the container's view and back; an id outside the map becomes the overflow id, as the kernel shows it.
 */
export function idMappers(maps: { uidMappings: readonly OciIdMapping[]; gidMappings: readonly OciIdMapping[] }): {
  toContainer: (uid: number, gid: number) => [number, number];
  toHost: (uid: number, gid: number) => [number, number];
} {
  const or = (id: number, fallback: number): number => (id < 0 ? fallback : id);
  const hostOverflow: [number, number] = [or(toHost(maps.uidMappings, OVERFLOW_ID), OVERFLOW_ID), or(toHost(maps.gidMappings, OVERFLOW_ID), OVERFLOW_ID)];
  return {
    toContainer: (uid, gid) => [or(toContainer(maps.uidMappings, uid), OVERFLOW_ID), or(toContainer(maps.gidMappings, gid), OVERFLOW_ID)],
    toHost: (uid, gid) => [or(toHost(maps.uidMappings, uid), hostOverflow[0]), or(toHost(maps.gidMappings, gid), hostOverflow[1])],
  };
}

/** Host id of container id `id` through `map`, or -1 when it is not mapped. */
export function toHost(map: readonly OciIdMapping[], id: number): number {
  for (const m of map) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  return -1;
}
