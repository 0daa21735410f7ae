/**
 * The build cache: step key -> resulting image id, in the metadata database, so it survives
 * restarts. The images are the cached results; an entry whose image was removed is a miss.
 */
import { createHash } from 'node:crypto';
import type { MetadataDb } from '../storage/index.js';

export class BuildCache {
  readonly #db: MetadataDb;

  constructor(db: MetadataDb) {
    this.#db = db;
    db.migrate('build', [
      `CREATE TABLE build_cache (key TEXT PRIMARY KEY, image_id TEXT NOT NULL, created TEXT NOT NULL)`,
      // What a step read last time (file -> hash, arg -> value), by its slot (parent + instruction), to say why it missed.
      `CREATE TABLE build_cache_inputs (slot TEXT PRIMARY KEY, inputs TEXT NOT NULL)`,
    ]);
  }

  get(key: string): string | null {
    const row = this.#db.db.prepare('SELECT image_id FROM build_cache WHERE key = ?').get(key) as { image_id: string } | undefined;
    return row?.image_id ?? null;
  }

  put(key: string, imageId: string): void {
    this.#db.db.prepare('INSERT OR REPLACE INTO build_cache (key, image_id, created) VALUES (?, ?, ?)').run(key, imageId, new Date().toISOString());
  }

  /** The inputs the step in `slot` read when it last ran, or null. */
  inputs(slot: string): Record<string, string> | null {
    const row = this.#db.db.prepare('SELECT inputs FROM build_cache_inputs WHERE slot = ?').get(slot) as { inputs: string } | undefined;
    return row ? JSON.parse(row.inputs) as Record<string, string> : null;
  }

  putInputs(slot: string, inputs: Record<string, string>): void {
    this.#db.db.prepare('INSERT OR REPLACE INTO build_cache_inputs (slot, inputs) VALUES (?, ?)').run(slot, JSON.stringify(inputs));
  }

  /** Every entry, oldest first. */
  list(): Array<{ key: string; imageId: string; created: string }> {
    return (this.#db.db.prepare('SELECT key, image_id, created FROM build_cache ORDER BY created').all() as Array<{ key: string; image_id: string; created: string }>)
      .map((r) => ({ key: r.key, imageId: r.image_id, created: r.created }));
  }

  forget(key: string): void {
    this.#db.db.prepare('DELETE FROM build_cache WHERE key = ?').run(key);
  }
}

/** The key of a step: its parent image, the instruction after substitution, and what else it depends on. */
/**
 * Why a step missed, from what it read last time and now: "file src/a.txt changed", "build arg
 * V changed", or null when nothing it reads differs (then its parent step was rebuilt).
 */
export function missReason(before: Record<string, string> | null, now: Record<string, string>): string | null {
  if (before === null) return null;
  const out: string[] = [];
  const name = (k: string): string => (k.startsWith('arg:') ? `build arg ${k.slice(4)}` : `file ${k.replace(/^file:/, '')}`);
  for (const [k, v] of Object.entries(now)) {
    if (!(k in before)) out.push(`${name(k)} added`);
    else if (before[k] !== v) out.push(`${name(k)} changed`);
  }
  for (const k of Object.keys(before)) if (!(k in now)) out.push(`${name(k)} removed`);
  if (out.length === 0) return null;
  return out.length > 5 ? `${out.slice(0, 5).join(', ')} and ${out.length - 5} more` : out.join(', ');
}

export function stepKey(parts: { parent: string; instruction: string; args: Array<[string, string]>; content?: string }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([parts.parent, parts.instruction, [...parts.args].sort(), parts.content ?? '']));
  return h.digest('hex');
}
