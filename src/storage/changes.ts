/**
 * What a container's overlay upper dir changed over the image's layers below it:
 * - `changesOf`, for `docker diff`. Kinds as the Docker API numbers them
 *   (ContainerChangeResponseItem): 0 modified, 1 added, 2 deleted. Like Docker, a directory that
 *   exists below and holds changes is reported as modified; all inside an added directory is added.
 * - `hasChanges`, whether a build step's upper dir makes a layer at all;
 * - `tarUpperAsLayer`, for `docker commit`: the upper dir as an image layer tar.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { requireNative } from './sys.js';
import { tarLayerDir } from './tar.js';
import { isOverlayWhiteout, OVERLAY_OPAQUE_XATTR } from '../archive/index.js';

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** Changes of `upperDir` over `lowerDirs` (top first), sorted by path. */
export async function changesOf(upperDir: string, lowerDirs: readonly string[]): Promise<Change[]> {
  const view = new LowerView(lowerDirs);
  const changes: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    const dir = join(upperDir, rel);
    for (const name of await readdir(dir)) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const path = join(upperDir, childRel);
      const st = await lstat(path);
      if (isOverlayWhiteout(st)) {
        // A whiteout of something that was never below (created and deleted here) is no change.
        if (await view.exists(childRel)) changes.push({ Path: '/' + childRel, Kind: 2 });
        continue;
      }
      const below = await view.exists(childRel);
      changes.push({ Path: '/' + childRel, Kind: below ? 0 : 1 });
      if (!st.isDirectory()) continue;
      if (below && isOpaque(path)) {
        // An opaque directory hides all it had below: whatever it does not hold now was deleted.
        const kept = new Set(await readdir(path));
        for (const gone of await view.list(childRel)) {
          if (!kept.has(gone)) changes.push({ Path: `/${childRel}/${gone}`, Kind: 2 });
        }
      }
      await walk(childRel);
    }
  };
  await walk('');
  return changes.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/**
 * Whether `upperDir` changes anything over `lowerDirs`: `changesOf(...).length > 0` without the
 * walk. Any entry other than a whiteout is a change (added, or modified: a copied-up directory
 * holds a change or is one), so only the top level is read, and a top-level whiteout counts when
 * what it hides exists below.
 */
export async function hasChanges(upperDir: string, lowerDirs: readonly string[]): Promise<boolean> {
  const view = new LowerView(lowerDirs);
  for (const name of await readdir(upperDir)) {
    if (!isOverlayWhiteout(await lstat(join(upperDir, name)))) return true;
    if (await view.exists(name)) return true;
  }
  return false;
}

/**
 * The upper dir as an image layer tar (whiteout devices become `.wh.<name>`, opaque directories
 * get `.wh..wh..opq`). Whiteouts of names that exist in no lower dir are left out.
 */
export function tarUpperAsLayer(upperDir: string, lowerDirs: readonly string[], opts: { signal?: AbortSignal; mapIds?: (uid: number, gid: number) => [number, number] } = {}): Readable {
  const view = new LowerView(lowerDirs);
  return tarLayerDir(upperDir, { ...opts, keepWhiteout: (rel) => view.exists(rel) });
}

function isOpaque(path: string): boolean {
  return requireNative('docker diff of an overlay upper dir').lgetxattr(path, OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
}

/** The merged view of a stack of overlay lower dirs (top first), read without mounting it. */
export class LowerView {
  #lowers: readonly string[];

  constructor(lowerDirs: readonly string[]) {
    this.#lowers = lowerDirs;
  }

  /** Whether `rel` is visible through the stack: not whited out, not under an opaque dir or a non-dir. */
  async exists(rel: string): Promise<boolean> {
    const parts = rel.split('/');
    for (const lower of this.#lowers) {
      // Walk down this layer: an ancestor that is a whiteout or a non-directory hides `rel` from
      // here on; an opaque ancestor (or the entry itself, found) ends the search at this layer.
      let path = lower;
      let stop = false;
      for (let i = 0; i < parts.length; i++) {
        path = join(path, parts[i] as string);
        const st = await lstatOrNull(path);
        if (st === null) break;
        if (isOverlayWhiteout(st)) return false;
        if (i === parts.length - 1) return true;
        if (!st.isDirectory()) return false;
        if (isOpaque(path)) stop = true;
      }
      if (stop) return false;
    }
    return false;
  }

  /** The names visible in directory `rel` through the stack. */
  async list(rel: string): Promise<string[]> {
    const seen = new Set<string>();
    const hidden = new Set<string>();
    for (const lower of this.#lowers) {
      const dir = join(lower, rel);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (seen.has(name) || hidden.has(name)) continue;
        const st = await lstat(join(dir, name));
        if (isOverlayWhiteout(st)) hidden.add(name);
        else if (await this.exists(rel === '' ? name : `${rel}/${name}`)) seen.add(name);
      }
      if (isOpaque(dir)) break;
    }
    return [...seen].sort();
  }
}

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
