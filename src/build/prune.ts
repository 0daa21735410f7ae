/**
 * `builder prune`: reclaims build cache entries (and the intermediate images that only they
 * kept) and `RUN --mount=type=cache` directories. Without `all`, only entries no tagged image is
 * built on; `until` keeps what is newer; `keepStorage` stops once the cache fits in that many bytes.
 */
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Json } from '../engine/contract.js';
import type { BuildCache } from './cache.js';
import type { CacheMounts } from './mounts.js';

export interface PruneOptions {
  all?: boolean;
  /** Only what was created before this time (ms since the epoch). */
  until?: number;
  /** Keep this many bytes of cache (oldest goes first). */
  keepStorage?: number;
}

export interface PruneDeps {
  cache: BuildCache;
  mounts: CacheMounts;
  images: {
    list(opts: { all?: boolean }): Promise<Json[]>;
    remove(ref: string, opts: { force?: boolean; noprune?: boolean }): Promise<Json[]>;
  };
}

interface Item { id: string; created: number; size: number; drop: () => Promise<boolean> }

export async function pruneBuildCache(d: PruneDeps, o: PruneOptions): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
  const until = o.until;
  const images = new Map<string, Json>();
  for (const img of await d.images.list({ all: true })) images.set(String(img.Id), img);
  // Images a tagged image is built on (and the tagged ones) are in use: their layers stay anyway.
  const inUse = new Set<string>();
  for (const img of images.values()) {
    const tags = ((img.RepoTags as string[] | null) ?? []).filter((t) => t !== '<none>:<none>');
    if (tags.length === 0 && Number(img.Containers ?? 0) <= 0) continue;
    for (let id: string | undefined = String(img.Id); id && !inUse.has(id); id = String(images.get(id)?.ParentId ?? '') || undefined) inUse.add(id);
  }
  const sizeOf = (id: string): number => {
    const img = images.get(id);
    if (!img) return 0;
    const parent = images.get(String(img.ParentId ?? ''));
    return Math.max(0, Number(img.Size ?? 0) - Number(parent?.Size ?? 0));
  };
  const items: Item[] = [];
  let total = 0;
  for (const row of d.cache.list()) {
    const created = Date.parse(row.created);
    const exists = images.has(row.imageId);
    const size = exists && !inUse.has(row.imageId) ? sizeOf(row.imageId) : 0;
    total += size;
    if (exists && inUse.has(row.imageId) && !o.all) continue;
    items.push({
      id: row.key, created, size,
      drop: async () => {
        d.cache.forget(row.key);
        if (!exists || inUse.has(row.imageId)) return false;
        try {
          await d.images.remove(row.imageId, {});
          return true;
        } catch {
          return false; // still a parent of another image or used by a container: the layers stay
        }
      },
    });
  }
  for (const name of await d.mounts.list()) {
    const dir = join(d.mounts.root, name);
    const st = await stat(dir).catch(() => null);
    if (!st) continue;
    const size = await du(dir);
    total += size;
    if (d.mounts.inUse(name)) continue;
    items.push({ id: `cachemount:${name}`, created: st.mtimeMs, size, drop: async () => { await rm(dir, { recursive: true, force: true }); return true; } });
  }
  // Newest first, so that a child image goes before the parent it stacks on.
  const chosen = items.filter((i) => until === undefined || i.created < until).sort((a, b) => b.created - a.created);
  if (o.keepStorage !== undefined) chosen.reverse(); // oldest first, stopping when the cache fits
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const it of chosen) {
    if (o.keepStorage !== undefined && total <= o.keepStorage) break;
    if (await it.drop()) { reclaimed += it.size; total -= it.size; }
    deleted.push(it.id);
  }
  return { CachesDeleted: deleted, SpaceReclaimed: reclaimed };
}

async function du(path: string): Promise<number> {
  const st = await lstat(path).catch(() => null);
  if (!st) return 0;
  if (!st.isDirectory()) return st.blocks * 512;
  let n = st.blocks * 512;
  for (const name of await readdir(path).catch(() => [] as string[])) n += await du(join(path, name));
  return n;
}
