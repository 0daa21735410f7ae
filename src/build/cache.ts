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

/**
 * The version of how the builder computes a step's result, part of every step key. A step's key
 * says what it read (parent, instruction, args, content), not how hako turned that into an image,
 * so a cache entry made by an older hako would keep serving what that hako computed. Bump it in
 * the change that makes the builder compute a step differently from the same inputs (a different
 * image config, layer content or history for the same step), so that an upgrade rebuilds instead
 * of serving stale results; the old entries are then never hit and go with `builder prune`.
 * Not for changes that only alter the inputs: those already change the keys.
 *
 * 1: the keys of hako before versioning (no version field).
 * 2: a stage whose base image sets no PATH gets Docker's default PATH (executor's beginStage);
 *    config-only steps (ENV, ARG, LABEL …) cached before kept a config without it.
 */
export const BUILDER_CACHE_VERSION = 2;

/** The key of a step: the builder's version, its parent image, the instruction after substitution, and what else it depends on. */
export function stepKey(parts: { parent: string; instruction: string; args: Array<[string, string]>; content?: string }, version: number = BUILDER_CACHE_VERSION): string {
  const fields = [parts.parent, parts.instruction, [...parts.args].sort(), parts.content ?? ''];
  return createHash('sha256').update(JSON.stringify(version === 1 ? fields : [version, ...fields])).digest('hex');
}
